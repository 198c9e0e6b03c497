"""The cost of a month that is not data work: the `bookkeeping` section of ``python -m benchmarks``.

On a fresh warehouse and a fresh Dagster instance configured by the project's
``dagster_home/dagster.yaml``, at `small` scale (or `tiny` with --smoke):

* warm: ``python -m bank_assets.run`` over N months in ONE process (the quickstart's way, in
  runs of up to ``BANK_MONTHS_PER_RUN`` months): seconds per month as the CLI prints them (its
  runs' seconds over the months, the first month's one-time work of the process included), and
  Dagster events stored per month, counted in the instance;
* cold: the next month from a new process, start to exit;
* tiny: the same N months at `tiny` scale in one process, seconds per month (a fresh warehouse);
* event writes: one month's stored events replayed into a fresh event log, through Dagster's
  default ``SqliteEventLogStorage`` and through the project's ``PooledSqliteEventLogStorage``,
  side by side: milliseconds per event write;
* a fixed machine-speed check (the same DuckDB and Python work every run) printed beside them,
  so figures from a loaded machine can be told apart.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[1]
#: a run's line: "2024-03  monthly_pipeline ok in 12.1s ..." or "2024-01..2024-06  ... in 66.5s (11.1s a month) ..."
RUN_LINE = re.compile(
    r"^(?P<month>\d{4}-\d{2})(?:\.\.(?P<last>\d{4}-\d{2}))?\s+\S+\s+(?P<status>ok|FAILED)\s+in\s+(?P<s>[\d.]+)s"
    r".*\(run (?P<run>\w+)\)"
)


def months_of(line: dict[str, Any]) -> int:
    """How many months a run line covers."""
    if not line.get("last"):
        return 1
    (y0, m0), (y1, m1) = (map(int, line[k].split("-")) for k in ("month", "last"))
    return (y1 - y0) * 12 + m1 - m0 + 1


TARGETS = {
    "warm_month_s": ("<=", 10.0),
    "warm_tiny_month_s": ("<=", 6.0),
    "cold_month_s": ("<=", 15.0),
    "events_per_month": ("<=", 600),
    "event_write_ms": ("<=", 1.0),
}


def machine_speed_check() -> float:
    """Seconds for a fixed piece of work: a DuckDB aggregate over 20M rows and a Python loop."""
    t0 = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("SELECT sum(i % 7), count(DISTINCT i % 1000) FROM range(20000000) t(i)").fetchall()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return time.perf_counter() - t0


def _env(root: Path, scale: str) -> dict[str, str]:
    from benchmarks.harness import cli_env

    return {**os.environ, **cli_env(root, scale)}


def _cli(env: dict[str, str], start: str, end: str) -> tuple[float, list[dict[str, Any]]]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "bank_assets.run", "--start", start, "--end", end],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    months = [m.groupdict() for line in out.stdout.splitlines() if (m := RUN_LINE.match(line))]
    if out.returncode != 0 or not months or any(m["status"] != "ok" for m in months):
        raise RuntimeError(f"bank_assets.run {start}..{end} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return seconds, months


def _events(home: Path) -> dict[str, int]:
    """Events stored per run (run id prefix -> count), read from the instance."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        return {r.run_id[:8]: len(instance.all_logs(r.run_id)) for r in instance.get_runs()}


def replay_ms_per_event(home: Path, run_prefix: str, work: Path) -> dict[str, float]:
    """One run's stored events written again into fresh event logs: the default storage and ours."""
    from dagster import DagsterInstance
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from bank_assets.instance_storage import PooledSqliteEventLogStorage

    with DagsterInstance.from_config(str(home)) as instance:
        (run,) = [r for r in instance.get_runs() if r.run_id.startswith(run_prefix)]
        events = instance.all_logs(run.run_id)
    out: dict[str, float] = {"events": len(events)}
    for name, cls in (("default", SqliteEventLogStorage), ("pooled", PooledSqliteEventLogStorage)):
        folder = work / f"replay-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        storage = cls(base_dir=str(folder))
        t0 = time.perf_counter()
        for e in events:
            storage.store_event(e)
        out[f"{name}_ms"] = (time.perf_counter() - t0) / len(events) * 1000
        storage.dispose()
    return out


def bench_bookkeeping(scale: str, warm_months: int, work: Path) -> dict[str, Any]:
    from benchmarks.harness import log

    months = [f"2024-{m:02d}" for m in range(1, warm_months + 2)]
    env = _env(work, scale)
    speed = [machine_speed_check()]
    log(f"bookkeeping: {warm_months} {scale} months in one process ({months[0]}..{months[-2]})")
    warm_total, warm = _cli(env, months[0], months[-2])
    speed.append(machine_speed_check())
    log(f"bookkeeping: {months[-1]} from a new process")
    cold_s, _ = _cli(env, months[-1], months[-1])
    speed.append(machine_speed_check())
    tiny: float | None = None
    if scale != "tiny":
        log(f"bookkeeping: {warm_months} tiny months in one process ({months[0]}..{months[-2]})")
        _, tiny_runs = _cli(_env(work / "tiny", "tiny"), months[0], months[-2])
        tiny = sum(float(r["s"]) for r in tiny_runs) / sum(months_of(r) for r in tiny_runs)
    events = _events(Path(env["DAGSTER_HOME"]))
    n = sum(months_of(r) for r in warm)
    replay = replay_ms_per_event(Path(env["DAGSTER_HOME"]), warm[-1]["run"], work)
    return {
        "scale": scale,
        "warm_months": warm_months,
        "warm_runs": len(warm),
        "warm_process_s": warm_total,
        "warm_month_s": sum(float(r["s"]) for r in warm) / n,
        "warm_runs_s": {f"{r['month']}..{r['last'] or r['month']}": float(r["s"]) for r in warm},
        "cold_month_s": cold_s,
        "warm_tiny_month_s": tiny,
        "events_per_month": sum(events[r["run"]] for r in warm) / n,
        "event_write_ms": replay["pooled_ms"],
        "event_write_default_ms": replay["default_ms"],
        "replayed_events": replay["events"],
        "machine_speed_check_s": statistics.median(speed),
    }


def either(a: str, b: str) -> str:
    """The verdict of two alternative targets, from their own verdicts."""
    if "smoke" in a:
        return "smoke run: not comparable"
    return "met" if "MISSED" not in a or "MISSED" not in b else "MISSED"


def table_rows(b: dict[str, Any], check: Any) -> list[tuple[str, str, str]]:
    scale = b["scale"]
    return [
        (
            f"bookkeeping: a {scale} month, warm process ({b['warm_months']} months in "
            f"{b.get('warm_runs', b['warm_months'])} run(s), first month's one-time work included)",
            f"{b['warm_month_s']:.1f} s",
            check("warm_month_s", b["warm_month_s"]),
        ),
        *(
            [
                (
                    f"bookkeeping: a tiny month, warm process ({b['warm_months']} months)",
                    f"{b['warm_tiny_month_s']:.1f} s",
                    check("warm_tiny_month_s", b["warm_tiny_month_s"]),
                )
            ]
            if b.get("warm_tiny_month_s")
            else []
        ),
        (
            f"bookkeeping: {b['warm_months']} {scale} months in one process, start to exit",
            f"{b['warm_process_s']:.1f} s",
            "",
        ),
        (
            f"bookkeeping: one {scale} month from a new process, start to exit",
            f"{b['cold_month_s']:.1f} s",
            check("cold_month_s", b["cold_month_s"]),
        ),
        (
            "bookkeeping: Dagster events stored per month",
            f"{b['events_per_month']:.0f}",
            check("events_per_month", b["events_per_month"]),
        ),
        (
            "bookkeeping: one event write, project's event log",
            f"{b['event_write_ms']:.2f} ms",
            check("event_write_ms", b["event_write_ms"]),
        ),
        (
            "bookkeeping: events <= 600 a month OR an event write <= 1 ms (the issue's target: either)",
            "",
            either(check("events_per_month", b["events_per_month"]), check("event_write_ms", b["event_write_ms"])),
        ),
        (
            "bookkeeping: one event write, Dagster's default SQLite event log",
            f"{b['event_write_default_ms']:.2f} ms",
            "",
        ),
        ("bookkeeping: machine speed check (fixed work, median of 3)", f"{b['machine_speed_check_s']:.2f} s", ""),
    ]
