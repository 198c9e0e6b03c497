"""Performance benchmark: python -m benchmarks [--smoke] [--sections ...] [--repeats N]

Run from the repository root. Measures, on this machine and in one run, and prints as a table of
medians (also as JSON, in benchmarks/results/):

* generator:  generating + writing one month of transactions at `large` scale (rows/s);
* month:      one `large` month (~1M transactions) landing -> bronze -> silver -> gold with every
              check (one in-process Dagster run of every asset but the `analytics` and `reports`
              groups, start-up excluded, on a warehouse holding the month before), with seconds
              per layer and dbt's own time per model and test (top nodes, sums); the analytics
              and reports groups timed after it, informational. Side by side over the same files:
              a plain DuckDB SQL reference (all 17 sources, silver row and reject counts equal
              to the project's), and pandas + DataFrame.to_sql (the 8 original sources) into
              PostgreSQL
              (a throwaway local server; the headline baseline) and into SQLite. The PostgreSQL
              baseline needs the Debian `postgresql` package and psycopg2: without them it is
              reported as skipped with the reason (a full-scale run refuses to start);
* cli:        the fixed cost of `python -m bank_assets.run --start <month>` at `small` scale,
              process start to exit;
* bookkeeping: the cost of a month that is not data work (benchmarks/bookkeeping.py): a `small`
              month in a warm process and from a new one, Dagster events stored per month, the
              time of one event write (Dagster's default SQLite event log and the project's, side
              by side), beside a fixed machine-speed check;
* monthly:    monthly operation as the schedule does it: 12 `large` months (--monthly-months),
              each its own `python -m bank_assets.run --start M --end M` process on the same
              warehouse and DAGSTER_HOME (landing files generated up front, not timed): seconds
              per month, per 1M transactions, last vs first month, and peak RSS of each process
              tree (dbt included). Before each month a fixed piece of work (the plain-DuckDB
              reference on the first month's files) is timed as a machine speed check, and
              last/first per transaction is also printed corrected by it.

Not part of the test suite (minutes of work); `--smoke` runs everything at `tiny` scale once
(2 months for `monthly`). `--report <json>` re-prints a saved run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psutil

from bank_assets.synthetic import GeneratorConfig, Scale, generate
from bank_assets.synthetic.months import month_label, month_range, parse_month
from benchmarks import postgres
from benchmarks.bookkeeping import TARGETS as BOOKKEEPING_TARGETS
from benchmarks.bookkeeping import bench_bookkeeping
from benchmarks.bookkeeping import table_rows as bookkeeping_rows
from benchmarks.proc import run_tree

SECTIONS = ("generator", "month", "cli", "monthly", "bookkeeping")
TARGETS = {
    "generator_rows_per_s": (">=", 500_000),
    "month_ratio_vs_duckdb": ("<=", 1.5),
    "month_speedup_vs_pandas_postgres": (">=", 10.0),
    "cli_warm_s": ("<=", 10.0),
    "monthly_last_over_first_per_txn": ("<=", 1.1),
    "monthly_peak_rss_gb": ("<=", 1.5),
    **BOOKKEEPING_TARGETS,
}
# targets of earlier versions of this harness, so `--report` re-prints their saved runs
LEGACY_TARGETS = {
    "month_speedup_vs_pandas": (">=", 10.0),
    "backfill_last_over_first": ("<=", 1.2),
    "backfill_peak_rss_gb": ("<=", 1.5),
}
STEP_LINE = re.compile(r"^(?P<label>\S.*?)\s+(?P<status>ok|FAILED)\s+in\s+(?P<s>[\d.]+)s")
REPO = Path(__file__).resolve().parents[1]
TOP_NODES = 12


def median_of(fn: Callable[[int], float], repeats: int) -> tuple[float, list[float]]:
    times = [fn(i) for i in range(repeats)]
    return statistics.median(times), times


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def count_lines(path: Path) -> int:
    """Data rows of a CSV file (header excluded)."""
    with path.open("rb") as f:
        return sum(1 for _ in f) - 1


# --------------------------------------------------------------------------------------------
# generator


def bench_generator(scale: str, repeats: int) -> dict[str, Any]:
    from benchmarks.generator import run

    r = run(scale=scale, repeats=repeats)
    return {"rows": r["rows"], "seconds": r["total_s"], "generator_rows_per_s": r["rows_per_s"]}


# --------------------------------------------------------------------------------------------
# one month: project (landing -> gold) vs plain DuckDB vs pandas + to_sql (PostgreSQL, SQLite)


def _month_counts(db: Path, month: str) -> dict[str, int]:
    """Row counts of the measured month in silver (the tables the baselines implement) and in the
    main gold tables."""
    from benchmarks.reference_duckdb import ORDER

    m = dt.date.fromisoformat(f"{month}-01")
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for name in ORDER:
            sql = f"SELECT count(*) FROM silver.{name} WHERE _partition_month = $m"
            out[f"silver.{name}"] = con.execute(sql, {"m": m}).fetchone()[0]
        gold = {
            "fct_transactions": "transaction_month",
            "transaction_anomalies": "transaction_month",
            "cashflow_monthly": "report_month",
            "customer_360": "as_of_month",
        }
        for t, col in gold.items():
            where, params = (f"WHERE {col} = $m", {"m": m}) if col else ("", {})
            out[f"gold.{t}"] = con.execute(f"SELECT count(*) FROM gold.{t} {where}", params).fetchone()[0]
    return out


def _step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Seconds per layer of one run, from the step start/end events Dagster recorded."""
    starts: dict[str, float] = {}
    spent: dict[str, float] = {}
    for rec in instance.all_logs(run_id):
        ev = rec.dagster_event
        if ev is None or not ev.step_key:
            continue
        if ev.event_type_value == "STEP_START":
            starts[ev.step_key] = rec.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and ev.step_key in starts:
            layer = ev.step_key.split("__")[0] if "__" in ev.step_key else ev.step_key.replace("_files", "")
            layer = "gold (dbt)" if layer.startswith("gold") else layer
            layer = "landing" if layer.startswith("landing") else layer
            spent[layer] = spent.get(layer, 0.0) + rec.timestamp - starts[ev.step_key]
    return spent


def _event_metadata(ev: Any) -> dict[str, Any]:
    """The metadata of a materialization, observation or check evaluation event ({} otherwise)."""
    data = ev.event_specific_data
    for holder in ("materialization", "asset_observation"):
        inner = getattr(data, holder, None)
        if inner is not None:
            return dict(inner.metadata or {})
    if ev.event_type_value == "ASSET_CHECK_EVALUATION":
        return dict(getattr(data, "metadata", None) or {})
    return {}


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def dbt_node_seconds(instance: Any, run_id: str) -> dict[str, Any]:
    """dbt's own execution time per node of one run, from the metadata dagster-dbt attaches
    ("Execution Duration", seconds; "unique_id") to gold's materializations (models) and to the
    check evaluations (tests). Returns {"nodes": {unique_id: s}, "found_in": {event type: n},
    "metadata_keys_seen": [...]} (the keys, for when no timing was found)."""
    nodes: dict[str, float] = {}
    found: dict[str, int] = {}
    keys_seen: set[str] = set()
    for rec in instance.all_logs(run_id):
        ev = rec.dagster_event
        if ev is None or ev.event_type_value not in (
            "ASSET_MATERIALIZATION",
            "ASSET_OBSERVATION",
            "ASSET_CHECK_EVALUATION",
        ):
            continue
        meta = _event_metadata(ev)
        if not meta:
            continue
        keys_seen.update(meta)
        uid, seconds = _value(meta.get("unique_id")), _value(meta.get("Execution Duration"))
        if uid is None or seconds is None:
            continue
        nodes[str(uid)] = nodes.get(str(uid), 0.0) + float(seconds)
        found[ev.event_type_value] = found.get(ev.event_type_value, 0) + 1
    return {"nodes": nodes, "found_in": found, "metadata_keys_seen": sorted(keys_seen)}


def _dbt_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-node medians over the repeats, the top nodes and the sums over models and tests."""
    if not runs or not any(r["nodes"] for r in runs):
        keys = sorted({k for r in runs for k in r["metadata_keys_seen"]})
        return {"available": False, "metadata_keys_seen": keys}
    ids = sorted({u for r in runs for u in r["nodes"]})
    med = {u: statistics.median(r["nodes"].get(u, 0.0) for r in runs) for u in ids}
    ranked = sorted(med.items(), key=lambda kv: -kv[1])
    kind = lambda u: u.split(".", 1)[0]  # noqa: E731  (model., test., snapshot., seed.)
    return {
        "available": True,
        "found_in": runs[-1]["found_in"],
        "n_models": sum(1 for u in ids if kind(u) == "model"),
        "n_tests": sum(1 for u in ids if kind(u) == "test"),
        "models_sum_s": sum(v for u, v in med.items() if kind(u) == "model"),
        "tests_sum_s": sum(v for u, v in med.items() if kind(u) == "test"),
        "other_sum_s": sum(v for u, v in med.items() if kind(u) not in ("model", "test")),
        "top": [[u, v] for u, v in ranked[:TOP_NODES]],
        "nodes_s": dict(ranked),
    }


def _landing_to_gold_jobs() -> tuple[Any, Any, Any]:
    """Every asset but the analytics and reports groups (landing, bronze, silver, gold and their
    checks); the same work as the plain DuckDB reference (landing, bronze and silver of every source,
    and the reference's gold tables with the gold models they read, with their checks); and the
    analytics and reports groups alone (timed after it, informational: the baselines have neither)."""
    from dagster import AssetKey, AssetSelection, define_asset_job

    from benchmarks.reference_duckdb import GOLD_TABLES

    downstream = AssetSelection.groups("analytics", "reports")
    through_gold = define_asset_job("bench_landing_to_gold", selection=AssetSelection.all() - downstream)
    reference_gold = AssetSelection.assets(*(AssetKey(["gold", t]) for t in GOLD_TABLES)).upstream()
    same_tables = define_asset_job(
        "bench_reference_tables", selection=AssetSelection.groups("landing", "bronze", "silver") | reference_gold
    )
    reports = define_asset_job("bench_reports", selection=downstream)
    return through_gold, same_tables, reports


def bench_month(
    scale: str,
    month: str,
    repeats: int,
    pandas_repeats: int,
    work: Path,
    postgres_required: bool = False,
) -> dict[str, Any]:
    from dagster import DagsterInstance

    from bank_assets.assets.dbt_project import dbt_resource
    from bank_assets.resources import LandingZone, Warehouse, report_resources
    from bank_assets.run import run_steps
    from benchmarks.pandas_sql import run_pandas_sql
    from benchmarks.reference_duckdb import GOLD_TABLES, run_reference

    pg_reason = postgres.unavailable_reason()
    if pg_reason and postgres_required:
        raise RuntimeError(f"the PostgreSQL baseline cannot run: {pg_reason}")

    landing = work / "landing"
    previous = month_label(parse_month(month) - 1)
    log(f"month: generating {previous} and {month} at scale {scale}")
    generate(GeneratorConfig(seed=42, scale=Scale.named(scale)), [parse_month(previous), parse_month(month)], landing)
    n_txn = count_lines(landing / "transactions" / month / "transactions.csv")

    # The measured month lands on a warehouse holding the month before (loans, fx rates and
    # snapshots it refers to), as in production. Each repeat starts from a copy of that state,
    # at the same path, so dbt's parsed project is reused as it is in a long-running deployment.
    base, db = work / "base.duckdb", work / "project.duckdb"
    resources = {
        "warehouse": Warehouse(path=str(db)),
        "landing": LandingZone(root=str(landing), mode="files"),
        "dbt": dbt_resource(),
        **report_resources(str(db), str(work / "reports")),
    }
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")  # as a user runs it
    instance = DagsterInstance.from_config(str(home))
    through_gold, same_tables_job, reports_job = _landing_to_gold_jobs()
    layers: list[dict[str, float]] = []
    dbt_runs: list[dict[str, Any]] = []
    reports_all: list[float] = []

    def run_job(m: str, job: Any) -> tuple[float, str]:
        ids: list[str] = []
        failures: list[str] = []

        def on_result(_step: Any, r: Any, _s: float) -> None:
            ids.append(r.run_id)
            failures.extend(
                f"{e.step_key}: {e.step_failure_data.error.message[:2000]}" for e in r.all_events if e.is_step_failure
            )

        # what the steps print (dbt's per-node lines) goes to a file, as with the CLI
        with (work / "steps.log").open("a", encoding="utf-8") as output:
            t0 = time.perf_counter()
            ok = run_steps([m], instance, resources, job=job, on_result=on_result, output=output)
            seconds = time.perf_counter() - t0
        if not ok:
            raise RuntimeError(f"{job.name} failed for {m} (run {ids}):\n" + "\n".join(failures))
        return seconds, ids[0]

    def project(i: int) -> float:
        db.unlink(missing_ok=True)
        if i < 0:
            return run_job(previous, through_gold)[0]
        shutil.copy(base, db)
        seconds, run_id = run_job(month, through_gold)
        layers.append(_step_seconds(instance, run_id))
        dbt_runs.append(dbt_node_seconds(instance, run_id))
        reports_s, _ = run_job(month, reports_job)  # after the measure, not part of it
        reports_all.append(reports_s)
        log(f"month: project landing -> gold {seconds:.1f}s (then analytics and reports groups {reports_s:.1f}s)")
        return seconds

    log(f"month: project builds {previous} first (not timed; includes dbt's first parse)")
    project(-1)
    shutil.copy(db, base)
    project_s, project_all = median_of(project, repeats)
    project_counts = _month_counts(db, month)

    def project_same_tables(i: int) -> float:
        """The project doing the reference's work: every source, the reference's gold tables."""
        shutil.copy(base, db)
        seconds, _ = run_job(month, same_tables_job)
        log(f"month: project landing -> the reference's {len(GOLD_TABLES)} gold tables {seconds:.1f}s")
        return seconds

    same_s, same_all = median_of(project_same_tables, repeats)

    ref_counts: dict[str, int] = {}

    def reference(i: int) -> float:
        path = work / f"reference-{i}.duckdb"
        t0 = time.perf_counter()
        ref_counts.update(run_reference(landing, path, month))
        seconds = time.perf_counter() - t0
        path.unlink()
        log(f"month: plain DuckDB {seconds:.1f}s")
        return seconds

    reference_s, reference_all = median_of(reference, repeats)

    sqlite_counts: dict[str, int] = {}

    def pandas_sqlite(i: int) -> float:
        path = work / f"pandas-{i}.sqlite"
        t0 = time.perf_counter()
        counts = run_pandas_sql(landing, path, month)
        seconds = time.perf_counter() - t0
        _check_stored(path, counts, "SQLite")
        sqlite_counts.update(counts)
        path.unlink()
        log(f"month: pandas + to_sql (SQLite) {seconds:.1f}s")
        return seconds

    sqlite_s, sqlite_all = median_of(pandas_sqlite, pandas_repeats)

    pg: dict[str, Any] = {}
    pg_counts: dict[str, int] = {}
    if pg_reason:
        log(f"month: pandas + to_sql (PostgreSQL) SKIPPED: {pg_reason}")
        pg = {"pandas_postgres_skipped": pg_reason}
    else:
        with postgres.throwaway_postgres() as server:

            def pandas_postgres(i: int) -> float:
                with postgres.fresh_database(server, f"bench_{i}") as url:
                    t0 = time.perf_counter()
                    counts = run_pandas_sql(landing, url, month)
                    seconds = time.perf_counter() - t0
                    _check_stored(url, counts, "PostgreSQL")
                pg_counts.update(counts)
                log(f"month: pandas + to_sql (PostgreSQL) {seconds:.1f}s")
                return seconds

            log("month: pandas + to_sql into a throwaway PostgreSQL server")
            pg_s, pg_all = median_of(pandas_postgres, pandas_repeats)
        pg = {
            "pandas_postgres_s": pg_s,
            "pandas_postgres_runs_s": pg_all,
            "month_speedup_vs_pandas_postgres": pg_s / project_s,
        }

    by_layer = {k: statistics.median(d.get(k, 0.0) for d in layers) for k in sorted({k for d in layers for k in d})}
    agree = {
        k: [project_counts[k], ref_counts.get(k), sqlite_counts.get(k), pg_counts.get(k) if not pg_reason else None]
        for k in project_counts
    }
    return {
        "month": month,
        "scale": scale,
        "measures": "landing -> bronze -> silver -> gold with every check (every asset but the analytics and "
        "reports groups); the plain DuckDB reference does the same 17 sources; the pandas baselines implement "
        "the 8 original sources (not campaigns, their targeting, interactions, indicators, products, credit "
        "applications, fraud alerts, account events)",
        "transactions_in_file": n_txn,
        "project_s": project_s,
        "project_runs_s": project_all,
        "project_layers_s": by_layer,
        "reports_group_s": statistics.median(reports_all),
        "reports_group_runs_s": reports_all,
        "dbt_nodes": _dbt_summary(dbt_runs),
        "reference_s": reference_s,
        "reference_runs_s": reference_all,
        "pandas_sqlite_s": sqlite_s,
        "pandas_sqlite_runs_s": sqlite_all,
        **pg,
        "month_ratio_vs_duckdb": project_s / reference_s,
        "project_reference_tables_s": same_s,
        "project_reference_tables_runs_s": same_all,
        "reference_gold_tables": len(GOLD_TABLES),
        "month_ratio_vs_duckdb_same_tables": same_s / reference_s,
        "month_speedup_vs_pandas_sqlite": sqlite_s / project_s,
        "rows_project_reference_sqlite_postgres": agree,
    }


def _check_stored(target: Any, counts: dict[str, int], what: str) -> None:
    """The gold tables the baseline wrote hold the rows it reports (read back, not timed)."""
    from benchmarks.pandas_sql import stored_gold_counts

    stored = stored_gold_counts(target, counts)
    wrong = {k: (counts[k], v) for k, v in stored.items() if counts[k] != v}
    if wrong:
        raise RuntimeError(f"pandas + to_sql ({what}): stored row counts differ from the frames: {wrong}")


# --------------------------------------------------------------------------------------------
# the CLI: one small month, process start to exit; monthly operation: one process per month


def cli_env(root: Path, scale: str, landing_mode: str = "generate") -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(home),
        "BANK_WAREHOUSE": str(root / "bank.duckdb"),  # the default name: runs start from the parse state setup.sh wrote
        "BANK_LANDING_DIR": str(root / "landing"),
        "BANK_REPORTS_DIR": str(root / "reports"),
        "BANK_LANDING_MODE": landing_mode,
        "BANK_SCALE": scale,
    }


def _main_job(months: list[str]) -> list[str]:
    return [sys.executable, "-m", "bank_assets.run", "--start", months[0], "--end", months[-1]]


def bench_cli(scale: str, month: str, repeats: int, work: Path) -> dict[str, Any]:
    env = cli_env(work, scale)
    cmd = _main_job([month])

    def once(i: int) -> float:
        r = run_tree(cmd, env)
        if r.returncode:
            raise RuntimeError("main job failed:\n" + "\n".join(line for _, line in r.lines[-30:]))
        log(f"cli: {'cold' if i < 0 else 'warm'} run {r.seconds:.1f}s")
        return r.seconds

    cold = once(-1)  # a new warehouse path: dbt parses the project in full once
    warm, warm_all = median_of(once, repeats)
    log("cli: the same with dbt as a subprocess per invocation (dagster-dbt's default)")
    env["BANK_DBT_SUBPROCESS"] = "1"
    subprocess_s, _ = median_of(once, repeats)
    del env["BANK_DBT_SUBPROCESS"]
    imports = [run_tree([sys.executable, "-c", "import bank_assets.definitions"], env).seconds for _ in range(repeats)]
    return {
        "scale": scale,
        "month": month,
        "cli_cold_s": cold,
        "cli_warm_s": warm,
        "cli_warm_runs_s": warm_all,
        "cli_dbt_subprocess_s": subprocess_s,
        "import_definitions_s": statistics.median(imports),
    }


def bench_monthly(scale: str, months: list[str], work: Path) -> dict[str, Any]:
    """Months loaded one run at a time, as the monthly schedule does: each month its own
    `python -m bank_assets.run --start M --end M` process (the daemon launches each scheduled run
    in a new process) on the same warehouse and DAGSTER_HOME, landing files generated up front."""
    env = cli_env(work, scale, landing_mode="files")
    landing = work / "landing"
    log(f"monthly: generating {months[0]}..{months[-1]} at scale {scale} (not timed)")
    generate(GeneratorConfig(seed=42, scale=Scale.named(scale)), [parse_month(m) for m in months], landing)
    rows = []
    peak = 0
    from benchmarks.reference_duckdb import run_reference

    for m in months:
        # Machine speed check: shared machines drift by tens of percent over minutes, so before
        # each month the same fixed work (the plain-DuckDB reference on the first month's files)
        # is timed; the ratio of these times corrects last/first for the machine, not the project.
        t0 = time.perf_counter()
        run_reference(landing, work / "calibration.duckdb", months[0], prior_months=False)
        calibration_s = time.perf_counter() - t0
        (work / "calibration.duckdb").unlink()
        r = run_tree(_main_job([m]), env)
        if r.returncode:
            raise RuntimeError(f"monthly: {m} failed:\n" + "\n".join(line for _, line in r.lines[-30:]))
        run_s = next((float(x["s"]) for _, line in r.lines if (x := STEP_LINE.match(line))), None)
        txns = count_lines(landing / "transactions" / m / "transactions.csv")
        row = {
            "month": m,
            "seconds": r.seconds,
            "run_s": run_s,  # the Dagster run alone, as the CLI reports it (imports excluded)
            "transactions": txns,
            "s_per_m_txns": r.seconds / txns * 1e6,
            "peak_rss_mb": r.peak_rss / 2**20,
            "calibration_s": calibration_s,
        }
        rows.append(row)
        peak = max(peak, r.peak_rss)
        log(
            f"monthly: {m} {r.seconds:.1f}s (run {run_s}s), {txns:,} txns, "
            f"{row['s_per_m_txns']:.1f} s/1M txns, peak RSS {row['peak_rss_mb']:.0f} MB, "
            f"machine speed check {calibration_s:.1f}s"
        )
    first, last = rows[0], rows[-1]
    return {
        "scale": scale,
        "months": f"{months[0]}..{months[-1]}",
        "n_months": len(months),
        "monthly_total_s": sum(r["seconds"] for r in rows),
        "first_month_s": first["seconds"],
        "last_month_s": last["seconds"],
        "monthly_last_over_first": last["seconds"] / first["seconds"],
        "monthly_last_over_first_per_txn": last["s_per_m_txns"] / first["s_per_m_txns"],
        "calibration_first_s": first["calibration_s"],
        "calibration_last_s": last["calibration_s"],
        "monthly_last_over_first_per_txn_calibrated": (last["s_per_m_txns"] / first["s_per_m_txns"])
        / (last["calibration_s"] / first["calibration_s"]),
        "first_month_transactions": first["transactions"],
        "last_month_transactions": last["transactions"],
        "first_month_peak_rss_mb": first["peak_rss_mb"],
        "last_month_peak_rss_mb": last["peak_rss_mb"],
        "monthly_peak_rss_gb": peak / 2**30,
        "per_month": rows,
    }


# --------------------------------------------------------------------------------------------
# report


def layer_order(item: tuple[str, float]) -> int:
    order = ["landing", "bronze", "silver", "gold (dbt)"]
    return order.index(item[0]) if item[0] in order else len(order)


def verdict(key: str, value: float, smoke: bool = False) -> str:
    op, target = {**LEGACY_TARGETS, **TARGETS}[key]
    if smoke:
        return f"{op} {target:g} (smoke run: tiny scale, not comparable)"
    ok = value >= target if op == ">=" else value <= target
    return f"{op} {target:g}: {'met' if ok else 'MISSED'}"


def _node_label(unique_id: str) -> str:
    """model.bank_lakehouse.fct_transactions -> model fct_transactions (tests keep their name)."""
    parts = unique_id.split(".")
    return f"{parts[0]} {parts[2] if len(parts) > 2 else unique_id}"


def _month_rows(m: dict[str, Any], check: Callable[[str, float], str]) -> list[tuple[str, str, str]]:
    n = f"{m['transactions_in_file']:,} txns"
    legacy = "pandas_s" in m  # a run saved by the earlier harness (the month included the reports)
    rows = [
        (f"one month landing -> gold, project ({n})", f"{m['project_s']:.1f} s", ""),
        *[(f"    of which {k}", f"{v:.1f} s", "") for k, v in sorted(m["project_layers_s"].items(), key=layer_order)],
    ]
    if "reports_group_s" in m:
        rows.append(("    analytics and reports groups after it (not included)", f"{m['reports_group_s']:.1f} s", ""))
    d = m.get("dbt_nodes")
    if d and d.get("available"):
        rows += [
            (f"    dbt: {d['n_models']} models, sum of their times", f"{d['models_sum_s']:.1f} s", "dbt threads: 2"),
            (f"    dbt: {d['n_tests']} tests, sum of their times", f"{d['tests_sum_s']:.1f} s", ""),
            *[(f"      {_node_label(u)[:60]}", f"{s:.2f} s", "") for u, s in d["top"]],
        ]
    elif d is not None:
        seen = ", ".join(d.get("metadata_keys_seen", [])[:12]) or "none"
        rows.append(("    dbt per-node times: not in the run's metadata", "n/a", f"keys seen: {seen}"))
    if "project_reference_tables_s" in m:
        rows.append(
            (
                f"one month, project doing the reference's work (every source, its {m['reference_gold_tables']} "
                "gold tables and the models they read)",
                f"{m['project_reference_tables_s']:.1f} s",
                "",
            )
        )
    rows.append(("one month, plain DuckDB SQL reference", f"{m['reference_s']:.1f} s", ""))
    if "pandas_postgres_s" in m:
        rows.append(("one month, pandas + to_sql (PostgreSQL)", f"{m['pandas_postgres_s']:.1f} s", ""))
    elif "pandas_postgres_skipped" in m:
        rows.append(("one month, pandas + to_sql (PostgreSQL)", "skipped", m["pandas_postgres_skipped"]))
    sqlite_s = m.get("pandas_sqlite_s", m.get("pandas_s"))
    rows += [
        ("one month, pandas + to_sql (SQLite)", f"{sqlite_s:.1f} s", ""),
        (
            "ratio project (every gold table) / plain DuckDB",
            f"{m['month_ratio_vs_duckdb']:.2f}x",
            check("month_ratio_vs_duckdb", m["month_ratio_vs_duckdb"]),
        ),
    ]
    if "month_ratio_vs_duckdb_same_tables" in m:
        v = m["month_ratio_vs_duckdb_same_tables"]
        rows.append(("ratio project / plain DuckDB, the same tables", f"{v:.2f}x", check("month_ratio_vs_duckdb", v)))
    if "month_speedup_vs_pandas_postgres" in m:
        v = m["month_speedup_vs_pandas_postgres"]
        rows.append(
            ("speed-up vs pandas + to_sql (PostgreSQL)", f"{v:.1f}x", check("month_speedup_vs_pandas_postgres", v))
        )
    elif not legacy:
        rows.append(("speed-up vs pandas + to_sql (PostgreSQL)", "skipped", "see above"))
    if legacy:
        v = m["month_speedup_vs_pandas"]
        rows.append(("speed-up vs pandas + to_sql (SQLite)", f"{v:.1f}x", check("month_speedup_vs_pandas", v)))
    else:
        v = m["month_speedup_vs_pandas_sqlite"]
        rows.append(("speed-up vs pandas + to_sql (SQLite)", f"{v:.1f}x", "informational"))
    return rows


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table: measure, value, target and whether it was met."""

    def check(key: str, value: float) -> str:
        return verdict(key, value, smoke=bool(results.get("smoke")))

    rows: list[tuple[str, str, str]] = []
    g = results.get("generator")
    if g:
        rows.append(
            (
                "generator + landing write, 1 month of transactions",
                f"{g['generator_rows_per_s']:,.0f} rows/s",
                check("generator_rows_per_s", g["generator_rows_per_s"]),
            )
        )
    b = results.get("bookkeeping")
    if b:
        rows += bookkeeping_rows(b, check)
    m = results.get("month")
    if m:
        rows += _month_rows(m, check)
    c = results.get("cli")
    if c:
        rows += [
            (
                f"CLI one {c['scale']} month, process start to exit",
                f"{c['cli_warm_s']:.1f} s",
                check("cli_warm_s", c["cli_warm_s"]),
            ),
            ("    first run on a new warehouse (full dbt parse)", f"{c['cli_cold_s']:.1f} s", ""),
            ("    same, dbt as a subprocess (dagster-dbt default)", f"{c['cli_dbt_subprocess_s']:.1f} s", ""),
            ("    of which Python imports (bank_assets.definitions)", f"{c['import_definitions_s']:.1f} s", ""),
        ]
    o = results.get("monthly")
    if o:
        rows += [
            (
                f"monthly operation {o['months']} ({o['scale']}), one process per month",
                f"{o['monthly_total_s']:.0f} s",
                f"{o['n_months']} months",
            ),
            ("    first month / last month", f"{o['first_month_s']:.1f} s / {o['last_month_s']:.1f} s", ""),
            ("    last month / first month", f"{o['monthly_last_over_first']:.2f}", ""),
            (
                "    the same per transaction (s per 1M txns)",
                f"{o['monthly_last_over_first_per_txn']:.2f}",
                check("monthly_last_over_first_per_txn", o["monthly_last_over_first_per_txn"])
                + f" ({o['first_month_transactions']:,} / {o['last_month_transactions']:,} txns)",
            ),
            *(
                [
                    (
                        "    machine speed check before first / last month",
                        f"{o['calibration_first_s']:.1f} s / {o['calibration_last_s']:.1f} s",
                        "plain-DuckDB reference, first month's files",
                    ),
                    (
                        "    per transaction, corrected for machine speed",
                        f"{o['monthly_last_over_first_per_txn_calibrated']:.2f}",
                        "the line above divided by the speed check's last/first",
                    ),
                ]
                if "calibration_first_s" in o
                else []
            ),
            (
                "    peak RSS, process tree, any month",
                f"{o['monthly_peak_rss_gb']:.2f} GB",
                check("monthly_peak_rss_gb", o["monthly_peak_rss_gb"]),
            ),
            (
                "    peak RSS first month / last month",
                f"{o['first_month_peak_rss_mb']:.0f} / {o['last_month_peak_rss_mb']:.0f} MB",
                "",
            ),
        ]
    b = results.get("backfill")  # saved by the earlier harness (12 months as one process)
    if b:
        rows += [
            (f"backfill {b['months']} ({b['scale']}) as one process", f"{b['backfill_total_s']:.0f} s", ""),
            ("    first month / last month", f"{b['first_month_s']:.1f} s / {b['last_month_s']:.1f} s", ""),
            (
                "    last month / first month",
                f"{b['backfill_last_over_first']:.2f}",
                check("backfill_last_over_first", b["backfill_last_over_first"]),
            ),
            (
                "    the same per transaction (s per 1M txns)",
                f"{b['backfill_last_over_first_per_txn']:.2f}",
                f"{b['first_month_transactions']:,} / {b['last_month_transactions']:,} txns",
            ),
            (
                "    peak RSS, process tree",
                f"{b['backfill_peak_rss_gb']:.2f} GB",
                check("backfill_peak_rss_gb", b["backfill_peak_rss_gb"]),
            ),
            (
                "    peak RSS first month / last month",
                f"{b['first_month_peak_rss_mb']:.0f} / {b['last_month_peak_rss_mb']:.0f} MB",
                "",
            ),
        ]
    width = max(len(r[0]) for r in rows) if rows else 10
    lines = [f"| {'measure':<{width}} | {'value':>16} | target |", f"| {'-' * width} | {'-' * 16} | ------ |"]
    lines += [f"| {a:<{width}} | {b:>16} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def monthly_table(results: dict[str, Any]) -> str:
    """The per-month rows of the monthly section, as Markdown ("" without that section)."""
    o = results.get("monthly")
    if not o:
        return ""
    lines = [
        "| month   | process s | run s | transactions | s per 1M txns | peak RSS MB |",
        "| ------- | --------: | ----: | -----------: | ------------: | ----------: |",
    ]
    for r in o["per_month"]:
        run_s = f"{r['run_s']:.1f}" if r.get("run_s") is not None else "-"
        lines.append(
            f"| {r['month']} | {r['seconds']:9.1f} | {run_s:>5} | {r['transactions']:>12,} "
            f"| {r['s_per_m_txns']:13.1f} | {r['peak_rss_mb']:11.0f} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return {
        "commit": commit.stdout.strip() or "unknown",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def print_results(results: dict[str, Any]) -> str:
    text = table(results)
    print(text)
    per_month = monthly_table(results)
    if per_month:
        print(f"\nmonthly operation, per month:\n{per_month}")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    p.add_argument("--smoke", action="store_true", help="everything at tiny scale, once, 2 monthly months")
    p.add_argument("--repeats", type=int, default=3, help="repeats per measure (median reported)")
    p.add_argument(
        "--pandas-repeats", type=int, default=None, help="repeats of each pandas baseline (default --repeats)"
    )
    p.add_argument("--month", default="2024-02", help="the month measured (2024-02 has loan payments)")
    p.add_argument("--monthly-months", type=int, default=12, help="months of the monthly section (from 2024-01)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="directory for the JSON")
    p.add_argument("--report", type=Path, help="print the table of a saved results JSON and exit (no measuring)")
    args = p.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())
        print(f"commit {saved['machine']['commit']}, {saved['machine']['when']}, {saved['machine']['cpus']} cpus")
        print_results(saved)
        return 0
    large, small = ("tiny", "tiny") if args.smoke else ("large", "small")
    repeats = 1 if args.smoke else args.repeats
    n_monthly = 2 if args.smoke else args.monthly_months
    start = parse_month("2024-01")
    monthly = [month_label(m) for m in month_range(start, start + n_monthly - 1)]
    pg_reason = postgres.unavailable_reason()
    if "month" in args.sections and not args.smoke and pg_reason:
        print(f"error: the PostgreSQL baseline must run at full scale: {pg_reason}", file=sys.stderr)
        return 2

    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="bank-bench-") as tmp:
        root = Path(tmp)
        if "generator" in args.sections:
            log("generator")
            results["generator"] = bench_generator(large, repeats)
        if "month" in args.sections:
            (root / "month").mkdir()
            results["month"] = bench_month(
                large,
                args.month,
                repeats,
                args.pandas_repeats or repeats,
                root / "month",
                postgres_required=not args.smoke,
            )
        if "cli" in args.sections:
            results["cli"] = bench_cli(small, args.month, repeats, root / "cli")
        if "monthly" in args.sections:
            results["monthly"] = bench_monthly(large, monthly, root / "monthly")
        if "bookkeeping" in args.sections:
            (root / "bookkeeping").mkdir()
            results["bookkeeping"] = bench_bookkeeping(small, 2 if args.smoke else 6, root / "bookkeeping")
    text = print_results(results)
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"bench-{'smoke-' if args.smoke else ''}{results['machine']['commit']}.json"
    (args.out / name).write_text(json.dumps({**results, "table": text.splitlines()}, indent=2, default=str) + "\n")
    print(f"\nwritten {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
