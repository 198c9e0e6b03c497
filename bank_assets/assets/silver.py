"""Silver assets: typed, standardized, deduplicated, quarantined; published only if audited.

Write-audit-publish: the partition is built in connection-local staging tables, the contract's
checks run against them, and only when every blocking check passes is it swapped into
silver.<table> (one transaction). A failed blocking check fails the step, so downstream assets
do not run and readers keep seeing the previous partition.
"""

import datetime as dt

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    asset,
)

from bank_assets.assets.bronze import LINEAGE
from bank_assets.assets.common import OWNER, WAREHOUSE_POOL, column_schema, key, month_of, preview
from bank_assets.contracts import CONTRACTS, Contract, parents
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import Warehouse
from bank_assets.warehouse import audit, silver


class SilverConfig(Config):
    """Run config for silver assets."""

    deduplicate: bool = True  # False: keep re-sent rows, so the key_unique check blocks the month


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
    specs = audit.check_specs(contract)
    extra = [
        TableColumn(c, "DECIMAL(18,2)", description="Amount converted to PEN with fx_rates.")
        for c in silver.money_pen_columns(contract)
    ]

    @asset(
        key=asset_key,
        deps=[key("bronze", name), *[key("silver", p) for p in parents(contract)]],
        partitions_def=monthly_partitions if contract.is_monthly else None,
        group_name="silver",
        kinds={"duckdb"},
        owners=[OWNER],
        pool=WAREHOUSE_POOL,
        check_specs=[
            AssetCheckSpec(s.name, asset=asset_key, description=s.description, blocking=s.blocking) for s in specs
        ],
        description=f"silver.{name}: {contract.description} Typed by contract, deduplicated on "
        f"({', '.join(contract.key)}) keeping the last re-sent row; rejected rows in "
        f"silver.{name}_rejects with a reason code.",
        metadata={
            "dagster/column_schema": column_schema(contract, extra + LINEAGE[:1] + LINEAGE[1:]),
            "dagster/table_name": f"silver.{name}",
            "business_key": ", ".join(contract.key),
            "pii_columns": ", ".join(contract.pii_columns) or "none",
        },
    )
    def _silver(context: AssetExecutionContext, config: SilverConfig, warehouse: Warehouse):
        month = month_of(context, contract)
        label = f"{month:%Y-%m}" if month else "reference"
        with warehouse.connect(log=context.log.warning) as con:
            silver.stage(con, contract, month, deduplicate=config.deduplicate)
            outcomes = audit.run_checks(con, contract, month)
            results = [
                AssetCheckResult(
                    check_name=o.name,
                    passed=o.passed,
                    severity=AssetCheckSeverity.ERROR if o.severity == "ERROR" else AssetCheckSeverity.WARN,
                    metadata={k: (MetadataValue.json(v) if isinstance(v, dict) else v) for k, v in o.metadata.items()},
                )
                for o in outcomes
            ]
            blocked = [o for o in outcomes if o.blocking and not o.passed]
            if blocked:
                yield from results
                raise Failure(
                    description=f"silver.{name} {label}: blocking checks failed: "
                    + "; ".join(f"{o.name} {o.metadata}" for o in blocked)
                    + ". The partition was NOT published: readers still see the previous data.",
                )
            counts = next(o.metadata for o in outcomes if o.name == "reconciles_with_bronze")
            stats = {k: int(counts[k]) for k in ("bronze_rows", "silver_rows", "duplicates_removed", "rejects")}
            silver.publish(con, contract, month, stats)
            where = "_partition_month = $m" if month else "true"
            params = {"m": month} if month else {}
            reasons = dict(
                con.execute(
                    f"SELECT reason_code, count(*) FROM silver.{name}_rejects WHERE {where} GROUP BY 1 ORDER BY 1",
                    params,
                ).fetchall()
            )
            sample = preview(con, f"SELECT * FROM silver.{name} WHERE {where}", params)
            plot = daily_plot(con, contract, month) if month and contract.event_column else None
        yield MaterializeResult(
            metadata={
                "dagster/row_count": stats["silver_rows"],
                **stats,
                "rejects_by_reason": MetadataValue.json(reasons),
                "partition": label,
                "preview": sample,
                **({"rows_per_day": plot} if plot else {}),
            },
            check_results=results,
        )

    return _silver


silver_assets = [build_silver_asset(c) for c in CONTRACTS.values()]
