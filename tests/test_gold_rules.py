"""The row rules the gold step runs after dbt's build (bank_assets.assets.gold_rules): the window
they read, dbt's test statuses, and the key their compiled SQL is kept under. The same verdicts as
dbt's own build: tests/test_pipeline_gold.py."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from bank_assets.assets import gold_rules

KEY = ("/project", "/project", "/project/target/parse/bank.duckdb", "", "")


def test_a_compiled_query_reads_the_builds_window_in_place_of_the_stand_in():
    start, end = gold_rules.STAND_IN
    sql = f"select * from m where (d >= cast('{start}' as date) and d < cast('{end}' as date))"
    out = gold_rules.in_window(sql, dt.date(2024, 2, 1), dt.date(2024, 4, 1))
    assert out == "select * from m where (d >= cast('2024-02-01' as date) and d < cast('2024-04-01' as date))"
    assert gold_rules.in_window("select * from whole_table", dt.date(2024, 2, 1), dt.date(2024, 3, 1), False)
    with pytest.raises(RuntimeError, match="stand-in window"):  # a monthly model's rules would read every month
        gold_rules.in_window("select * from m", dt.date(2024, 2, 1), dt.date(2024, 3, 1), True)


@pytest.mark.parametrize(
    ("failures", "config", "status"),
    [
        (0, {"severity": "ERROR", "warn_if": "!= 0", "error_if": "!= 0"}, "pass"),
        (3, {"severity": "ERROR", "warn_if": "!= 0", "error_if": "!= 0"}, "fail"),
        (3, {"severity": "warn", "warn_if": "!= 0", "error_if": "!= 0"}, "warn"),
        (7, {"severity": "error", "warn_if": "> 5", "error_if": "> 10"}, "warn"),
        (11, {"severity": "error", "warn_if": "> 5", "error_if": "> 10"}, "fail"),
        (4, {"severity": "error", "warn_if": "> 5", "error_if": "> 10"}, "pass"),
    ],
)
def test_a_rules_result_has_the_status_dbt_gives_a_test(failures, config, status):
    with duckdb.connect() as con:
        assert gold_rules.status_of(con, failures, config) == status


def test_the_compiled_rules_are_kept_under_every_project_file_and_the_profile(tmp_path):
    """A change to any model, macro, test or project file, or to the profile's settings, names
    another file (the SQL is compiled again); dbt's target and logs folders do not count."""
    for path, text in {
        "dbt_project.yml": "name: p",
        "models/m.sql": "select 1",
        "models/_models.yml": "models: []",
        "macros/w.sql": "{% macro w() %}{% endmacro %}",
        "tests/generic/row_rules.sql": "{% test row_rules(model) %}{% endtest %}",
        "target/compiled/m.sql": "select 1",
        "logs/dbt.log": "x",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    first = gold_rules.cache_file(str(tmp_path), KEY)
    assert first.parent == tmp_path / "target" and first.name.startswith("row_rules-")
    (tmp_path / "target" / "compiled" / "m.sql").write_text("select 2")
    (tmp_path / "logs" / "dbt.log").write_text("y")
    assert gold_rules.cache_file(str(tmp_path), KEY) == first
    names = {first}
    for path in ("macros/w.sql", "models/_models.yml", "tests/generic/row_rules.sql", "dbt_project.yml"):
        (tmp_path / path).write_text((tmp_path / path).read_text() + "\n-- changed")
        names.add(gold_rules.cache_file(str(tmp_path), KEY))
    other_warehouse = (*KEY[:2], "/project/target/parse/other.duckdb", *KEY[3:])
    names.add(gold_rules.cache_file(str(tmp_path), other_warehouse))
    assert len(names) == 6


def test_compiled_rules_are_read_from_the_kept_file_without_dbt(tmp_path, monkeypatch):
    """A new process finds the SQL the last compile kept (no dbt invocation); only the newest
    files are kept."""
    monkeypatch.setattr(gold_rules, "_COMPILED", {})
    monkeypatch.setattr(gold_rules, "manifest_key", lambda: KEY)
    (tmp_path / "target").mkdir()
    kept = gold_rules.cache_file(str(tmp_path), KEY)
    kept.write_text('{"test.p.m_rules": "select 1"}')

    def no_dbt(*_a, **_k):
        raise AssertionError("dbt was asked to compile")

    monkeypatch.setattr(gold_rules, "parsed_manifest", no_dbt)
    assert gold_rules.compiled_rules(str(tmp_path), str(tmp_path), tmp_path / "t") == {"test.p.m_rules": "select 1"}
    for i in range(gold_rules.KEEP_FILES + 3):
        (tmp_path / "target" / f"row_rules-{i:016d}.json").write_text("{}")
    gold_rules.prune(tmp_path / "target")
    assert len(list((tmp_path / "target").glob("row_rules-*.json"))) == gold_rules.KEEP_FILES


def test_rules_run_only_when_the_step_builds_every_model_they_read():
    """As dbt's cautious indirect selection: a subset of gold checks a model's rules only when the
    models its `references` rules read are built too."""
    from types import SimpleNamespace

    from dagster import AssetCheckKey, AssetKey

    def rules(name: str, *models: str) -> dict:
        return {
            "resource_type": "test",
            "name": f"{name}_rules",
            "test_metadata": {"name": "row_rules"},
            "depends_on": {"nodes": [f"model.p.{m}" for m in (name, *models)]},
        }

    nodes = {f"model.p.{m}": {"resource_type": "model", "name": m} for m in ("fct", "dim", "mart")}
    nodes |= {"test.fct": rules("fct", "dim"), "test.dim": rules("dim"), "test.mart": rules("mart", "fct")}
    checks = {AssetCheckKey(AssetKey(["gold", m]), f"{m}_rules") for m in ("fct", "dim", "mart")}

    def selected(*models: str) -> list[str]:
        context = SimpleNamespace(
            selected_asset_check_keys={c for c in checks if c.asset_key.path[-1] in models},
            selected_asset_keys={AssetKey(["gold", m]) for m in models},
        )
        return [n["name"] for n in gold_rules.selected_rules(context, {"nodes": nodes})]

    assert selected("fct", "dim", "mart") == ["dim_rules", "fct_rules", "mart_rules"]
    assert selected("fct", "mart") == ["mart_rules"]  # fct's rules read dim, which this subset does not build
    assert selected("dim") == ["dim_rules"]
