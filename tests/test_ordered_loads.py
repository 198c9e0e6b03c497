"""Inputs and exports read gold in one fixed row order, whatever order its rows were stored in; an
export holding PII publishes nothing."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from dagster._core.storage.db_io_manager import TableSlice

from bank_assets.reports.exports import PII_COLUMNS, PiiFoundError, export_month
from bank_assets.resources import AnalyticsPandasTypeHandler, OrderedPandasTypeHandler

ROWS = [(i % 7, f"c{i % 5}", 0.1 * i, dt.date(2024, 1, 1 + i % 28)) for i in range(200)]


def stored(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute("CREATE SCHEMA gold")
    con.execute("CREATE TABLE gold.t (k INTEGER, c VARCHAR, x DOUBLE, d DATE)")
    con.executemany("INSERT INTO gold.t VALUES (?, ?, ?, ?)", rows)


def test_a_table_loads_in_the_same_order_whatever_order_it_was_written_in():
    frames = []
    for rows in (ROWS, ROWS[::-1], ROWS[1::2] + ROWS[::2]):
        with duckdb.connect() as con:
            stored(con, rows)
            for handler in (OrderedPandasTypeHandler(), AnalyticsPandasTypeHandler()):
                frames.append(handler.load_input(None, TableSlice(table="t", schema="gold"), con))
    assert all(f.equals(frames[0]) for f in frames[1:])
    first = frames[0]
    assert len(first) == len(ROWS)
    assert first.equals(first.sort_values(list(first.columns)).reset_index(drop=True))


def test_an_export_has_the_same_bytes_whatever_order_gold_was_written_in(tmp_path):
    written = []
    for i, rows in enumerate((ROWS, ROWS[::-1])):
        with duckdb.connect() as con:
            stored(con, rows)
            (out,) = export_month(con, tmp_path / str(i), dt.date(2024, 1, 1), {"t": "d"})
        written.append(out.path.read_bytes())
    assert written[0] == written[1]


@pytest.mark.parametrize("connections", [1, 2])
def test_an_export_holding_an_email_or_a_pii_column_is_not_published(tmp_path, connections):
    """The export scans each written file once (rows and the email scan in one read): a month whose
    table holds an email address, or a column named like a PII column, publishes no file at all,
    whether its tables are written by one connection or by several threads (the asset uses two)."""
    first = duckdb.connect()
    con = first if connections == 1 else [first, *(first.cursor() for _ in range(connections - 1))]
    first.execute("CREATE SCHEMA gold")
    first.execute("CREATE TABLE gold.a AS SELECT DATE '2024-01-05' AS d, 'fine' AS note")
    first.execute("CREATE TABLE gold.b AS SELECT DATE '2024-01-06' AS d, 'ana.p@example.pe' AS note")
    first.execute("CREATE TABLE gold.c AS SELECT DATE '2024-01-07' AS d, 3 AS n")  # no text column
    with pytest.raises(PiiFoundError, match=r"gold\.b 2024-01: 1 rows hold an email"):
        export_month(con, tmp_path, dt.date(2024, 1, 1), {"a": "d", "b": "d", "c": "d"})
    assert not list(tmp_path.rglob("*.parquet")), "a file of the refused month was published"
    first.execute("UPDATE gold.b SET note = 'fine'")
    first.execute(f"ALTER TABLE gold.a ADD COLUMN {sorted(PII_COLUMNS)[0]} VARCHAR")
    with pytest.raises(PiiFoundError, match="PII columns"):
        export_month(con, tmp_path, dt.date(2024, 1, 1), {"a": "d", "b": "d", "c": "d"})
    first.execute(f"ALTER TABLE gold.a DROP COLUMN {sorted(PII_COLUMNS)[0]}")
    written = export_month(con, tmp_path, dt.date(2024, 1, 1), {"a": "d", "b": "d", "c": "d"})
    assert [(t.table, t.rows) for t in written] == [("a", 1), ("b", 1), ("c", 1)]
