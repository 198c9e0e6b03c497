"""Recovery after killed runs: dead runs lose their pool slot, dbt waits for the lock, folders go."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
import yaml
from dagster import (
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    instance_for_test,
)
from dagster._core.events import EngineEventData

from bank_assets import dbt_lock_wait, recovery
from bank_assets.assets.dbt_targets import clean_stale_dbt_targets
from bank_assets.recovery import (
    HOST_TAG,
    PID_TAG,
    process_alive,
    process_tags,
    sweep_dead_runs,
)
from bank_assets.settings import DBT_PROJECT_DIR
from bank_assets.warehouse.connection import WarehouseLockedError, wait_for_warehouse

POOL = "duckdb_warehouse"

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS t (x INT)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""

#: A CLI-like process: one run of `monthly_pipeline` whose op sits in the pool, then hangs.
RUN_AND_HANG = """
import sys, time
from dagster import DagsterInstance, job, op
from bank_assets.recovery import process_tags

@op(pool="duckdb_warehouse")
def write_warehouse():
    print("claimed", flush=True)
    time.sleep(120)

@job
def monthly_pipeline():
    write_warehouse()

with DagsterInstance.from_config(sys.argv[1]) as instance:
    monthly_pipeline.execute_in_process(instance=instance, tags=process_tags())
"""

POOL_CONFIG = {"concurrency": {"pools": {"granularity": "op", "default_limit": 1}}, "telemetry": {"enabled": False}}


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def add_run(instance: DagsterInstance, tags: dict[str, str], job: str = "monthly_pipeline") -> DagsterRun:
    run = DagsterRun(job_name=job, status=DagsterRunStatus.STARTED, tags=tags)
    return instance.add_run(run)


def claimants(instance: DagsterInstance) -> list[str]:
    return [s.run_id for s in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots]


def status(instance: DagsterInstance, run: DagsterRun) -> DagsterRunStatus:
    current = instance.get_run_by_id(run.run_id)
    assert current is not None
    return current.status


# --- processes and the DuckDB lock -------------------------------------------------------------


def test_a_killed_lock_holder_is_dead_and_its_lock_is_gone(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold_lock(path, 60)
    try:
        assert process_alive(holder.pid)
        with pytest.raises(WarehouseLockedError, match=f"locked by process {holder.pid}"):
            wait_for_warehouse(str(path), timeout_s=0.3)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert not process_alive(holder.pid)
    assert wait_for_warehouse(str(path), timeout_s=5) < 1.0
    duckdb.connect(str(path)).close()


def test_process_alive_rejects_reused_and_invalid_pids():
    assert process_alive(os.getpid())
    assert process_alive(os.getpid(), started_by=time.time())
    # a process that started after the run was seen is another program that reused the pid
    assert not process_alive(os.getpid(), started_by=time.time() - 10 * 24 * 3600)
    assert not process_alive(dead_pid())
    assert not process_alive(0)
    assert not process_alive(-1)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="zombie state is read from /proc")
def test_a_killed_but_unreaped_process_is_dead():
    """A SIGKILLed child its parent has not waited for yet (a zombie) still answers kill(pid, 0)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        proc.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not process_alive(proc.pid)
    finally:
        proc.wait()


def test_wait_for_warehouse_waits_for_the_holder_then_returns(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold_lock(path, 1.5)
    messages: list[str] = []
    waited = wait_for_warehouse(str(path), timeout_s=60, log=messages.append)
    assert waited > 0.5
    assert messages and f"locked by process {holder.pid}" in messages[0]
    holder.wait()


def test_dbt_plugin_waits_before_connecting_and_gives_up_clearly(tmp_path):
    path = tmp_path / "w.duckdb"
    plugin = dbt_lock_wait.Plugin(name="warehouse_wait", plugin_config={"timeout_s": "0.3"})
    creds = SimpleNamespace(path=str(path))
    holder = hold_lock(path, 60)
    try:
        with pytest.raises(WarehouseLockedError, match="stayed locked"):
            plugin.update_connection_config(creds, {})
    finally:
        holder.kill()
        holder.wait()
    plugin.update_connection_config(creds, {})  # free now: returns at once


def test_profile_uses_the_wait_plugin_and_retries():
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["bank_lakehouse"]
    assert "else 'duckdb'" in profile["target"], "the embedded DuckDB file must stay dbt's default target"
    output = dict(profile["outputs"]["duckdb"], path="/tmp/x.duckdb", database="x", schema="main")
    output.pop("type")
    creds = DuckDBCredentials.from_dict(output)
    assert [p.module for p in creds.plugins or []] == ["bank_assets.dbt_lock_wait"]
    assert creds.retries is not None and creds.retries.connect_attempts > 1
    assert "IOException" in creds.retries.retryable_exceptions


# --- dead runs ---------------------------------------------------------------------------------


@pytest.fixture
def instance(tmp_path):
    with instance_for_test(temp_dir=str(tmp_path), overrides=POOL_CONFIG) as inst:
        inst.event_log_storage.set_concurrency_slots(POOL, 1)
        yield inst


def test_sweep_fails_a_run_whose_process_is_gone_and_frees_its_slot(instance):
    dead = add_run(instance, {HOST_TAG: process_tags()[HOST_TAG], PID_TAG: str(dead_pid())})
    live = add_run(instance, process_tags())
    storage = instance.event_log_storage
    assert storage.claim_concurrency_slot(POOL, dead.run_id, "silver_transactions").is_claimed
    assert not storage.claim_concurrency_slot(POOL, live.run_id, "silver_accounts").is_claimed
    assert claimants(instance) == [dead.run_id]

    lines: list[str] = []
    assert sweep_dead_runs(instance, lines.append) == [dead.run_id]

    assert status(instance, dead) == DagsterRunStatus.FAILURE
    assert status(instance, live) == DagsterRunStatus.STARTED
    pid = dead.tags[PID_TAG]
    assert lines == [
        f"marked run {dead.run_id[:8]} (job monthly_pipeline) FAILED: its process {pid} is gone; "
        f"freed 1 duckdb_warehouse slot"
    ]
    # the waiting run gets the slot now
    assert storage.claim_concurrency_slot(POOL, live.run_id, "silver_accounts").is_claimed
    assert claimants(instance) == [live.run_id]
    assert sweep_dead_runs(instance, lines.append) == []


def test_sweep_reads_the_pid_of_a_launched_run_from_its_event_log(instance):
    """Runs started by the webserver/daemon (DefaultRunLauncher) carry no bank tags: the run worker
    logs "Started process for run (pid: N)" and its events carry its pid."""
    gone = dead_pid()
    launched = add_run(instance, {})
    instance.report_engine_event(f"Started process for run (pid: {gone}).", launched, EngineEventData.in_process(gone))
    running = add_run(instance, {PID_TAG: str(dead_pid())})  # e.g. tags copied by a re-execution
    start = DagsterEvent(DagsterEventType.RUN_START.value, running.job_name, pid=os.getpid())
    instance.report_dagster_event(start, run_id=running.run_id)

    lines: list[str] = []
    assert sweep_dead_runs(instance, lines.append) == [launched.run_id]
    assert status(instance, launched) == DagsterRunStatus.FAILURE
    assert status(instance, running) == DagsterRunStatus.STARTED  # its RUN_START process lives
    assert lines == [
        f"marked run {launched.run_id[:8]} (job monthly_pipeline) FAILED: its process {gone} is gone; "
        "it held no pool slot"
    ]


def test_sweep_leaves_runs_without_pid_alone_unless_old_and_quiet(instance, monkeypatch):
    anonymous = add_run(instance, {})
    elsewhere = add_run(instance, {HOST_TAG: "another-host", PID_TAG: str(dead_pid())})
    assert sweep_dead_runs(instance, print) == []
    monkeypatch.setattr(recovery, "NO_PID_MIN_AGE_S", -1.0)
    monkeypatch.setattr(recovery, "NO_PID_MIN_QUIET_S", -1.0)
    lines: list[str] = []
    assert sweep_dead_runs(instance, lines.append) == [anonymous.run_id]
    assert "records no process" in lines[0]
    assert status(instance, elsewhere) == DagsterRunStatus.STARTED


def test_sweep_frees_slots_of_a_run_that_already_failed(instance):
    run = add_run(instance, process_tags())
    assert instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "gold").is_claimed
    instance.report_run_failed(run, "killed; the code server noticed")
    lines: list[str] = []
    assert sweep_dead_runs(instance, lines.append) == [run.run_id]
    assert claimants(instance) == []
    assert lines == [f"run {run.run_id[:8]} (job monthly_pipeline) is already FAILURE: freed 1 duckdb_warehouse slot"]


def test_a_sigkilled_run_process_is_recovered(tmp_path):
    """A real process runs a job whose op holds the pool slot; SIGKILL leaves it STARTED with the
    slot; the sweep fails it and frees the slot."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(POOL_CONFIG))
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_AND_HANG, str(home)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "claimed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.get_run_records()
        run = record.dagster_run
        assert run.status == DagsterRunStatus.STARTED
        assert run.tags[PID_TAG] == str(proc.pid)
        assert claimants(instance) == [run.run_id]
        lines: list[str] = []
        assert sweep_dead_runs(instance, lines.append) == [run.run_id]
        assert status(instance, run) == DagsterRunStatus.FAILURE
        assert claimants(instance) == []
        assert re.fullmatch(rf".* FAILED: its process {proc.pid} is gone; freed 1 duckdb_warehouse slot", lines[0])


# --- dbt target folders ------------------------------------------------------------------------


def test_clean_stale_dbt_targets_removes_dead_pid_folders_only(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    gone, mine = dead_pid(), os.getpid()
    keep_files = ["manifest.json", "partial_parse.msgpack", "partial_parse-0123456789ab.msgpack", "run_results.json"]
    for name in keep_files:
        (target / name).write_text("{}")
    stale = target / f"gold_incremental-1a2b3c4d-{gone}"
    live = target / f"gold_base-1a2b3c4d-{mine}"
    reused = target / f"gold_rollups-5e6f7a8b-{mine}"  # written long before this process started
    other = [target / "compiled", target / f"not-a-run-{gone}", target / f"gold_x-NOTHEX12-{gone}"]
    for folder in [stale, live, reused, *other]:
        (folder / "run").mkdir(parents=True)
        (folder / "run" / "model.sql").write_text("select 1")
    old = time.time() - 30 * 24 * 3600
    os.utime(reused, (old, old))
    tmp_cache = target / f"partial_parse-0123456789ab.tmp-{gone}"
    tmp_cache.write_text("x")

    lines: list[str] = []
    assert clean_stale_dbt_targets(target, lines.append) == 3
    assert not stale.exists() and not reused.exists() and not tmp_cache.exists()
    assert live.is_dir() and all(p.is_dir() for p in other)
    assert all((target / name).is_file() for name in keep_files)
    assert len(lines) == 3 and all("is gone" in line for line in lines)
    assert clean_stale_dbt_targets(target, lines.append) == 0
    assert clean_stale_dbt_targets(tmp_path / "missing", lines.append) == 0


def test_parse_caches_are_bounded(tmp_path):
    """One partial-parse cache per warehouse path: only the newest KEEP_PARSE_CACHES stay."""
    from bank_assets.assets.dbt_targets import KEEP_PARSE_CACHES, prune_parse_caches

    for i in range(KEEP_PARSE_CACHES + 3):
        path = tmp_path / f"partial_parse-{i:012x}.msgpack"
        path.write_bytes(b"x")
        os.utime(path, (1000 + i, 1000 + i))
    (tmp_path / "partial_parse.msgpack").write_bytes(b"project")
    assert prune_parse_caches(tmp_path) == 3
    kept = sorted(p.name for p in tmp_path.glob("partial_parse-*.msgpack"))
    assert kept == [f"partial_parse-{i:012x}.msgpack" for i in range(3, KEEP_PARSE_CACHES + 3)]
    assert (tmp_path / "partial_parse.msgpack").exists()
