"""Helpers shared by the asset factories: keys, column metadata, previews, partitions, checks."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Iterator, Mapping

import duckdb
from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MetadataValue,
    Output,
    TableColumn,
    TableSchema,
)

from bank_assets.contracts import Contract
from bank_assets.lakehouse.profile import is_lakehouse
from bank_assets.partitions import monthly_partitions, partition_month

OWNER = "team:data-platform"
WAREHOUSE_POOL = "duckdb_warehouse"  # every step writing the DuckDB file; limit 1 in dagster.yaml
#: Pools by profile. Embedded: every warehouse step shares the DuckDB file's single writer. Lakehouse
#: (DuckLake takes concurrent writers): ingest and reports take no pool; gold takes `gold_months`,
#: limit 1 (deploy/lakehouse/dagster.yaml), so gold runs go one at a time, in the order they were
#: queued (month M's SCD2 versions and snapshots read month M-1's).
INGEST_POOL = None if is_lakehouse() else WAREHOUSE_POOL
GOLD_POOL = "gold_months" if is_lakehouse() else WAREHOUSE_POOL
REPORTS_POOL = None if is_lakehouse() else WAREHOUSE_POOL
#: Every asset takes a range of months in ONE run (a UI backfill, `dagster asset materialize
#: --partition-range`): the step walks the months in order and records each month's metadata and
#: check results on that month's partition.
SINGLE_RUN = BackfillPolicy.single_run()
#: Landing, bronze and silver. On the lakehouse profile (DuckLake takes concurrent writers of
#: different months) a backfill runs one month per run, so months load side by side on several
#: workers; gold keeps SINGLE_RUN and its month order (bank_assets.assets.gold).
INGEST_BACKFILL = BackfillPolicy.multi_run(1) if is_lakehouse() else SINGLE_RUN


def key(layer: str, table: str) -> AssetKey:
    return AssetKey([layer, table])


def column_schema(contract: Contract, extra: list[TableColumn] | None = None, all_text: bool = False) -> TableSchema:
    cols = [
        TableColumn(
            name=c.name,
            type="VARCHAR" if all_text else c.sql_type,
            description=c.description + (" [PII]" if c.pii else ""),
            tags={"pii": ""} if c.pii else {},
        )
        for c in contract.columns
    ]
    return TableSchema(columns=cols + (extra or []))


def partition_keys(context: AssetExecutionContext) -> list[str]:
    """The months of this run, oldest first (one for a partition run, several for a range)."""
    return sorted(context.partition_keys)


def months_of(context: AssetExecutionContext) -> list[tuple[str, dt.date]]:
    """(partition key, first day of the month) for every month of the run, oldest first."""
    return [(k, partition_month(k)) for k in partition_keys(context)]


def partitioned_check_spec(
    name: str,
    asset_key: AssetKey,
    description: str | None,
    blocking: bool,
    additional_deps: Iterable[AssetDep] = (),
    metadata: Mapping[str, object] | None = None,
) -> AssetCheckSpec:
    """A check recorded on the month it checked (Dagster marks partitioned checks as preview).
    Silver's contract checks and dagster-dbt's test specs are both built here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AssetCheckSpec(
            name,
            asset=asset_key,
            description=description,
            blocking=blocking,
            additional_deps=additional_deps,
            metadata=metadata,
            partitions_def=monthly_partitions,
        )


def check_evaluation(
    asset_key: AssetKey,
    name: str,
    partition: str,
    passed: bool,
    severity: str,
    blocking: bool,
    metadata: Mapping[str, object],
    description: str | None = None,
) -> AssetCheckEvaluation:
    """One check result on one month's partition (an AssetCheckResult cannot name a partition
    inside a range run; the evaluation event can, and is what Dagster stores)."""
    return AssetCheckEvaluation(
        asset_key=asset_key,
        check_name=name,
        passed=passed,
        severity=AssetCheckSeverity.ERROR if severity == "ERROR" else AssetCheckSeverity.WARN,
        blocking=blocking,
        partition=partition,
        description=description,
        metadata={k: (MetadataValue.json(v) if isinstance(v, (dict, list)) else v) for k, v in metadata.items()},
    )


def check_outputs(context: AssetExecutionContext) -> Iterator[Output]:
    """The step's check outputs, yielded once the months' evaluations were recorded (Dagster
    requires an output per selected check; the evaluations carry the results)."""
    names = {spec.key: name for name, spec in context.assets_def.check_specs_by_output_name.items()}
    for check_key in sorted(context.selected_asset_check_keys, key=str):
        yield Output(None, output_name=names[check_key])


def run_started_at(context: AssetExecutionContext) -> dt.datetime:
    """The run's creation time from Dagster (bronze's _ingested_at), not the SQL engine's clock."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    ts = record.create_timestamp if record else dt.datetime.now(dt.UTC)
    return ts.astimezone(dt.UTC).replace(tzinfo=None)


def _cell(value: object) -> str:
    """A value as one markdown table cell: a pipe or a line break in it cannot end the cell or row."""
    return "" if value is None else str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def preview(
    con: duckdb.DuckDBPyConnection, contract: Contract, sql: str, params: dict | None = None, limit: int = 5
) -> MetadataValue:
    """A small markdown table of the first rows, with the contract's PII columns masked. Values as
    the warehouse holds them (a DECIMAL keeps its scale, a DATE has no time), NULL as an empty cell."""
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {limit}", params or {})
    columns = [d[0] for d in cur.description]
    records = cur.fetchall()
    if not records:
        return MetadataValue.md("_no rows_")
    masked = {i for i, c in enumerate(columns) if c in contract.pii_columns}
    header = "| " + " | ".join(columns) + " |"
    sep = "| " + " | ".join("---" for _ in columns) + " |"
    rows = ["| " + " | ".join("•••" if i in masked else _cell(v) for i, v in enumerate(r)) + " |" for r in records]
    return MetadataValue.md("\n".join([header, sep, *rows]))
