"""The benchmark's one-month comparison at tiny scale: the project, the plain-DuckDB reference and
the pandas + to_sql baselines (SQLite, and PostgreSQL where its server is installed) must produce
the same silver and gold row counts from the same files, or the timings compare different work.
(Timings themselves are not asserted: shared machines.)"""

from __future__ import annotations

import pytest

from benchmarks import postgres
from benchmarks.harness import bench_month, table

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end


def test_project_reference_and_pandas_do_the_same_work(tmp_path):
    result = bench_month("tiny", "2024-02", repeats=1, pandas_repeats=1, work=tmp_path)
    rows = result["rows_project_reference_sqlite_postgres"]
    assert rows["silver.transactions"][0] > 1000 and rows["gold.transaction_anomalies"][0] > 0
    pg_installed = postgres.pg_bin() is not None
    if pg_installed:  # the PostgreSQL baseline must have run and agree; without a server, say why
        assert "pandas_postgres_skipped" not in result, result.get("pandas_postgres_skipped")
        assert result["pandas_postgres_s"] > 0
    else:
        assert "not installed" in result["pandas_postgres_skipped"]

    def agree(project: int, reference: int, sqlite: int | None, postgres_: int | None) -> bool:
        if sqlite is None and postgres_ is None:  # a source the pandas baselines do not implement
            return project == reference
        return project == reference == sqlite and (postgres_ == sqlite if pg_installed else postgres_ is None)

    # every table of the plain DuckDB reference (all 17 sources), the pandas baselines' 8 among them
    assert len([k for k in rows if k.startswith("silver.")]) == 17
    assert len([k for k, v in rows.items() if k.startswith("silver.") and v[2] is not None]) == 8
    disagree = {k: v for k, v in rows.items() if not agree(*v)}
    assert not disagree, disagree
    assert result["project_s"] > 0 and result["reference_s"] > 0 and result["pandas_sqlite_s"] > 0
    assert set(result["project_layers_s"]) >= {"landing", "bronze", "silver", "gold (dbt)"}
    assert "reports" not in result["project_layers_s"] and result["reports_group_s"] > 0
    text = table({"month": result})  # the printed table shows the measured ratio
    assert f"{result['month_ratio_vs_duckdb']:.2f}x" in text
