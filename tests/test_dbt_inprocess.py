"""dbt run in-process behaves like the dbt CLI process dagster-dbt expects: JSON event lines on
stdout and an exit code that tells success from failure."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bank_assets.assets.dbt_inprocess import InProcessDbt, manifest_key, parse_env
from bank_assets.assets.dbt_project import dbt_project


def run(tmp_path, *args: str) -> tuple[int | None, list[dict]]:
    env = {
        **os.environ,
        "DBT_PROJECT_DIR": str(dbt_project.project_dir),
        "DBT_PROFILES_DIR": str(dbt_project.project_dir),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "target"),
        "DBT_LOG_FORMAT": "json",
        "BANK_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    process = InProcessDbt(["dbt", *args], env)
    events = [json.loads(line) for line in process.stdout if line.startswith(b"{")]
    return process.wait(), events


def test_success_streams_json_events(tmp_path):
    code, events = run(tmp_path, "ls", "--select", "cashflow_monthly", "--output", "name")
    assert code == 0
    assert any(e["info"]["msg"] == "cashflow_monthly" for e in events)
    assert all(e["info"]["level"] != "debug" for e in events)


def test_failure_gives_a_nonzero_exit_code_and_error_events(tmp_path):
    code, events = run(tmp_path, "run-operation", "no_such_macro")
    assert code == 1
    assert any(e["info"]["level"] == "error" for e in events)


def test_one_parse_serves_every_warehouse_file_of_the_same_name(tmp_path, monkeypatch):
    """The parsed nodes name relations by the database, which dbt-duckdb takes from the file's
    name: two warehouses called warehouse.duckdb share a parse (and its partial-parse state),
    bank.duckdb does not; the parse never sees the real path."""
    monkeypatch.setenv("DBT_PROJECT_DIR", str(dbt_project.project_dir))
    monkeypatch.setenv("BANK_WAREHOUSE", str(tmp_path / "a" / "warehouse.duckdb"))
    first = manifest_key()
    assert parse_env()["BANK_WAREHOUSE"] == str(
        Path(dbt_project.project_dir).resolve() / "target/parse/warehouse.duckdb"
    )
    monkeypatch.setenv("BANK_WAREHOUSE", str(tmp_path / "b" / "warehouse.duckdb"))
    assert manifest_key() == first
    monkeypatch.setenv("BANK_WAREHOUSE", str(tmp_path / "b" / "bank.duckdb"))
    assert manifest_key() != first
    monkeypatch.setenv("BANK_WAREHOUSE", ":memory:")
    assert parse_env() == {"BANK_WAREHOUSE": ":memory:"}
