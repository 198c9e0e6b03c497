"""Silver assets: typed, standardized, deduplicated, quarantined; published only if audited.

Write-audit-publish: the partition is built in connection-local staging tables, the contract's
rules are checked against them (one Dagster check a table, ``contract``, naming each rule with
its count: bank_assets.warehouse.audit), and only when every blocking rule passes is it swapped
into silver.<table> (one transaction). A failed blocking rule fails the step, so downstream
assets do not run and readers keep seeing the previous partition. In a run over several months
the months are processed in order, each published on its own; every check result is recorded on
the month it checked.
"""

import datetime as dt

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    asset,
)

from bank_assets.assets.atomic import atomic_step
from bank_assets.assets.bronze import LINEAGE
from bank_assets.assets.common import (
    INGEST_BACKFILL,
    INGEST_POOL,
    OWNER,
    check_evaluation,
    check_outputs,
    column_schema,
    key,
    months_of,
    partitioned_check_spec,
    preview,
)
from bank_assets.contracts import CONTRACTS, Contract, parents
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import Warehouse
from bank_assets.warehouse import audit, silver


class SilverConfig(Config):
    """Run config for silver assets."""

    deduplicate: bool = True  # False: keep re-sent rows, so the contract check's key_unique rule blocks the month


BARS = "▁▂▃▄▅▆▇█"


def daily_plot(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date) -> MetadataValue | None:
    """Rows per day of the partition as a one-line bar chart (renders anywhere in the UI)."""
    rows = con.execute(
        f'SELECT CAST("{contract.event_column}" AS DATE) AS d, count(*) FROM silver.{contract.name} '
        "WHERE _partition_month = $m GROUP BY 1 ORDER BY 1",
        {"m": month},
    ).fetchall()
    if len(rows) < 2:
        return None
    top = max(n for _, n in rows)
    bars = "".join(BARS[min(len(BARS) - 1, n * len(BARS) // (top + 1))] for _, n in rows)
    return MetadataValue.md(
        f"`{bars}`  \n{rows[0][0]} .. {rows[-1][0]}: min {min(n for _, n in rows):,}, max {top:,} rows a day"
    )


def build_silver_asset(contract: Contract) -> AssetsDefinition:
    name = contract.name
    asset_key = key("silver", name)
    spec = audit.check_spec(contract)
    extra = (
        [
            TableColumn(c, "DECIMAL(18,2)", description="Amount converted to PEN with fx_rates.")
            for c in silver.money_pen_columns(contract)
        ]
        + [
            TableColumn(
                silver.parent_status_column(c),
                "VARCHAR",
                description=f"How {c.name} found its parent {c.references}: VALID, QUARANTINED (the parent's row was "
                "quarantined) or EARLIER_MONTH (seen only in an earlier month); see the README, referential integrity.",
            )
            for c in contract.foreign_keys
        ]
        + [TableColumn(p.name, "VARCHAR", description=p.description) for p in contract.pseudonyms]
    )

    @asset(
        key=asset_key,
        deps=[key("bronze", name), *[key("silver", p) for p in parents(contract)]],
        partitions_def=monthly_partitions,
        backfill_policy=INGEST_BACKFILL,
        group_name="silver",
        kinds={"duckdb"},
        owners=[OWNER],
        pool=INGEST_POOL,
        check_specs=[partitioned_check_spec(spec.name, asset_key, spec.description, spec.blocking)],
        description=f"silver.{name}: {contract.description} Typed by contract, deduplicated on "
        f"({', '.join(contract.key)}) keeping the last re-sent row; rejected rows in "
        f"silver.{name}_rejects with a reason code.",
        metadata={
            "dagster/column_schema": column_schema(contract, extra + LINEAGE),
            "dagster/table_name": f"silver.{name}",
            "business_key": ", ".join(contract.key),
            "pii_columns": ", ".join(contract.pii_columns) or "none",
        },
    )
    def _silver(context: AssetExecutionContext, config: SilverConfig, warehouse: Warehouse):
        with warehouse.connect(log=context.log.warning) as con, atomic_step(context, con) as journal:
            for pk, month in months_of(context):
                label = f"{month:%Y-%m}"
                silver.stage(con, contract, month, deduplicate=config.deduplicate)
                outcomes = audit.run_checks(con, contract, month)
                o = audit.merged(outcomes)
                yield check_evaluation(
                    asset_key, o.name, pk, o.passed, o.severity, o.blocking, o.metadata, o.description
                )
                blocked = [o for o in outcomes if o.blocking and not o.passed]
                if blocked:
                    raise Failure(
                        description=f"silver.{name} {label} was NOT published: blocking check(s) failed: "
                        + "; ".join(f"{o.name} {audit.describe(o.metadata)}" for o in blocked)
                        + ".",
                        metadata={"partition": label, "failed_checks": ", ".join(o.name for o in blocked)},
                    )
                counts = next(o.metadata for o in outcomes if o.name == "reconciles_with_bronze")
                stats = {k: int(counts[k]) for k in ("bronze_rows", "silver_rows", "duplicates_removed", "rejects")}
                silver.publish(con, contract, month, stats, save=journal.save)
                params = {"m": month}
                reasons = dict(
                    con.execute(
                        f"SELECT reason_code, count(*) FROM silver.{name}_rejects WHERE _partition_month = $m "
                        "GROUP BY 1 ORDER BY 1",
                        params,
                    ).fetchall()
                )
                plot = daily_plot(con, contract, month) if contract.event_column else None
                context.add_asset_metadata(
                    {
                        "dagster/row_count": stats["silver_rows"],
                        **stats,
                        "rejects_by_reason": MetadataValue.json(reasons),
                        "preview": preview(
                            con, contract, f"SELECT * FROM silver.{name} WHERE _partition_month = $m", params
                        ),
                        **({"rows_per_day": plot} if plot else {}),
                    },
                    partition_key=pk,
                )
                context.log.info(
                    f"silver.{name} {label}: {stats['silver_rows']:,} rows, {stats['rejects']:,} rejects, "
                    f"{stats['duplicates_removed']:,} duplicates removed"
                )
        yield MaterializeResult()
        yield from check_outputs(context)

    return _silver


silver_assets = [build_silver_asset(c) for c in CONTRACTS.values()]
