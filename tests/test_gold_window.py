"""The dbt window of a monthly gold run (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from bank_assets.assets.gold import WINDOW_ENV, month_window, plain_dbt_error, window_env


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
