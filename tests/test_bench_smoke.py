"""The benchmark's one-month comparison at tiny scale: the project, the plain-DuckDB reference and
the pandas + SQLite baseline must produce the same silver and gold row counts from the same files,
or the timings compare different work. (Timings themselves are not asserted: shared machines.)"""

from __future__ import annotations

from bank_assets.bench.run import bench_month, table


def test_project_reference_and_pandas_do_the_same_work(tmp_path):
    result = bench_month("tiny", "2024-02", repeats=1, pandas_repeats=1, work=tmp_path)
    rows = result["rows_project_reference_pandas"]
    assert rows["silver.transactions"][0] > 1000 and rows["gold.transaction_anomalies"][0] > 0
    disagree = {k: v for k, v in rows.items() if not v[0] == v[1] == v[2]}
    assert not disagree, disagree
    assert result["project_s"] > 0 and result["reference_s"] > 0 and result["pandas_s"] > 0
    assert set(result["project_layers_s"]) >= {"landing", "bronze", "silver", "gold (dbt)"}
    assert "ratio project / plain DuckDB" in table({"month": result})
