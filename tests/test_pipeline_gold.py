"""Landing -> gold through Dagster on small clean data, compared with an independent pandas
computation over the landing files (never by reading the marts back into the same logic)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, materialize

from bank_assets.assets.dbt_project import dbt_project
from bank_assets.definitions import all_assets, defs

from . import independent
from .pipeline import project_instance, query, resources, run_gold, run_months

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end

MONTHS = ["2024-01", "2024-02"]


@pytest.fixture(scope="module")
def gold(tmp_path_factory) -> dict:
    res = resources(tmp_path_factory.mktemp("gold"), defect_scale=0.0)
    with project_instance() as instance:
        run_months(res, MONTHS, instance)
        run_gold(res, MONTHS, instance)
    return res


def landing(res: dict) -> Path:
    return Path(res["landing"].resolved_root)


def test_cashflow_matches_an_independent_computation(gold):
    expected = independent.cashflow_monthly(landing(gold), MONTHS)
    got = {
        str(m)[:7]: (i, o)
        for m, i, o in query(gold, "SELECT report_month, inflow_pen, outflow_pen FROM gold.cashflow_monthly ORDER BY 1")
    }
    assert got == expected
    assert all(o > i for i, o in got.values())  # the synthetic bank spends more than it earns


def test_anomaly_count_matches_an_independent_iqr(gold):
    expected = independent.iqr_anomalies(landing(gold), MONTHS)
    got = query(gold, "SELECT count(*) FROM gold.transaction_anomalies")[0][0]
    assert got == expected > 0
    purchases = query(gold, "SELECT count(*) FROM gold.fct_transactions WHERE txn_type = 'PURCHASE'")[0][0]
    assert 0.005 < got / purchases < 0.03


def test_customer_360_matches_to_the_cent(gold):
    """Every customer, every money and ratio column exactly (to the cent, to the 6th decimal of
    the ratio): exact quotients rounded half away from zero, as Python's decimal ROUND_HALF_UP."""
    expected = independent.customer_360(landing(gold), MONTHS)
    rows = query(
        gold,
        """SELECT customer_id, avg_monthly_spend_pen, est_monthly_income_pen, fixed_payments_pen,
        debt_burden_ratio, avg_positive_balance_pen, lifetime_value_pen, products_held, tenure_months,
        churn_flag FROM gold.customer_360 WHERE as_of_month = '2024-02-01' ORDER BY customer_id""",
    )
    assert len(rows) == len(expected)
    money = ("spend", "income", "fixed", "burden", "avg_positive_balance", "lifetime_value")
    for cid, *values in rows:
        e = expected.loc[cid]
        assert tuple(values[:6]) == tuple(e[c] for c in money), cid
        assert tuple(values[6:]) == (e["products_held"], e["tenure_months"], e["churn_flag"]), cid


def test_no_raw_pii_in_gold(gold):
    columns = query(
        gold,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('gold', 'staging', 'intermediate')",
    )
    names = {c for _, c in columns}
    assert not names & {"first_name", "last_name", "email", "national_id", "phone", "street"}
    emails = query(gold, "SELECT email FROM silver.customers LIMIT 50")
    text_cols = query(
        gold,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'gold' AND data_type = 'VARCHAR'",
    )
    for table, column in text_cols:
        hits = query(
            gold,
            f'SELECT count(*) FROM gold."{table}" WHERE "{column}" IN (SELECT unnest($e))',
            {"e": [e for (e,) in emails]},
        )[0][0]
        assert hits == 0, (table, column)


GOLD_TABLES = (
    "dim_customer",
    "dim_account",
    "dim_merchant",
    "dim_branch",
    "dim_date",
    "fct_transactions",
    "fct_account_balance_monthly",
    "customer_360",
    "churn_risk",
    "cashflow_monthly",
    "anomaly_kpis_zone_ytd",
)


def gold_state(res: dict) -> dict[str, list]:
    """Every row of the main gold tables, as sorted tuples (exact comparison)."""
    return {t: sorted(map(repr, query(res, f"SELECT * FROM gold.{t}"))) for t in GOLD_TABLES}


def test_rebuilding_a_month_replaces_it_exactly(gold):
    """Every gold model for the first month again, after the second was built: the month's
    delete+insert (and the SCD2 versions it opens and closes) leaves every table as it was."""
    before = gold_state(gold)
    with project_instance() as instance:
        result = materialize(
            all_assets,
            resources=gold,
            instance=instance,
            partition_key="2024-01-01",
            selection=AssetSelection.groups("gold"),
        )
    assert result.success
    assert gold_state(gold) == before
    months = query(gold, "SELECT DISTINCT as_of_month FROM gold.customer_360 ORDER BY 1")
    assert [str(m)[:7] for (m,) in months] == MONTHS


def test_gold_checks_are_recorded_on_their_month(gold):
    """dbt tests become check evaluations on the partition they checked, one per month."""
    with project_instance() as instance:
        result = materialize(
            all_assets,
            resources=gold,
            instance=instance,
            partition_key="2024-02-01",
            selection=AssetSelection.groups("gold"),
        )
    evaluations = result.get_asset_check_evaluations()
    tests = [
        n
        for n in json.loads(Path(dbt_project.manifest_path).read_text())["nodes"].values()
        if n["resource_type"] == "test"
    ]
    assert len(evaluations) == len(tests) and {e.partition for e in evaluations} == {"2024-02-01"}
    assert all(e.passed for e in evaluations)
    names = {e.check_name for e in evaluations}
    assert {"dim_customer_rules", "fct_transactions_rules", "customer_360_rules"} <= names
    assert {"assert_anomaly_marts_agree", "assert_cashflow_reconciles_with_fct_transactions"} <= names
    assert {"assert_previous_month_loaded", "assert_loan_ids_are_new"} <= names
    # every dbt test is a check: none falls back to an observation
    assert not [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]


def test_every_source_has_a_silver_asset_and_every_mart_reaches_landing():
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    gold_keys = {k for k in keys if k.path[0] == "gold"}
    assert len(gold_keys) >= 20
    for k in gold_keys:  # dim_date too: it is published with the month's fx rates
        seen, todo = set(), [k]
        while todo:
            node = todo.pop()
            for parent in graph.get(node).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        assert any(p.path[0] == "landing" for p in seen), f"{k} does not reach landing"
    silver_sources = {AssetKey(["silver", t]) for t in ("transactions", "customers", "accounts", "loans")}
    assert silver_sources <= keys


def test_dbt_unit_tests_pass(gold, tmp_path):
    """dbt unit tests check model logic on fixed inputs. Production builds exclude them (they would
    run on every partition); here they run against the built warehouse, as `dbt test` does."""
    project = Path(dbt_project.project_dir)
    env = {**os.environ, "BANK_WAREHOUSE": gold["warehouse"].resolved_path, "DBT_PROFILES_DIR": str(project)}
    dbt = shutil.which("dbt") or "dbt"
    args = [dbt, "test", "--select", "test_type:unit", "--target-path", str(tmp_path)]
    out = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-3000:]
    n_unit = len(json.loads(Path(dbt_project.manifest_path).read_text())["unit_tests"])
    assert n_unit >= 4
    assert re.search(rf"PASS={n_unit}\b.*ERROR=0", out.stdout), out.stdout[-1500:]


def copy_of(built: dict, folder: Path) -> dict:
    """Resources over a copy of the built warehouse (a test may change it without touching others)."""
    copy = resources(folder, defect_scale=0.0)
    for suffix in ("", ".wal"):
        source = Path(built["warehouse"].resolved_path + suffix)
        if source.exists():
            shutil.copy(source, copy["warehouse"].resolved_path + suffix)
    return copy


def gold_month(res: dict, partition_key: str):
    """Every gold model for one month, on a fresh instance; the result, failed or not."""
    with project_instance() as instance:
        return materialize(
            all_assets,
            resources=res,
            instance=instance,
            partition_key=partition_key,
            selection=AssetSelection.groups("gold"),
            raise_on_error=False,
        )


def gold_months(res: dict, first: str, last: str):
    """Every gold model for the months first..last in ONE run (one dbt build over their window)."""
    with project_instance() as instance:
        return materialize(
            all_assets,
            resources=res,
            instance=instance,
            selection=AssetSelection.groups("gold"),
            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
            raise_on_error=False,
        )


def gold_tables(res: dict) -> list[str]:
    return [
        f"{s}.{t}"
        for s, t in query(
            res,
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('gold', 'intermediate') "
            "ORDER BY 1, 2",
        )
    ]


def with_bogus_segments(gold: dict, folder: Path, n: int) -> dict:
    """A copy of the built warehouse where `n` customers of 2024-02 have a segment no rule accepts."""
    broken = copy_of(gold, folder)
    with duckdb.connect(broken["warehouse"].resolved_path) as con:
        con.execute(
            "UPDATE silver.customers SET segment = 'BOGUS' WHERE _partition_month = DATE '2024-02-01' "
            "AND customer_id IN (SELECT customer_id FROM silver.customers "
            f"WHERE _partition_month = DATE '2024-02-01' ORDER BY 1 LIMIT {n})"
        )
    return broken


def test_one_build_over_two_months_equals_one_build_per_month(gold, tmp_path):
    """A run of several months is one dbt build over their window: the same rows in every gold
    table (the fixture built one run per month), and every check recorded on each month."""
    window = copy_of(gold, tmp_path)
    tables = gold_tables(gold)
    with duckdb.connect(window["warehouse"].resolved_path) as con:
        for table in tables:
            con.execute(f"DELETE FROM {table}")  # nothing of the per-month build is left to match
    result = gold_months(window, "2024-01-01", "2024-02-01")
    assert result.success
    assert len(tables) >= 40 and tables == gold_tables(window)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{gold['warehouse'].resolved_path}' AS monthly (READ_ONLY)")
        con.execute(f"ATTACH '{window['warehouse'].resolved_path}' AS windowed (READ_ONLY)")
        for table in tables:
            n = con.execute(f"SELECT count(*) FROM monthly.{table}").fetchone()[0]
            differ = con.execute(
                f"SELECT (SELECT count(*) FROM (FROM monthly.{table} EXCEPT ALL FROM windowed.{table})) + "
                f"(SELECT count(*) FROM (FROM windowed.{table} EXCEPT ALL FROM monthly.{table}))"
            ).fetchone()[0]
            assert differ == 0, f"{table}: {differ} of {n} rows differ"
    evaluations = result.get_asset_check_evaluations()
    by_check: dict[tuple, list[str]] = {}
    for e in evaluations:
        by_check.setdefault((e.asset_key, e.check_name), []).append(e.partition)
    assert len(by_check) >= 50
    assert all(sorted(p) == ["2024-01-01", "2024-02-01"] for p in by_check.values())
    assert all(e.passed for e in evaluations)
    assert {e.metadata["dbt_window"].value for e in evaluations} == {"2024-01..2024-02"}
    by_model: dict = {}
    for m in (e.materialization for e in result.get_asset_materialization_events()):
        by_model.setdefault(m.asset_key, []).append(m.partition)
        assert m.metadata["dbt_window"].value == "2024-01..2024-02", m.asset_key
        assert m.metadata["unique_id"].value.endswith("." + m.asset_key.path[-1])
        assert m.metadata["dagster/column_schema"].value.columns, m.asset_key
    assert len(by_model) >= len(tables) and all(sorted(p) == ["2024-01-01", "2024-02-01"] for p in by_model.values())


def test_a_broken_rule_in_a_window_fails_only_its_month(gold, tmp_path):
    """One build over 2024-01..2024-02 with a rule broken in February only: the check fails on
    February with February's count and examples, and passes on January."""
    result = gold_months(with_bogus_segments(gold, tmp_path, 3), "2024-01-01", "2024-02-01")
    assert not result.success
    checks = {e.partition: e for e in result.get_asset_check_evaluations() if e.check_name == "dim_customer_rules"}
    assert checks["2024-01-01"].passed
    assert checks["2024-01-01"].metadata["dagster_dbt/failed_row_count"].value == 0
    feb = checks["2024-02-01"]
    assert not feb.passed
    assert feb.metadata["failing_rule_counts"].value == {"accepted_values(segment)": 3}
    assert feb.metadata["dagster_dbt/failed_row_count"].value == 3
    assert "BOGUS" in feb.metadata["failing_rules"].value


def test_a_broken_gold_rule_is_named_with_its_count_and_examples(gold, tmp_path):
    """One dbt test per model covers its rules; when it fails, the check names each broken rule."""
    result = gold_month(with_bogus_segments(gold, tmp_path, 2), "2024-02-01")
    assert not result.success
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "dim_customer_rules"]
    assert not check.passed and check.partition == "2024-02-01"
    assert check.metadata["failing_rule_counts"].value == {"accepted_values(segment)": 2}
    assert check.metadata["dagster_dbt/failed_row_count"].value == 2
    assert "BOGUS" in check.metadata["failing_rules"].value


def test_gold_builds_with_dbt_as_a_subprocess(gold, tmp_path, monkeypatch):
    """BANK_DBT_SUBPROCESS=1 (dagster-dbt's own way): dbt's process opens the warehouse itself, so
    the run must not hold the file open (it would wait for our lock until BANK_WAREHOUSE_WAIT_S)."""
    copy = copy_of(gold, tmp_path)
    monkeypatch.setenv("BANK_DBT_SUBPROCESS", "1")
    monkeypatch.setenv("BANK_WAREHOUSE_WAIT_S", "20")
    result = gold_month(copy, "2024-02-01")
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_rules_checked_after_the_build_give_the_verdicts_dbt_gives_inside_it(gold, tmp_path, monkeypatch):
    """The gold step runs the models' row rules itself after dbt's build (bank_assets.assets.
    gold_rules); with BANK_DBT_RULES_IN_BUILD=1 dbt runs the same tests inside the build. On a window
    with a rule broken in February, both record the same verdict, severity, count and broken rules
    for every check both ran, fail the run, and publish nothing (dbt inside the build also skips
    the checks of models downstream of the failing test, which the step runs after it)."""
    outcomes, failures = {}, {}
    for mode in ("after", "inside"):
        if mode == "inside":
            monkeypatch.setenv("BANK_DBT_RULES_IN_BUILD", "1")
        (tmp_path / mode).mkdir()
        broken = with_bogus_segments(gold, tmp_path / mode, 3)
        result = gold_months(broken, "2024-01-01", "2024-02-01")
        assert not result.success
        failures[mode] = " ".join(e.step_failure_data.error.message for e in result.get_step_failure_events())
        outcomes[mode] = {
            (e.check_name, e.partition): (
                e.passed,
                e.severity,
                e.metadata["dagster_dbt/failed_row_count"].value,
                e.metadata["failing_rule_counts"].value if "failing_rule_counts" in e.metadata else None,
                e.metadata["dbt_window"].value,
            )
            for e in result.get_asset_check_evaluations()
        }
        with duckdb.connect(broken["warehouse"].resolved_path, read_only=True) as con:
            assert con.execute("SELECT count(*) FROM gold.dim_customer WHERE segment = 'BOGUS'").fetchone()[0] == 0
    both = outcomes["after"].keys() & outcomes["inside"].keys()
    assert {("dim_customer_rules", "2024-01-01"), ("dim_customer_rules", "2024-02-01")} <= both
    assert len(both) >= 20, sorted(both)
    assert {k: outcomes["after"][k] for k in both} == {k: outcomes["inside"][k] for k in both}
    assert outcomes["after"][("dim_customer_rules", "2024-02-01")][:4] == (
        False,
        AssetCheckSeverity.ERROR,
        3,
        {"accepted_values(segment)": 3},
    )
    assert "dim_customer_rules (3 failing rows)" in failures["after"] and "rolled back" in failures["after"]
