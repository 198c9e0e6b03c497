"""The lakehouse profile end to end on one machine (``bash scripts/lakehouse.sh``).

1. starts PostgreSQL, an S3 server (SeaweedFS) and Redis on 127.0.0.1 with throwaway folders
   (``devtools.stack``);
2. writes the landing files of N months once (the synthetic bank), so every build reads the same
   bytes;
3. builds them on the embedded default (``python -m bank_assets.run``, one DuckDB file): the
   reference;
4. for each worker count (1, then 2): a fresh Dagster instance (PostgreSQL) and a fresh lake
   (DuckLake catalog in PostgreSQL, Parquet in the bucket), that many Celery workers, the
   webserver and the daemon; a backfill of every asset over the N months launched as the UI's
   "Materialize all" does (GraphQL ``launchPartitionBackfill``), and waited for until the daemon
   is idle;
5. prints per-month timings, how many months ran at once, the speed-up of 2 workers over 1, and
   a checksum of every gold table against the reference (row count and the sum of every row's
   hash); then stops everything it started, by pid.

Exit status: 0 when every run succeeded and every checksum matches, 1 otherwise, 2 when a
required server is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.operate import PROJECT_ROOT, VENV_BIN, DagsterServer, monthly_keys, stop_process_group

INGEST_GROUPS = ("landing", "bronze", "silver")
GOLD_GROUPS = ("gold", "analytics", "reports")
LAKEHOUSE_YAML = PROJECT_ROOT / "deploy" / "lakehouse" / "dagster.yaml"
#: what a gold checksum covers: every table dbt materializes (views hold no data)
GOLD_SCHEMAS = ("gold", "intermediate")


def log(msg: str) -> None:
    print(f"[lakehouse {dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


@dataclass
class Trial:
    workers: int
    wall_s: float = 0.0
    runs: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    max_parallel: int = 0
    conflicts_retried: int = 0
    gold_month_s: dict[str, float] = field(default_factory=dict)
    checksums: dict[str, tuple[int, int]] = field(default_factory=dict)
    month_folders: dict[str, list[str]] = field(default_factory=dict)
    url: str = ""

    def span(self, kind: str) -> float:
        """Seconds from the first start to the last end of the trial's runs of one kind."""
        runs = [r for r in self.runs if r["kind"] == kind and r["end"]]
        return max(r["end"] for r in runs) - min(r["start"] for r in runs) if runs else 0.0


# --- the reference: the embedded default on the same landing files ------------------------------


def run_logged(cmd: list[str], env: dict[str, str], logfile: Path, timeout_s: float) -> float:
    began = time.monotonic()
    with logfile.open("w") as fh:
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            rc = proc.wait(timeout=timeout_s)
        except BaseException:
            stop_process_group(proc, grace_s=10)
            raise
    if rc:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {rc}; see {logfile}:\n{logfile.read_text()[-3000:]}")
    return time.monotonic() - began


def base_env(root: Path, first: str, last: str, scale: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "BANK_"))}
    env.update(
        BANK_LANDING_DIR=str(root / "landing"),
        BANK_LANDING_MODE="files",
        BANK_SCALE=scale,
        BANK_FIRST_MONTH=first,
        BANK_LAST_MONTH=last,
        PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""),
        PYTHONUNBUFFERED="1",
    )
    return env


def write_landing(root: Path, first: str, last: str, scale: str) -> float:
    cmd = [str(VENV_BIN / "python"), "-m", "bank_assets.synthetic", "--start", first, "--end", last]
    cmd += ["--scale", scale, "--out", str(root / "landing"), "--quiet"]
    return run_logged(cmd, base_env(root, first, last, scale), root / "landing.log", 1800)


def build_embedded(root: Path, first: str, last: str, scale: str) -> float:
    home = root / "embedded" / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = base_env(root, first, last, scale)
    env.update(
        DAGSTER_HOME=str(home),
        BANK_WAREHOUSE=str(root / "embedded" / "bank.duckdb"),
        BANK_REPORTS_DIR=str(root / "embedded" / "reports"),
    )
    cmd = [str(VENV_BIN / "python"), "-m", "bank_assets.run", "--start", first, "--end", last]
    return run_logged(cmd, env, root / "embedded.log", 7200)


def gold_checksums(con: Any) -> dict[str, tuple[int, int]]:
    """{schema.table: (rows, sum of hash(row))} for every gold and intermediate table."""
    tables = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        f"WHERE table_schema IN {GOLD_SCHEMAS} AND table_type = 'BASE TABLE' ORDER BY 1"
    ).fetchall()
    out = {}
    for (t,) in tables:
        n, h = con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} AS x").fetchone()
        out[t] = (int(n), int(h))
    return out


#: tables whose Parquet folders the report lists (one per layer)
FOLDER_TABLES = (("bronze", "transactions"), ("silver", "transactions"), ("gold", "fct_transactions"))


def month_folders(con: Any) -> dict[str, list[str]]:
    """{schema.table: sorted `year=/month=` folders of its current data files} in the lake."""
    out = {}
    for schema, table in FOLDER_TABLES:
        files = con.execute(
            "SELECT data_file FROM ducklake_list_files('lake', ?, schema => ?)", [table, schema]
        ).fetchall()
        found = {m.group(0) for (f,) in files if (m := re.search(r"year=\d+/month=\d+", f))}
        out[f"{schema}.{table}"] = sorted(found, key=lambda x: [int(n) for n in re.findall(r"\d+", x)])
    return out


def embedded_checksums(root: Path) -> dict[str, tuple[int, int]]:
    import duckdb

    con = duckdb.connect(str(root / "embedded" / "bank.duckdb"), read_only=True)
    try:
        return gold_checksums(con)
    finally:
        con.close()


# --- the lakehouse ----------------------------------------------------------------------------


def create_databases(stack: Any, names: list[str]) -> None:
    import psycopg2

    con = psycopg2.connect(stack.pg_dsn("postgres"))
    con.autocommit = True
    try:
        with con.cursor() as cur:
            for name in names:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        con.close()


def lake_env(stack: Any, workers: int) -> dict[str, str]:
    """The lakehouse settings of one trial: the stack's servers (its env()), the trial's own
    catalog, data prefix, Dagster database and Redis databases."""
    redis = stack.redis_url.rsplit("/", 1)[0]
    env = {k: v for k, v in stack.env().items() if k.startswith(("BANK_S3_", "BANK_LAKE_"))}
    env.update(
        BANK_PROFILE="lakehouse",
        BANK_LAKE_CATALOG=stack.pg_dsn(f"lake_w{workers}"),
        BANK_LAKE_DATA_PATH=f"s3://{stack.bucket}/w{workers}/",
        BANK_DAGSTER_PG_HOST=stack.pg_host,
        BANK_DAGSTER_PG_PORT=str(stack.pg_port),
        BANK_DAGSTER_PG_USER=stack.pg_user,
        BANK_DAGSTER_PG_PASSWORD="",
        BANK_DAGSTER_PG_DB=f"dagster_w{workers}",
        BANK_CELERY_BROKER=f"{redis}/{2 * workers}",
        BANK_CELERY_BACKEND=f"{redis}/{2 * workers + 1}",
        BANK_DUCKDB_EXTENSION_DIR=os.environ.get("BANK_DUCKDB_EXTENSION_DIR")
        or str(PROJECT_ROOT / ".duckdb" / "extensions"),
    )
    return env


def start_workers(srv: DagsterServer, n: int, logdir: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(1, n + 1):
        cmd = [str(VENV_BIN / "celery"), "-A", "bank_assets.lakehouse.celery_app", "worker", "-Q", "dagster"]
        cmd += ["--concurrency", "1", "--prefetch-multiplier", "1", "--max-tasks-per-child", "1"]
        cmd += ["-n", f"bank-w{i}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        fh = (logdir / f"worker-{i}.log").open("w")
        procs.append(
            subprocess.Popen(
                cmd, cwd=PROJECT_ROOT, env=srv.env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
        log(f"celery worker {i}/{n} started, pid {procs[-1].pid}")
    return procs


def run_trial(
    stack: Any,
    root: Path,
    first: str,
    last: str,
    scale: str,
    workers: int,
    timeout_s: float,
    keep: contextlib.ExitStack | None = None,
    ui_port: int = 0,
) -> Trial:
    """One backfill on a fresh instance and lake with `workers` Celery workers. With `keep`, the
    webserver, daemon and workers stay up until that stack closes (the --ui mode)."""
    trial = Trial(workers)
    months = monthly_keys(first, last)
    create_databases(stack, [f"dagster_w{workers}", f"lake_w{workers}"])
    env = lake_env(stack, workers)
    env.update({k: v for k, v in base_env(root, first, last, scale).items() if k.startswith("BANK_")})
    os.environ.update(env)  # this process reads the same instance (dagster.yaml takes {env: ...})
    logdir = root / f"w{workers}"
    logdir.mkdir()
    instance_yaml = logdir / "dagster.yaml"
    instance_yaml.write_text(with_max_runs(LAKEHOUSE_YAML.read_text(), workers))
    run_logged(
        [str(VENV_BIN / "python"), "-m", "bank_assets.lakehouse", "init"], {**os.environ}, logdir / "init.log", 300
    )
    with contextlib.ExitStack() as own:
        servers = keep if keep is not None else own
        srv = servers.enter_context(
            DagsterServer(first, last, scale, extra_env=env, dagster_yaml=instance_yaml, port=ui_port)
        )
        procs = start_workers(srv, workers, logdir)

        def stop_workers() -> None:
            for p in procs:
                stop_process_group(p)
            log(f"{workers} worker(s): stopped workers {[p.pid for p in procs]}")

        servers.callback(stop_workers)
        pause_sensor(srv, AUTOMATION_SENSOR)
        began = time.time()
        # A backfill of landing..silver (a month per run, side by side on the workers), then one of
        # gold and the reports over the same months (one run, oldest month first). The automation
        # sensor, which would otherwise build gold month by month as silver months land, is paused
        # first (see the README: automation does the same work in smaller runs) and left stopped:
        # started again, it rebuilds once the months whose silver changed since its last tick.
        ingest = srv.asset_keys_in_groups(INGEST_GROUPS)
        backfill = srv.launch_backfill(ingest, months, title=f"lakehouse: landing..silver x {len(months)} months")
        log(
            f"{workers} worker(s): backfill {backfill} of {len(ingest)} landing..silver assets x {len(months)} "
            "months launched through the daemon (GraphQL launchPartitionBackfill, as the UI does)"
        )
        srv.wait_idle(timeout_s=timeout_s, quiet_s=5, min_sensor_ticks=0, poll_s=1)
        downstream = srv.asset_keys_in_groups(GOLD_GROUPS)
        backfill = srv.launch_backfill(
            downstream, months, title=f"lakehouse: gold, analytics and reports x {len(months)} months"
        )
        log(f"{workers} worker(s): backfill {backfill} of {len(downstream)} gold, analytics and report assets launched")
        summary = srv.wait_idle(timeout_s=timeout_s, quiet_s=5, min_sensor_ticks=0, poll_s=1)
        runs = [r for r in summary.runs if r.start_time]
        trial.failed = [
            f"{f.run.run_id[:8]} {f.run.job_name}: {' | '.join(f.messages)[:1500]}" for f in summary.failed_runs
        ]
        trial.runs = [
            {
                "run_id": r.run_id,
                "months": run_months(r.tags),
                "kind": "gold" if any(k.startswith("gold") for k in run_kinds(srv, r.run_id)) else "ingest",
                "start": r.start_time,
                "end": r.end_time,
                "seconds": (r.end_time or time.time()) - r.start_time,
            }
            for r in sorted(runs, key=lambda r: r.start_time)
        ]
        ends = [r["end"] for r in trial.runs if r["end"]]
        trial.wall_s = (max(ends) if ends else time.time()) - began
        trial.max_parallel = max_overlap([(r["start"], r["end"] or time.time()) for r in trial.runs])
        dump_runs(srv, logdir / "runs.json")
        trial.gold_month_s = gold_month_seconds(srv, [r["run_id"] for r in trial.runs])
        trial.conflicts_retried = count_conflicts([srv.tmp, logdir])
        from bank_assets.warehouse.connection import connect

        with connect("", read_only=True) as con:
            trial.checksums = gold_checksums(con)
            trial.month_folders = month_folders(con)
        trial.url = srv.url
    return trial


AUTOMATION_SENSOR = "gold_automation"
Q_SENSOR = """
query LakehouseSensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { id sensorState { status } }
    ... on Error { message }
  }
}
"""
M_STOP_SENSOR = """
mutation LakehouseStopSensor($id: String) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { status } }
    ... on PythonError { message }
  }
}
"""
M_START_SENSOR = """
mutation LakehouseStartSensor($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status } }
    ... on PythonError { message }
  }
}
"""


def pause_sensor(srv: DagsterServer, name: str, timeout_s: float = 180, attempts: int = 5) -> None:
    """Stop a sensor once the daemon has evaluated it, and check that it stays stopped.

    The daemon writes the sensor's state back when a tick ends: a stop sent before the first tick,
    or while a tick is being evaluated, can be overwritten by that write (both seen here). So wait
    for a finished tick with none in flight, stop, wait again for any tick that began meanwhile,
    and read the status; when the stop was overwritten, send it again (up to `attempts` times)."""
    deadline = time.monotonic() + timeout_s

    def settled() -> str | None:
        """The sensor's status once its latest tick has finished."""
        while True:
            status, ticks = srv.sensor_ticks(name)
            latest = max(ticks, key=lambda t: t["timestamp"], default=None)
            if latest is not None and latest["status"] != "STARTED":
                return status
            if time.monotonic() > deadline:
                raise RuntimeError(f"sensor {name}: no finished tick in {timeout_s:.0f}s")
            time.sleep(1)

    for attempt in range(1, attempts + 1):
        settled()
        set_sensor(srv, name, running=False)
        time.sleep(3)
        if settled() == "STOPPED":
            return
        log(f"sensor {name}: a tick overwrote the stop (attempt {attempt} of {attempts}); stopping again")
    raise RuntimeError(f"sensor {name} did not stay stopped after {attempts} stops")


def set_sensor(srv: DagsterServer, name: str, running: bool) -> None:
    """Start or stop a sensor as the UI's toggle does (GraphQL)."""
    selector = {"repositoryLocationName": srv.location_name, "repositoryName": srv.repository_name, "sensorName": name}
    if running:
        res = srv.graphql(M_START_SENSOR, {"selector": selector})["startSensor"]
        status = (res.get("sensorState") or {}).get("status")
    else:
        sensor = srv.graphql(Q_SENSOR, {"selector": selector})["sensorOrError"]
        if sensor["__typename"] != "Sensor":
            raise RuntimeError(f"sensor {name}: {sensor}")
        res = srv.graphql(M_STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
        status = (res.get("instigationState") or {}).get("status")
    if status != ("RUNNING" if running else "STOPPED"):
        raise RuntimeError(f"sensor {name}: could not {'start' if running else 'stop'} it: {res}")
    log(f"sensor {name}: {status}")


def with_max_runs(yaml_text: str, n: int) -> str:
    """The lakehouse dagster.yaml with `concurrency: runs: max_concurrent_runs` set to `n`."""
    pattern = re.compile(r"^(\s+max_concurrent_runs:\s*)\d+", re.M)
    if not pattern.search(yaml_text):
        raise ValueError(f"{LAKEHOUSE_YAML} has no `max_concurrent_runs: <n>` line")
    return pattern.sub(lambda m: f"{m.group(1)}{n}", yaml_text, count=1)


def run_months(tags: dict[str, str]) -> list[str]:
    if "dagster/partition" in tags:
        return [tags["dagster/partition"][:7]]
    lo, hi = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if lo and hi:
        return [m[:7] for m in monthly_keys(lo[:7], hi[:7])]
    return []


def run_kinds(srv: DagsterServer, run_id: str) -> list[str]:
    """Layers of the assets a run targets (the first part of their keys)."""
    run = srv.instance().get_run_by_id(run_id)
    return sorted({k.path[0] for k in (run.asset_selection or set())}) if run else []


def max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def dump_runs(srv: DagsterServer, path: Path) -> None:
    """Every run of the trial (tags, assets, times, status) as JSON, for a look afterwards."""
    out = []
    for rec in srv.instance().get_run_records():
        run = rec.dagster_run
        out.append(
            {
                "run_id": run.run_id,
                "status": run.status.value,
                "tags": dict(run.tags),
                "assets": sorted(k.to_user_string() for k in (run.asset_selection or set())),
                "start": rec.start_time,
                "end": rec.end_time,
            }
        )
    path.write_text(json.dumps(sorted(out, key=lambda r: r["start"] or 0), indent=1))


def gold_month_seconds(srv: DagsterServer, run_ids: list[str]) -> dict[str, float]:
    """{month: seconds of its dbt build} from the gold step's "dbt build for" log lines."""
    gold: dict[str, float] = {}
    inst = srv.instance()
    for run_id in run_ids:
        starts: list[tuple[str, float]] = []
        end = None
        for ev in inst.all_logs(run_id):
            msg = ev.user_message or ""
            if msg.startswith("dbt build for "):
                starts.append((msg[len("dbt build for ") :][:7], ev.timestamp))
            if ev.step_key == "gold" and ev.dagster_event and ev.dagster_event.event_type_value == "STEP_SUCCESS":
                end = ev.timestamp
        for i, (month, t) in enumerate(starts):
            nxt = starts[i + 1][1] if i + 1 < len(starts) else end
            if nxt:
                gold[month] = nxt - t
    return gold


def count_conflicts(folders: list[Path]) -> int:
    """Lines reporting a DuckLake transaction conflict that was retried (run logs, worker logs)."""
    n = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (".log", ".err", ".out", ""):
                with contextlib.suppress(OSError):
                    n += path.read_text(errors="replace").count("DuckLake transaction conflict (attempt")
    return n


# --- report -------------------------------------------------------------------------------------


def report(
    first: str, last: str, scale: str, landing_s: float, embedded_s: float, ref: dict, trials: list[Trial]
) -> tuple[int, dict]:
    """Print the comparison; return (exit code, the same facts as data for --result)."""
    months = [m[:7] for m in monthly_keys(first, last)]
    bad = 0
    summary: dict = {"months": months, "scale": scale, "trials": []}
    print(f"\n=== lakehouse profile: {len(months)} months ({first}..{last}), scale {scale} ===")
    print(f"landing files written once: {landing_s:.1f} s; embedded default (one DuckDB file): {embedded_s:.1f} s")
    for t in trials:
        print(
            f"\n-- {t.workers} worker(s): {t.wall_s:.1f} s from the backfill to the last run "
            f"(landing..silver {t.span('ingest'):.1f} s, gold, analytics and reports {t.span('gold'):.1f} s), "
            f"up to {t.max_parallel} runs at once, {len(t.runs)} runs, {len(t.failed)} failed, "
            f"{t.conflicts_retried} DuckLake conflicts retried"
        )
        per_month: dict[str, list[str]] = defaultdict(list)
        for r in t.runs:
            label = f"{r['kind']} run {r['run_id'][:8]} {r['seconds']:.1f} s"
            if len(r["months"]) > 1:
                label += f" ({r['months'][0]}..{r['months'][-1]})"
            for m in r["months"]:
                per_month[m].append(label)
        for m in months:
            g = t.gold_month_s.get(m)
            gold = f"; its dbt build {g:.1f} s" if g is not None else ""
            print(f"   {m}: {' | '.join(per_month.get(m, ['no run']))}{gold}")
        for f in t.failed:
            print(f"   FAILED {f}")
            bad += 1
        for table, folders in t.month_folders.items():
            print(f"   {table}: Parquet files in {len(folders)} month folders ({folders[0] if folders else '-'} ...)")
            if len(folders) != len(months):
                print(f"   NOT PARTITIONED BY MONTH {table}: {folders}")
                bad += 1
        keys = sorted(set(ref) | set(t.checksums))
        diff = {k: (ref.get(k), t.checksums.get(k)) for k in keys if ref.get(k) != t.checksums.get(k)}
        equal = len(ref) - len([k for k in diff if k in ref])
        print(f"   gold checksums vs embedded: {equal}/{len(ref)} tables equal")
        for k, (a, b) in diff.items():
            print(f"   DIFFERS {k}: embedded {a} lakehouse {b}")
            bad += 1
        summary["trials"].append(
            {
                "workers": t.workers,
                "wall_s": round(t.wall_s, 1),
                "max_parallel_runs": t.max_parallel,
                "runs": len(t.runs),
                "failed": list(t.failed),
                "month_folders": {table: len(folders) for table, folders in t.month_folders.items()},
                "gold_tables": len(ref),
                "gold_tables_equal": equal,
                "differs": sorted(diff),
            }
        )
    by = {t.workers: t for t in trials}
    if 1 in by and 2 in by and by[2].wall_s:
        one, two = by[1], by[2]
        ratio = lambda a, b: f"{a / b:.2f}x" if b else "n/a"  # noqa: E731
        print(
            f"\nspeed-up of 2 workers over 1: {ratio(one.wall_s, two.wall_s)} overall "
            f"({one.wall_s:.1f} s -> {two.wall_s:.1f} s); "
            f"landing..silver {ratio(one.span('ingest'), two.span('ingest'))}, "
            f"gold {ratio(one.span('gold'), two.span('gold'))} (gold runs one month after another by design); "
            f"{os.cpu_count()} CPU cores on this machine"
        )
    print("\nresult: " + ("OK, every gold table equal to the embedded default" if not bad else f"{bad} problem(s)"))
    summary["problems"] = bad
    return (1 if bad else 0), summary


def serve_ui(trial: Trial) -> None:
    """Block until Ctrl-C (or SIGTERM) with the last trial's webserver, daemon and workers up."""
    log(
        f"UI of the lakehouse instance (Dagster storage in PostgreSQL, db dagster_w{trial.workers}; "
        f"{trial.workers} Celery worker(s)): {trial.url} - Ctrl-C stops everything"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log("stopping")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/lakehouse.sh", description=__doc__.split("\n\n")[0])
    p.add_argument("--start", default="2024-01")
    p.add_argument("--months", type=int, default=6)
    p.add_argument("--scale", default="small", choices=["tiny", "small", "large"])
    p.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)")
    p.add_argument("--timeout", type=float, default=5400, help="seconds to wait for one backfill")
    p.add_argument("--root", type=Path, help="throwaway folder (default: a new temp dir, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the throwaway folder (logs, landing, warehouses)")
    p.add_argument(
        "--ui",
        action="store_true",
        help="after the report, keep the last trial's UI, daemon and workers up until Ctrl-C",
    )
    p.add_argument("--port", type=int, default=3000, help="the UI's port with --ui (default 3000)")
    p.add_argument("--result", type=Path, help="also write the comparison as JSON to this file")
    args = p.parse_args(argv)

    from bank_assets.lakehouse.profile import install_extensions
    from devtools.stack import local_stack, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"lakehouse: cannot start the local stack: {reason}", file=sys.stderr)
        return 2
    y, m = (int(x) for x in args.start.split("-"))
    m += args.months - 1
    last = f"{y + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}"
    first = args.start
    worker_counts = [int(x) for x in args.workers.split(",")]
    root = args.root or Path(tempfile.mkdtemp(prefix="bank-lakehouse-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # PostgreSQL runs as its own OS user when we are root: it must reach its folder
    log(f"extensions from PyPI wheels: {', '.join(install_extensions())}")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with local_stack(root / "stack", log=log) as stack:
            log(f"landing files for {first}..{last} at scale {args.scale}")
            landing_s = write_landing(root, first, args.start if args.months == 1 else last, args.scale)
            log(f"embedded default build (reference), log in {root / 'embedded.log'}")
            embedded_s = build_embedded(root, first, last, args.scale)
            ref = embedded_checksums(root)
            log(f"embedded default: {embedded_s:.1f} s, {len(ref)} gold tables")
            trials = []
            with contextlib.ExitStack() as ui:
                for i, n in enumerate(worker_counts):
                    hold = args.ui and i == len(worker_counts) - 1
                    trials.append(
                        run_trial(
                            stack,
                            root,
                            first,
                            last,
                            args.scale,
                            n,
                            args.timeout,
                            ui if hold else None,
                            args.port if hold else 0,
                        )
                    )
                    log(f"{n} worker(s): {trials[-1].wall_s:.1f} s")
                rc, summary = report(first, last, args.scale, landing_s, embedded_s, ref, trials)
                if args.ui:
                    serve_ui(trials[-1])
    finally:
        if not args.keep and not args.root:
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"kept {root}")
    with contextlib.suppress(Exception):
        log("every server this run started is stopped")
    if args.result:
        summary["servers_stopped"] = True  # local_stack's exit stopped them (it raises if it cannot)
        args.result.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
