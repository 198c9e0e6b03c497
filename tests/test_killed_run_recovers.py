"""A run killed with SIGKILL in the middle of a warehouse step never blocks the next command:
the next `python -m bank_assets.run` marks the dead run failed, frees its pool slot, completes
without manual action, and leaves the same tables as a clean build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, EventRecordsFilter

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2024-01"


def environment(work: Path) -> dict[str, str]:
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BANK_WAREHOUSE": str(work / "warehouse.duckdb"),
        "BANK_LANDING_DIR": str(work / "landing"),
        "BANK_SCALE": "tiny",
        "BANK_FIRST_MONTH": "2024-01",
        "BANK_LAST_MONTH": "2024-03",
    }


def start_run(env: dict[str, str], log: Path, month: str = MONTH) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bank_assets.run", "--start", month],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def run_month(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m bank_assets.run` for MONTH, to the end (no manual action in between)."""
    cmd = [sys.executable, "-m", "bank_assets.run", "--start", MONTH]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def wait_for_step(home: str, step_key: str, timeout_s: float = 300) -> None:
    """Block until some run has started `step_key` (read from the instance's event log)."""
    os.environ["DAGSTER_HOME"] = home
    deadline = time.monotonic() + timeout_s
    with DagsterInstance.from_config(home) as instance:
        while time.monotonic() < deadline:
            records = instance.get_event_records(EventRecordsFilter(event_type=DagsterEventType.STEP_START))
            if any(r.event_log_entry.step_key == step_key for r in records):
                return
            time.sleep(0.5)
    raise AssertionError(f"step {step_key} never started")


def table_state(path: Path) -> dict[str, list[str]]:
    """Every silver and gold table as sorted rows, without the lineage columns that name the run's
    time and the (temporary) landing folder."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('silver', 'gold') AND table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall()
        out = {}
        for schema, table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                    "AND column_name NOT IN ('_ingested_at', '_source_file') ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{table}"] = sorted(
                map(repr, con.execute(f"SELECT {select} FROM {schema}.{table}").fetchall())
            )
    return out


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory) -> dict[str, list[str]]:
    """The tables a clean build of MONTH leaves (built once for every kill point)."""
    clean_env = environment(tmp_path_factory.mktemp("clean"))
    clean = run_month(clean_env)
    assert clean.returncode == 0, clean.stdout[-3000:]
    return table_state(Path(clean_env["BANK_WAREHOUSE"]))


@pytest.mark.slow
@pytest.mark.parametrize("step_key", ["silver__transactions", "gold"])
def test_sigkill_in_a_warehouse_step_heals_on_the_next_command(tmp_path, step_key, clean_state):
    env = environment(tmp_path / "killed")
    victim = start_run(env, tmp_path / "victim.log")
    try:
        wait_for_step(env["DAGSTER_HOME"], step_key)
        time.sleep(1.0)  # inside the step: connections open, the pool slot claimed
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()

    retry = run_month(env)
    assert retry.returncode == 0, retry.stdout[-3000:] + retry.stderr[-3000:]
    # the console says what it did (in-process runs hold no pool slot; daemon-launched runs do,
    # and tests/test_recovery.py proves the sweep frees those)
    assert f"FAILED: its process {victim.pid} is gone" in retry.stdout, retry.stdout
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        statuses = sorted(r.dagster_run.status.value for r in instance.get_run_records())
    assert statuses == [DagsterRunStatus.FAILURE.value, DagsterRunStatus.SUCCESS.value]
    leftovers = [p for p in (ROOT / "dbt_models" / "target").glob(f"gold-*-{victim.pid}")]
    assert not leftovers, leftovers

    assert table_state(Path(env["BANK_WAREHOUSE"])) == clean_state
