"""Inputs and exports read gold in one fixed row order, whatever order its rows were stored in."""

from __future__ import annotations

import datetime as dt

import duckdb
from dagster._core.storage.db_io_manager import TableSlice

from bank_assets.reports.exports import export_month
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
