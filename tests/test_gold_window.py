"""The dbt window of a monthly gold run (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from bank_assets.assets.dbt_inprocess import WINDOW_ENV
from bank_assets.assets.gold import month_window, plain_dbt_error, window_env


def test_one_month_is_a_half_open_window():
    assert month_window("2024-03-01") == (dt.date(2024, 3, 1), dt.date(2024, 4, 1))
    assert month_window("2024-12-01") == (dt.date(2024, 12, 1), dt.date(2025, 1, 1))
    env = window_env(*month_window("2024-02-01"))
    assert env == {WINDOW_ENV[0]: "2024-02-01", WINDOW_ENV[1]: "2024-03-01"}


def test_an_empty_window_is_an_error():
    with pytest.raises(ValueError, match="empty dbt window"):
        window_env(dt.date(2024, 2, 1), dt.date(2024, 2, 1))


def test_dbt_errors_are_plain_text_without_a_missing_log_path():
    raw = (
        "failed with exit code `1`. Check the stdout in the Dagster compute logs for the full information about "
        "the error, or view the dbt debug log: /x/target/gold-1/dbt.log.\nErrors parsed from dbt logs:\n"
        "\x1b[31mFailure in model customer_360\x1b[0m"
    )
    text = plain_dbt_error(raw)
    assert "\x1b" not in text and "dbt.log" not in text
    assert "Failure in model customer_360" in text and "exit code `1`" in text


def test_a_run_of_months_is_one_window_per_stretch_of_up_to_n_consecutive_months():
    from bank_assets.assets.gold import consecutive_runs

    keys = ["2024-03-01", "2024-01-01", "2024-02-01", "2024-06-01"]
    assert consecutive_runs(keys, 6) == [["2024-01-01", "2024-02-01", "2024-03-01"], ["2024-06-01"]]
    assert consecutive_runs(keys, 2) == [["2024-01-01", "2024-02-01"], ["2024-03-01"], ["2024-06-01"]]
    assert consecutive_runs(["2024-12-01", "2025-01-01"], 6) == [["2024-12-01", "2025-01-01"]]


def _compiled(target, node: dict, sql: str) -> None:
    from bank_assets.assets.gold_checks import compiled_sql_path

    path = compiled_sql_path(target, node)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)


JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def test_a_failed_rules_test_is_placed_in_the_months_of_its_failing_rows(tmp_path):
    import duckdb

    from bank_assets.assets.gold_checks import failures_by_month, month_verdicts

    node = {
        "name": "m_rules",
        "package_name": "p",
        "original_file_path": "models/_m.yml",
        "path": "m_rules.sql",
        "test_metadata": {"name": "row_rules", "kwargs": {"rules": []}},
    }
    _compiled(
        tmp_path,
        node,
        "SELECT DATE '2024-02-01' AS month, 'not_null(x)' AS rule, 2 AS failures, ['a', 'b'] AS examples "
        "UNION ALL SELECT DATE '2024-02-01', 'unique(y)', 1, ['k'] "
        "UNION ALL SELECT DATE '2024-03-01', 'not_null(x)', 4, ['c']",
    )
    with duckdb.connect() as con:
        failures = failures_by_month(con, tmp_path, node)
    verdicts = month_verdicts(failures, [JAN, FEB, MAR])
    assert verdicts[JAN] == {}  # passes
    assert verdicts[FEB]["failing_rule_counts"].value == {"not_null(x)": 2, "unique(y)": 1}
    assert verdicts[FEB]["dagster_dbt/failed_row_count"] == 3
    assert "| `not_null(x)` | 2 | a, b |" in verdicts[FEB]["failing_rules"].value
    assert verdicts[MAR]["dagster_dbt/failed_row_count"] == 4


def test_a_failed_singular_test_is_placed_by_its_month_column(tmp_path):
    import duckdb

    from bank_assets.assets.gold_checks import failures_by_month, month_verdicts

    node = {
        "name": "assert_x",
        "package_name": "p",
        "original_file_path": "tests/assert_x.sql",
        "path": "assert_x.sql",
        "config": {"meta": {"partition_column": "report_month"}},
    }
    _compiled(tmp_path, node, "SELECT DATE '2024-01-01' AS report_month, 7 AS n UNION ALL SELECT DATE '2024-01-15', 8")
    with duckdb.connect() as con:
        failures = failures_by_month(con, tmp_path, node)
    verdicts = month_verdicts(failures, [JAN, FEB])
    assert verdicts[FEB] == {}
    assert verdicts[JAN]["dagster_dbt/failed_row_count"] == 2
    assert '"n":7' in verdicts[JAN]["failing_rows"].value


def test_a_failure_that_cannot_be_placed_fails_every_month(tmp_path):
    import duckdb

    from bank_assets.assets.gold_checks import failures_by_month, month_verdicts

    unnamed = {"name": "assert_y", "package_name": "p", "original_file_path": "tests/assert_y.sql", "path": "y"}
    missing = {**unnamed, "config": {"meta": {"partition_column": "m"}}}  # no compiled file
    with duckdb.connect() as con:
        for node in (unnamed, missing):
            verdicts = month_verdicts(failures_by_month(con, tmp_path, node), [JAN, FEB])
            assert all(verdicts[m] for m in (JAN, FEB)), node  # non-empty: failed
    # failing rows outside the run's months (or without a month) fail every month of the window
    assert all(month_verdicts({MAR: {"x": 1}}, [JAN, FEB]).values())
    assert all(month_verdicts({None: {"x": 1}}, [JAN, FEB]).values())


def test_a_singular_test_is_described_by_the_comment_it_opens_with():
    from bank_assets.assets.gold_checks import leading_comment

    sql = (
        "{{ config(meta={'partition_column': 'm'}) }}\n-- depends_on: {{ ref('x') }}\n"
        "-- Months agree\n-- with facts.\nselect 1\n-- not this"
    )
    assert leading_comment(sql) == "Months agree with facts."
    assert leading_comment("select 1") is None


def test_every_gold_check_has_a_description():
    from bank_assets.assets.gold import gold

    missing = [s.key.to_user_string() for s in gold.check_specs if not (s.description or "").strip()]
    assert not missing, missing
