"""Referential integrity of clean rows, checked with SQL over the landing files."""

from __future__ import annotations

import duckdb
import pytest

from .conftest import csv_view


@pytest.fixture(scope="module")
def con(clean_landing):
    con = duckdb.connect()
    for t in ("customers", "accounts", "transactions", "loans", "loan_payments", "fx_rates"):
        csv_view(con, clean_landing, t)
    for t in ("merchants", "branches"):  # reference snapshots: the same list every month
        path = clean_landing / t / "2024-01" / f"{t}.csv"
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_csv('{path}', all_varchar=true)")
    return con


def scalar(con, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def test_every_transaction_account_is_in_that_months_snapshot(con):
    assert scalar(con, "SELECT count(*) FROM transactions") > 100_000
    assert (
        scalar(
            con,
            """SELECT count(*) FROM transactions t LEFT JOIN accounts a
        ON a.account_id = t.account_id AND a._month = t._month WHERE a.account_id IS NULL""",
        )
        == 0
    )


def test_every_account_customer_exists_that_month(con):
    assert (
        scalar(
            con,
            """SELECT count(*) FROM accounts a LEFT JOIN customers c
        ON c.customer_id = a.customer_id AND c._month = a._month WHERE c.customer_id IS NULL""",
        )
        == 0
    )


def test_every_loan_payment_loan_exists(con):
    assert scalar(con, "SELECT count(*) FROM loan_payments") > 0
    assert (
        scalar(
            con,
            """SELECT count(*) FROM loan_payments p LEFT JOIN loans l ON l.loan_id = p.loan_id
        AND l._month < p._month WHERE l.loan_id IS NULL""",
        )
        == 0
    )


def test_merchants_and_branches_resolve(con):
    assert (
        scalar(
            con,
            """SELECT count(*) FROM transactions t LEFT JOIN merchants m USING (merchant_id)
        WHERE t.merchant_id <> '' AND m.merchant_id IS NULL""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """SELECT count(*) FROM accounts a LEFT JOIN branches b USING (branch_id)
        WHERE b.branch_id IS NULL""",
        )
        == 0
    )


def test_keys_are_unique_per_month_in_clean_mode(con):
    for table, key in (
        ("customers", "customer_id"),
        ("accounts", "account_id"),
        ("transactions", "transaction_id"),
        ("loan_payments", "payment_id"),
    ):
        assert scalar(con, f"SELECT count(*) - count(DISTINCT (_month, {key})) FROM {table}") == 0, table


def test_every_event_falls_in_its_month(con):
    assert (
        scalar(con, "SELECT count(*) FROM transactions WHERE strftime(transaction_ts::TIMESTAMP, '%Y-%m') <> _month")
        == 0
    )
    assert scalar(con, "SELECT count(*) FROM loan_payments WHERE strftime(due_date::DATE, '%Y-%m') <> _month") == 0


def test_branches_have_zones_and_coordinates(con):
    zones = {r[0] for r in con.execute("SELECT DISTINCT zone FROM branches").fetchall()}
    assert {"Lima Norte", "Lima Sur", "Lima Este", "Lima Centro", "Lima Moderna", "Callao"} <= zones
    assert scalar(con, "SELECT count(*) FROM branches WHERE latitude::DOUBLE NOT BETWEEN -12.5 AND -11.7") == 0
