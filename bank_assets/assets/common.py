"""Helpers shared by the asset factories: keys, column metadata, previews, partition dates."""

from __future__ import annotations

import datetime as dt

import duckdb
from dagster import AssetExecutionContext, AssetKey, MetadataValue, TableColumn, TableSchema

from bank_assets.contracts import Contract
from bank_assets.partitions import partition_month

OWNER = "team:data-platform"
WAREHOUSE_POOL = "duckdb_warehouse"  # every step writing the DuckDB file; limit 1 in dagster.yaml


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


def month_of(context: AssetExecutionContext, contract: Contract) -> dt.date | None:
    """The partition month of a monthly table; None for reference tables (even inside a
    partitioned run, whose partition key does not apply to unpartitioned assets)."""
    return partition_month(context.partition_key) if contract.is_monthly else None


def run_started_at(context: AssetExecutionContext) -> dt.datetime:
    """The run's creation time from Dagster (bronze's _ingested_at), not the SQL engine's clock."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    ts = record.create_timestamp if record else dt.datetime.now(dt.UTC)
    return ts.astimezone(dt.UTC).replace(tzinfo=None)


def preview(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None, limit: int = 5) -> MetadataValue:
    """A small markdown table of the first rows."""
    df = con.execute(f"SELECT * FROM ({sql}) LIMIT {limit}", params or {}).df()
    if df.empty:
        return MetadataValue.md("_no rows_")
    header = "| " + " | ".join(df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return MetadataValue.md("\n".join([header, sep, *rows]))
