"""The dbt window passed to partitioned gold runs (a pure function)."""

from __future__ import annotations

import datetime as dt

import pytest

from bank_assets.assets.gold import WINDOW_ENV, window_env


def test_one_month_is_a_half_open_window():
    env = window_env(dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1))
    assert env == {WINDOW_ENV[0]: "2024-03-01", WINDOW_ENV[1]: "2024-04-01"}


def test_a_backfill_range_is_one_window():
    env = window_env(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert env == {WINDOW_ENV[0]: "2024-01-01", WINDOW_ENV[1]: "2025-01-01"}


def test_no_window_falls_back_to_project_defaults():
    assert window_env(None, None) == {}


def test_an_empty_window_is_an_error():
    with pytest.raises(ValueError, match="empty dbt window"):
        window_env(dt.date(2024, 2, 1), dt.date(2024, 2, 1))
