"""Bronze assets, built by one factory from the contracts: each landing file loaded as-is."""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    asset,
)

from bank_assets.assets.atomic import atomic_step
from bank_assets.assets.common import (
    INGEST_BACKFILL,
    INGEST_POOL,
    OWNER,
    column_schema,
    key,
    months_of,
    preview,
    run_started_at,
)
from bank_assets.contracts import CONTRACTS, Contract
from bank_assets.layout import expected_files, resolve_landing_files
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import LandingZone, Warehouse
from bank_assets.source_profile import active_profile
from bank_assets.warehouse import bronze

#: metadata key of a re-delivered month's comparison with what it replaced
RESTATEMENT_KEY = "restatement"


def describe_restatement(diff: dict[str, int] | None) -> str:
    return ", ".join(f"{v:,} {k.removeprefix('rows_')}" for k, v in (diff or {}).items()) + " rows"


LINEAGE = [
    TableColumn("_source_file", "VARCHAR", description="Landing file the row came from."),
    TableColumn("_source_row", "BIGINT", description="1-based data row in that file (a header row excluded)."),
    TableColumn("_ingested_at", "TIMESTAMP", description="Start time of the Dagster run that loaded it."),
    TableColumn("_partition_month", "DATE", description="First day of the partition month."),
]


class BronzeConfig(Config):
    """Run config for bronze assets."""

    #: Load a month whose file is empty (header only) or whose row count fell below 10 % of the
    #: trailing months' mean. Refused by default: such a file is far more often a broken export
    #: than a real month.
    allow_empty_or_collapsed_month: bool = False
    #: Load a month that bronze loaded before under another source profile (BANK_SOURCE_PROFILE
    #: or its file changed). Refused by default, so that a profile edit never silently re-reads
    #: months already published.
    accept_new_profile: bool = False


def build_bronze_asset(contract: Contract) -> AssetsDefinition:
    name = contract.name

    @asset(
        key=key("bronze", name),
        deps=[key("landing", name)],
        partitions_def=monthly_partitions,
        backfill_policy=INGEST_BACKFILL,
        group_name="bronze",
        kinds={"duckdb"},
        owners=[OWNER],
        pool=INGEST_POOL,
        description=f"bronze.{name}: the month's landing files as delivered, every column text under the "
        "contract's names (read as the source profile declares them), plus lineage columns. "
        "A re-run replaces the month's partition atomically.",
        metadata={
            "dagster/column_schema": column_schema(contract, LINEAGE, all_text=True),
            "dagster/table_name": f"bronze.{name}",
        },
    )
    def _bronze(
        context: AssetExecutionContext, config: BronzeConfig, warehouse: Warehouse, landing: LandingZone
    ) -> MaterializeResult:
        root = Path(landing.resolved_root)
        ingested_at = run_started_at(context)
        profile = active_profile()
        with warehouse.connect(log=context.log.warning) as con, atomic_step(context, con) as journal:
            for pk, month in months_of(context):
                paths = resolve_landing_files(root, name, f"{month:%Y-%m}", profile.table(name))
                if not paths:
                    raise FileNotFoundError(
                        f"bronze.{name} {month:%Y-%m}: landing file {expected_files(root, name, f'{month:%Y-%m}')} "
                        f"is missing (source profile {profile.name}); materialize the landing asset for that month "
                        "first"
                    )
                for path in paths:
                    bronze.check_landing_path(root, path)
                result = bronze.load(
                    con,
                    contract,
                    paths,
                    month,
                    ingested_at,
                    save=journal.save,
                    profile=profile,
                    allow_empty=config.allow_empty_or_collapsed_month,
                    accept_new_profile=config.accept_new_profile,
                )
                sample = preview(
                    con, contract, f"SELECT * FROM bronze.{name} WHERE _partition_month = $m", {"m": month}
                )
                redelivery = {}
                later = bronze.published_after(con, month) if result.restated else []
                if result.restatement is not None:
                    # RESTATEMENT_KEY: read by the CLI, which then rebuilds the later months
                    diff = {**result.restatement, "restated": result.restated, "later_months_to_rebuild": later}
                    redelivery = {RESTATEMENT_KEY: MetadataValue.json(diff)}
                context.add_asset_metadata(
                    {
                        "dagster/row_count": result.rows,
                        "source_file": MetadataValue.path(result.path),
                        "source_profile": profile.label,
                        "preview": sample,
                        **redelivery,
                    },
                    partition_key=pk,
                )
                context.log.info(f"bronze.{name} {month:%Y-%m}: {result.rows:,} rows from {result.path}")
                if result.restated:
                    context.log.warning(
                        f"bronze.{name} {month:%Y-%m} RESTATED: {describe_restatement(result.restatement)} "
                        "against the month published before; "
                        + (
                            f"the published months after it read it: rebuild {later[0]}..{later[-1]} "
                            "(python -m bank_assets.run does it on its own; in the UI, a backfill of that range)"
                            if later
                            else "no later month is published"
                        )
                    )
        return MaterializeResult()

    return _bronze


bronze_assets = [build_bronze_asset(c) for c in CONTRACTS.values()]
