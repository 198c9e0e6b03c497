"""dbt run in-process behaves like the dbt CLI process dagster-dbt expects: JSON event lines on
stdout and an exit code that tells success from failure."""

from __future__ import annotations

import json
import os

from bank_assets.assets.dbt_inprocess import InProcessDbt
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
