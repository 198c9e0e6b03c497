"""The catalog lookup every step makes (``table_exists``): tables only, in the caller's transaction."""

from __future__ import annotations

import duckdb

from bank_assets.lakehouse.profile import table_exists


def test_table_exists_finds_tables_not_views_and_sees_only_committed_or_own_work():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA silver")
    con.execute("CREATE TABLE silver.accounts (a INTEGER)")
    con.execute("CREATE VIEW silver.accounts_view AS SELECT 1 AS a")
    assert table_exists(con, "silver.accounts")
    assert not table_exists(con, "silver.accounts_view")
    assert not table_exists(con, "silver.missing") and not table_exists(con, "nowhere.missing")
    writer, reader = con.cursor(), con.cursor()
    writer.execute("BEGIN TRANSACTION")
    writer.execute("CREATE TABLE silver.loans (a INTEGER)")
    assert table_exists(writer, "silver.loans") and not table_exists(reader, "silver.loans")
    writer.execute("ROLLBACK")
    assert not table_exists(writer, "silver.loans")
