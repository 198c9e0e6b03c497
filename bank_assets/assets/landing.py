"""Landing assets: one per source table, producing that month's landing file.

With the landing zone in "generate" mode the synthetic generator writes the file; in "files"
mode (BANK_LANDING_MODE=files) the asset only checks that your export is there and describes it,
so bronze reads your data instead.
"""

import json
from pathlib import Path

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from bank_assets.assets.common import OWNER, column_schema, key
from bank_assets.contracts import CONTRACTS, MONTHLY_TABLES, REFERENCE_TABLES
from bank_assets.layout import landing_file, manifest_file
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import LandingZone
from bank_assets.synthetic import World, write_table
from bank_assets.synthetic.months import parse_month


def _spec(table: str, partitioned: bool) -> AssetSpec:
    c = CONTRACTS[table]
    where = f"landing/{table}/<YYYY-MM>/{table}.csv" if partitioned else f"landing/reference/{table}.csv"
    return AssetSpec(
        key=key("landing", table),
        description=f"{c.description} Landing file `{where}` (UTF-8 CSV with header).",
        group_name="landing",
        kinds={"csv"},
        owners=[OWNER],
        skippable=True,
        partitions_def=monthly_partitions if partitioned else None,
        metadata={"dagster/column_schema": column_schema(c, all_text=True), "grain": c.grain},
    )


def _describe(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(
            f"landing file {path} is missing. In BANK_LANDING_MODE=files, drop your export there "
            f"(see README, 'Landing zone contract'); or use mode 'generate' for synthetic data."
        )
    with path.open("rb") as f:
        rows = max(sum(1 for _ in f) - 1, 0)
    meta: dict = {"path": MetadataValue.path(str(path)), "rows": rows, "bytes": path.stat().st_size}
    manifest = manifest_file(path)
    if manifest.exists():
        meta["injected_defects"] = MetadataValue.json(json.loads(manifest.read_text())["defects"])
    return meta


def _materialize(context: AssetExecutionContext, landing: LandingZone, tables: list[str], month: str | None):
    root = Path(landing.resolved_root)
    world = World(landing.generator_config()) if landing.mode == "generate" else None
    for table in tables:
        if not context.selected_asset_keys or key("landing", table) in context.selected_asset_keys:
            path = landing_file(root, table, month)
            if world is not None:
                w = write_table(world, table, parse_month(month) if month else None, root)
                context.log.info(f"generated {w.rows:,} rows into {w.path}")
            yield MaterializeResult(asset_key=key("landing", table), metadata=_describe(path))


@multi_asset(
    name="landing_monthly_files",
    specs=[_spec(t, True) for t in MONTHLY_TABLES],
    partitions_def=monthly_partitions,
    can_subset=True,
)
def landing_monthly_files(context: AssetExecutionContext, landing: LandingZone):
    """This month's landing files (generated, or your exports in files mode)."""
    yield from _materialize(context, landing, MONTHLY_TABLES, context.partition_key[:7])


@multi_asset(
    name="landing_reference_files",
    specs=[_spec(t, False) for t in REFERENCE_TABLES],
    can_subset=True,
)
def landing_reference_files(context: AssetExecutionContext, landing: LandingZone):
    """Reference landing files (merchants, branches): one current file each."""
    yield from _materialize(context, landing, REFERENCE_TABLES, None)
