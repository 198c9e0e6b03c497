"""The synthetic bank behaves like one: growth, seasonality, income, spend mix, churn, loans, outliers."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from bank_assets.synthetic import DefectRates, GeneratorConfig, World
from bank_assets.synthetic.months import parse_month
from bank_assets.synthetic.params import SCALES


@pytest.fixture(scope="module")
def world() -> World:
    return World(GeneratorConfig(seed=42, scale=SCALES["small"], defects=DefectRates.clean()))


@pytest.fixture(scope="module")
def con(world):
    con = duckdb.connect()
    for month in ("2024-11", "2024-12", "2025-06", "2025-12"):
        m = parse_month(month)
        for t in ("customers", "accounts", "transactions", "loan_payments"):
            arrow = world.table(t, m)  # noqa: F841 - scanned by DuckDB below
            con.execute(f"CREATE TABLE IF NOT EXISTS {t} AS SELECT *, '{month}' AS m FROM arrow WHERE false")
            con.execute(f"INSERT INTO {t} SELECT *, '{month}' FROM arrow")
    return con


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_customer_base_is_flat_in_2024_and_grows_in_2025(world):
    size = {m: world.table("customers", parse_month(m)).num_rows for m in ("2024-01", "2024-12", "2025-12")}
    assert abs(size["2024-12"] / size["2024-01"] - 1) < 0.1
    assert size["2025-12"] / size["2024-12"] > 1.5


def test_spend_mix_retail_first_entertainment_second_none_over_30pct(con):
    mix = rows(
        con,
        """SELECT category, sum(amount::DECIMAL(18,2)) / sum(sum(amount::DECIMAL(18,2))) OVER () AS share
        FROM transactions WHERE txn_type = 'PURCHASE' GROUP BY 1 ORDER BY share DESC""",
    )
    assert len(mix) >= 8
    assert [mix[0][0], mix[1][0]] == ["RETAIL", "ENTERTAINMENT"]
    assert max(s for _, s in mix) < 0.30


def test_outflows_exceed_inflows_every_month(con):
    for month, debit, credit in rows(
        con,
        """SELECT m,
            sum(amount::DECIMAL(18,2)) FILTER (WHERE direction = 'DEBIT'),
            sum(amount::DECIMAL(18,2)) FILTER (WHERE direction = 'CREDIT') FROM transactions GROUP BY 1""",
    ):
        assert debit > credit, month


def test_december_spends_more(con):
    spend = dict(
        rows(con, "SELECT m, sum(amount::DECIMAL(18,2)) FROM transactions WHERE txn_type='PURCHASE' GROUP BY 1")
    )
    assert float(spend["2024-12"]) > 1.2 * float(spend["2024-11"])


def test_employed_customers_get_one_salary_a_month(con):
    per_customer = rows(
        con,
        """SELECT c.customer_id, count(t.transaction_id) FROM customers c
        JOIN accounts a ON a.customer_id = c.customer_id AND a.m = c.m AND a.product = 'CHECKING'
        LEFT JOIN transactions t ON t.account_id = a.account_id AND t.m = c.m AND t.txn_type = 'SALARY'
        WHERE c.m = '2025-06' AND c.status = 'ACTIVE' AND c.employment_status = 'EMPLOYED' GROUP BY 1""",
    )
    assert len(per_customer) > 1000 and {n for _, n in per_customer} == {1}


def test_fixed_payments_make_debt_burden_meaningful(con):
    burden = rows(
        con,
        """SELECT sum(amount::DECIMAL(18,2)) FILTER (WHERE txn_type IN ('BILL_PAYMENT','AUTO_DEBIT','LOAN_PAYMENT'))
        / sum(amount::DECIMAL(18,2)) FILTER (WHERE txn_type IN ('SALARY','PENSION','DEPOSIT'))
        FROM transactions WHERE m = '2025-06'""",
    )[0][0]
    assert 0.05 < burden < 0.6


def test_churn_dormant_then_closed(con, world):
    from bank_assets.synthetic.aml import truth

    status = dict(rows(con, "SELECT status, count(*) FROM customers WHERE m = '2025-06' GROUP BY 1"))
    assert status.get("DORMANT", 0) > 0 and status.get("CLOSED", 0) > 0
    # dormant customers do not transact themselves (but for the planted dormant-account
    # reactivations and their near misses); their loan instalments keep being debited
    planted = truth(world.cfg, world.snapshot(parse_month("2025-06"))).to_pandas()
    con.register("planted", planted)
    reactivated = """SELECT account_id FROM planted WHERE typology = 'DORMANT_REACTIVATION'"""
    by_type = dict(
        rows(
            con,
            f"""SELECT t.txn_type, count(*) FROM transactions t JOIN accounts a ON a.account_id = t.account_id
        AND a.m = t.m WHERE a.status = 'DORMANT' AND t.m = '2025-06' AND t.account_id NOT IN ({reactivated})
        GROUP BY 1""",
        )
    )
    assert set(by_type) <= {"LOAN_PAYMENT"}, by_type
    moved = rows(
        con,
        f"""SELECT count(DISTINCT t.account_id) FROM transactions t JOIN accounts a ON a.account_id = t.account_id
        AND a.m = t.m WHERE a.status = 'DORMANT' AND t.m = '2025-06' AND t.txn_type = 'TRANSFER_IN'
        AND t.account_id IN ({reactivated})""",
    )[0][0]
    assert moved == len(planted[planted["typology"] == "DORMANT_REACTIVATION"]) > 0
    assert rows(con, "SELECT count(*) FROM accounts WHERE status = 'CLOSED' AND closed_date = ''")[0][0] == 0


def test_closed_customers_settled_their_loans(world):
    m = parse_month("2025-06")
    snap = world.snapshot(m)
    closed = snap.people.num[snap.status == 2]
    assert len(closed) > 0
    due = world.due(m)
    assert len(due.instalment_no) > 0 and not np.isin(due.loan.customer_num, closed).any()


def test_loans_have_late_and_defaulted_payments(con):
    late, unpaid, total = rows(
        con,
        """SELECT count(*) FILTER (WHERE paid_date > due_date),
        count(*) FILTER (WHERE paid_date = ''), count(*) FROM loan_payments WHERE m = '2025-12'""",
    )[0]
    assert total > 200 and late > 0 and unpaid > 0
    assert 0.02 < unpaid / total < 0.35


def test_purchase_outliers_per_segment_are_1_to_2_pct(con):
    out = rows(
        con,
        """WITH x AS (
        SELECT c.segment, t.m, t.amount::DECIMAL(18,2) AS amt FROM transactions t
        JOIN accounts a ON a.account_id = t.account_id AND a.m = t.m
        JOIN customers c ON c.customer_id = a.customer_id AND c.m = t.m WHERE t.txn_type = 'PURCHASE'),
      q AS (SELECT segment, m, quantile_cont(amt, 0.25) q1, quantile_cont(amt, 0.75) q3 FROM x GROUP BY ALL)
      SELECT segment, avg((amt > q3 + 1.5 * (q3 - q1))::INT) FROM x JOIN q USING (segment, m) GROUP BY 1""",
    )
    assert len(out) == 4
    for segment, rate in out:
        assert 0.009 <= rate <= 0.022, (segment, rate)
