"""Recover from killed runs: dead runs that keep their pool slot. (dbt's leftover folders:
bank_assets.assets.dbt_targets; dbt's wait for the DuckDB lock: bank_assets.dbt_lock_wait.)

* :func:`sweep_dead_runs` marks STARTING/STARTED runs whose process is gone as FAILED and frees
  their concurrency (pool) slots; it also frees slots still held by runs that already finished.
  Dagster itself frees a run's slots only when its steps end normally, or (with the daemon) via
  ``run_monitoring.free_slots_after_run_end_seconds`` once the run is marked finished: a SIGKILLed
  ``python -m bank_assets.run`` process leaves a STARTED run holding its ``duckdb_warehouse`` slot,
  and every later run waits for that slot forever.
* :func:`process_tags` are the run tags our CLI sets so the sweep knows a run's process and host.
* :func:`process_alive` tells a live process from a dead one whose pid was reused.

Dagster is imported inside the functions that need it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import DagsterInstance, DagsterRun, RunRecord

Log = Callable[[str], None]

HOST_TAG = "bank/host"
PID_TAG = "bank/pid"

#: A run with no pid anywhere (tags or event log) is failed only when it is older than this...
NO_PID_MIN_AGE_S = 24 * 3600.0
#: ...and its event log has been silent for this long.
NO_PID_MIN_QUIET_S = 6 * 3600.0
#: /proc start times are exact to ~1 s (boot time is whole seconds): slack for the pid-reuse test.
_START_SLACK_S = 2.0


def process_tags() -> dict[str, str]:
    """Run tags naming this process and machine; the CLI passes them to every run it starts."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


# --- processes -----------------------------------------------------------------------------------


def _proc_start_time(pid: int) -> tuple[str, float] | None:
    """(state letter, start time as epoch seconds) from /proc on Linux; None if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        btime = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
    except (OSError, StopIteration, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may contain spaces
    return fields[0], btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, started_by: float | None = None) -> bool:
    """Whether process `pid` is running (not a zombie) on this machine.

    With `started_by` (an epoch timestamp at which the process we mean was known to be running),
    a process that started later is another program that reused the pid: not alive. When the
    start time cannot be read (no /proc), an existing pid counts as alive.
    """
    if pid <= 0:  # 0 and negatives address process groups in kill(): never ask about them
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    proc = _proc_start_time(pid)
    if proc is None:
        return True
    state, started = proc
    if state in ("Z", "X"):
        return False
    return started_by is None or started <= started_by + _START_SLACK_S


# --- dead runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunProcess:
    """A process known to have executed (part of) a run, and when it was seen doing so."""

    pid: int
    seen_at: float  # epoch seconds
    source: str


def run_processes(instance: DagsterInstance, run: DagsterRun, created_at: float) -> list[RunProcess]:
    """Every process that executed the run, from its event log, else from our tags.

    The event log is authoritative: the RUN_START and STEP_START events carry the pid of the
    process that emitted them (``DagsterEvent.pid``), whoever launched the run (our CLI's
    execute_in_process, or the DefaultRunLauncher's run worker, which also logs an engine event
    "Started process for run (pid: N)" with the pid in its metadata). Events written by other
    processes through ``instance.report_*`` carry no pid. Our ``bank/pid`` tag is used only when
    the run has no such event yet; tags can be copied onto a re-execution running elsewhere.
    """
    from dagster import DagsterEventType

    found: list[RunProcess] = []
    kinds = {DagsterEventType.RUN_START, DagsterEventType.STEP_START, DagsterEventType.ENGINE_EVENT}
    for record in instance.get_records_for_run(run.run_id, of_type=kinds).records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None:
            continue
        if event.pid is not None:
            found.append(RunProcess(event.pid, entry.timestamp, event.event_type_value))
        if event.event_type == DagsterEventType.ENGINE_EVENT:
            meta = event.engine_event_data.metadata.get("pid")
            value = getattr(meta, "value", None)
            if value is not None and str(value).isdigit():
                found.append(RunProcess(int(value), entry.timestamp, "engine event"))
    if not found and run.tags.get(PID_TAG, "").isdigit():
        found.append(RunProcess(int(run.tags[PID_TAG]), created_at, f"tag {PID_TAG}"))
    return found


def _last_event_time(instance: DagsterInstance, run_id: str) -> float | None:
    records = instance.get_records_for_run(run_id, limit=1, ascending=False).records
    return records[0].event_log_entry.timestamp if records else None


def held_slots(instance: DagsterInstance, run_id: str) -> dict[str, int]:
    """Concurrency (pool) slots claimed by the run, by pool name."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    held: dict[str, int] = {}
    for key in sorted(storage.get_concurrency_keys()):
        n = sum(1 for slot in storage.get_concurrency_info(key).claimed_slots if slot.run_id == run_id)
        if n:
            held[key] = n
    return held


def free_slots(instance: DagsterInstance, run_id: str) -> str:
    """Free the run's claimed slots and queued claims; returns e.g. "freed 1 duckdb_warehouse slot"."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return "no pool slots to free"
    held = held_slots(instance, run_id)
    storage.free_concurrency_slots_for_run(run_id)  # also drops its pending steps, assigns waiters
    if not held:
        return "it held no pool slot"
    return "freed " + ", ".join(f"{n} {key} slot{'s' if n > 1 else ''}" for key, n in held.items())


def dead_reason(instance: DagsterInstance, record: RunRecord, now: float) -> str | None:
    """Why the run's process is gone, or None if it may be alive (or is not ours to judge)."""
    run = record.dagster_run
    host = run.tags.get(HOST_TAG)
    if host is not None and host != socket.gethostname():
        return None  # started on another machine: its pid means nothing here
    created = record.create_timestamp.timestamp()
    procs = run_processes(instance, run, created)
    if procs:
        if any(process_alive(p.pid, p.seen_at) for p in procs):
            return None
        pids = sorted({p.pid for p in procs})
        return f"its process {pids[0]} is gone" if len(pids) == 1 else f"its processes {pids} are gone"
    last = _last_event_time(instance, run.run_id) or created
    if now - created > NO_PID_MIN_AGE_S and now - last > NO_PID_MIN_QUIET_S:
        return (
            f"it records no process, started {(now - created) / 3600:.0f} h ago and logged nothing for "
            f"{(now - last) / 3600:.0f} h"
        )
    return None


def _runs_holding_slots(instance: DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    ids = set(storage.get_concurrency_run_ids())  # runs with queued or assigned claims
    for key in storage.get_concurrency_keys():
        ids.update(slot.run_id for slot in storage.get_concurrency_info(key).claimed_slots if slot.run_id)
    return ids


def sweep_dead_runs(instance: DagsterInstance, log: Log) -> list[str]:
    """Mark STARTING/STARTED runs whose processes are gone FAILED and free their pool slots; free
    the slots still held by finished runs. Returns the ids of the runs it fixed, one log line each.

    A run is judged dead only when every process that executed it (see :func:`run_processes`) is
    gone, or reused by a program started later. A run with no pid at all is failed only if it is
    older than NO_PID_MIN_AGE_S and its event log has been quiet for NO_PID_MIN_QUIET_S. Runs
    tagged with another host are skipped.
    """
    from dagster import DagsterRunStatus, RunsFilter

    fixed: list[str] = []
    now = time.time()
    in_progress = RunsFilter(statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED])
    for record in instance.get_run_records(filters=in_progress):
        run = record.dagster_run
        reason = dead_reason(instance, record, now)
        if reason is None:
            continue
        current = instance.get_run_by_id(run.run_id)  # it may have finished while we looked
        if current is None or current.status not in (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED):
            continue
        instance.report_run_failed(current, f"Marked failed by bank_assets.recovery: {reason}.")
        freed = free_slots(instance, run.run_id)
        log(f"marked run {run.run_id[:8]} (job {run.job_name}) FAILED: {reason}; {freed}")
        fixed.append(run.run_id)
    for run_id in sorted(_runs_holding_slots(instance) - set(fixed)):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            freed = free_slots(instance, run_id)
            if run is None:
                log(f"run {run_id[:8]} no longer exists: {freed}")
            else:
                log(f"run {run_id[:8]} (job {run.job_name}) is already {run.status.value}: {freed}")
            fixed.append(run_id)
    return fixed
