"""Open exports: every gold table as Parquet, ``<table>/year=YYYY/month=MM/data.parquet`` (zstd).

The read path for BI tools, notebooks and other engines while pipelines run: readers never open
the DuckDB file. A month is written into a staging folder beside the exports, checked for PII,
then each file is moved into place with ``os.replace`` (atomic on one file system): a reader sees
a month's previous file or its new one, never a partial file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bank_assets.contracts import CONTRACTS
from bank_assets.warehouse.threads import map_on_connections

#: Column names that would be PII (every contract column flagged pii). Gold drops them in staging.
PII_COLUMNS = frozenset(c for contract in CONTRACTS.values() for c in contract.pii_columns)
EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
SNAPSHOT_VALID = "{c} >= DATE '{start}' AND {c} < DATE '{end}'"
#: SCD2 dimensions are exported per month as the versions valid in the month (a month's folder
#: joins to the facts of that month on the *_sk keys), not as the versions opened in it.
SCD2_VALID = "valid_from < DATE '{end}' AND (valid_to IS NULL OR valid_to > DATE '{start}')"


class PiiFoundError(RuntimeError):
    """An export would publish a PII column or an email address."""


@dataclass(frozen=True)
class ExportedTable:
    table: str
    path: Path
    rows: int
    bytes: int


def month_folder(root: Path, table: str, month: dt.date) -> Path:
    return root / table / f"year={month:%Y}" / f"month={month:%m}"


def month_filter(partition_column: str, start: dt.date, end: dt.date) -> str:
    """The rows of gold table's month [start, end) (dates are ours, formatted, never user input)."""
    if partition_column == "valid_from":
        return SCD2_VALID.format(start=start.isoformat(), end=end.isoformat())
    return SNAPSHOT_VALID.format(c=partition_column, start=start.isoformat(), end=end.isoformat())


def text_columns_without_pii(con: duckdb.DuckDBPyConnection, relation: str, label: str) -> list[str]:
    """The relation's text columns, after refusing any column named like a PII column."""
    cols = con.execute(f"DESCRIBE {relation}").fetchall()
    bad = sorted({name for name, *_ in cols} & PII_COLUMNS)
    if bad:
        raise PiiFoundError(f"{label}: PII columns {bad} must not be exported")
    return [name for name, typ, *_ in cols if typ == "VARCHAR"]


def email_hits(text_columns: list[str]) -> str:
    """SQL counting the rows whose text columns hold a value shaped like an email address ($email)."""
    if not text_columns:
        return "0"
    return "count(*) FILTER (WHERE " + " OR ".join(f'regexp_matches("{c}", $email)' for c in text_columns) + ")"


def assert_no_pii(con: duckdb.DuckDBPyConnection, relation: str, label: str) -> None:
    """No PII column name, and no text value shaped like an email address."""
    text = text_columns_without_pii(con, relation, label)
    hits = con.execute(f"SELECT {email_hits(text)} FROM ({relation})", {"email": EMAIL} if text else None).fetchone()[0]
    if hits:
        raise PiiFoundError(f"{label}: {hits} rows hold an email address in a text column")


def write_checked_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path, label: str) -> int:
    """Write `query` to `path` (zstd), then read the file once for its row count and the email scan:
    the table is scanned once, and a file holding PII is never published (the caller's staging
    folder is removed). Returns the rows written."""
    text = text_columns_without_pii(con, query, label)
    con.execute(f"COPY ({query} ORDER BY ALL) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    rows, hits = con.execute(
        f"SELECT count(*), {email_hits(text)} FROM read_parquet('{path}')", {"email": EMAIL} if text else None
    ).fetchone()
    if hits:
        raise PiiFoundError(f"{label}: {hits} rows hold an email address in a text column")
    return rows


def export_month(
    cons: duckdb.DuckDBPyConnection | Sequence[duckdb.DuckDBPyConnection],
    root: Path,
    month: dt.date,
    tables: dict[str, str],
) -> list[ExportedTable]:
    """Write `month` of every gold table (name -> partition column) under `root`, atomically per file.

    With several connections, the tables are written by as many threads, one connection each:
    DuckDB releases the GIL while it writes, and most tables of a month are small statements."""
    workers = [cons] if isinstance(cons, duckdb.DuckDBPyConnection) else list(cons)
    start, end = month, (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    staging = root / ".staging" / f"{month:%Y-%m}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)

    def write(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, Path, Path, int]:
        query = f"SELECT * FROM gold.{table} WHERE {month_filter(tables[table], start, end)}"
        tmp = staging / f"{table}.parquet"  # ORDER BY ALL: same rows, same bytes, however dbt built them
        rows = write_checked_parquet(con, query, tmp, f"gold.{table} {month:%Y-%m}")
        return table, tmp, month_folder(root, table, month) / "data.parquet", rows

    try:
        written = map_on_connections(workers, write, sorted(tables))
        out = []
        for table, tmp, final, rows in written:  # every file of the month is ready: publish
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            out.append(ExportedTable(table, final, rows, final.stat().st_size))
        return out
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def latest_exported_month(root: Path, table: str) -> dt.date | None:
    months = []
    for p in (root / table).glob("year=*/month=*/data.parquet"):
        m = re.search(r"year=(\d{4})/month=(\d{2})", p.as_posix())
        if m:
            months.append(dt.date(int(m[1]), int(m[2]), 1))
    return max(months, default=None)


def write_customer_360_csv(con: duckdb.DuckDBPyConnection, root: Path, month: dt.date) -> Path:
    """customer_360 of `month` as ``customer_360.csv`` (atomic replace)."""
    final = root / "customer_360.csv"
    tmp = root / f".customer_360.csv.{uuid.uuid4().hex[:8]}"
    query = f"SELECT * FROM gold.customer_360 WHERE as_of_month = DATE '{month.isoformat()}' ORDER BY customer_id"
    try:
        assert_no_pii(con, query, f"customer_360.csv {month:%Y-%m}")
        con.execute(f"COPY ({query}) TO '{tmp}' (FORMAT csv, HEADER)")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final
