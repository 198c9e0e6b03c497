"""Performance benchmark: python -m bank_assets.bench [--smoke] [--sections ...] [--repeats N]

Measures, on this machine and in one run, and prints as a table of medians (also as JSON):

* generator:  generating + writing one month of transactions at `large` scale (rows/s);
* month:      one `large` month (~1M transactions) landing -> bronze -> silver -> gold with every
              check, as the project runs it (one in-process Dagster run, start-up excluded), side
              by side with a plain DuckDB SQL reference and with pandas + DataFrame.to_sql (SQLite)
              over the same files;
* cli:        the fixed cost of `python -m bank_assets.run --start <month>` at `small` scale,
              process start to exit;
* backfill:   12 `large` months as one `python -m bank_assets.run` process: total time, last vs
              first month, and peak RSS of the process tree (dbt subprocesses included).

Not part of the test suite (minutes of work); `--smoke` runs everything at `tiny` scale once.
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

from bank_assets.bench.proc import run_tree
from bank_assets.contracts import CONTRACTS
from bank_assets.synthetic import GeneratorConfig, Scale, generate
from bank_assets.synthetic.months import month_label, month_range, parse_month

SECTIONS = ("generator", "month", "cli", "backfill")
TARGETS = {
    "generator_rows_per_s": (">=", 500_000),
    "month_ratio_vs_duckdb": ("<=", 1.5),
    "month_speedup_vs_pandas": (">=", 10.0),
    "cli_warm_s": ("<=", 10.0),
    "backfill_last_over_first": ("<=", 1.2),
    "backfill_peak_rss_gb": ("<=", 1.5),
}
STEP_LINE = re.compile(r"^(?P<label>\S.*?)\s+(?P<status>ok|FAILED) in\s+(?P<s>[\d.]+)s")
REPO = Path(__file__).resolve().parents[2]


def median_of(fn: Callable[[int], float], repeats: int) -> tuple[float, list[float]]:
    times = [fn(i) for i in range(repeats)]
    return statistics.median(times), times


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# generator


def bench_generator(scale: str, repeats: int) -> dict[str, Any]:
    from bank_assets.synthetic.bench import run

    r = run(scale=scale, repeats=repeats)
    return {"rows": r["rows"], "seconds": r["total_s"], "generator_rows_per_s": r["rows_per_s"]}


# --------------------------------------------------------------------------------------------
# one month: project vs plain DuckDB vs pandas + SQLite


def _month_counts(db: Path, month: str) -> dict[str, int]:
    """Row counts of the measured month in silver and in the main gold tables."""
    m = dt.date.fromisoformat(f"{month}-01")
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for name in CONTRACTS:
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


def bench_month(scale: str, month: str, repeats: int, pandas_repeats: int, work: Path) -> dict[str, Any]:
    from dagster import DagsterInstance

    from bank_assets.assets.gold import dbt_resource
    from bank_assets.bench.pandas_sqlite import run_pandas_sqlite
    from bank_assets.bench.reference_duckdb import run_reference
    from bank_assets.resources import LandingZone, Warehouse, report_resources
    from bank_assets.run import run_steps

    landing = work / "landing"
    previous = month_label(parse_month(month) - 1)
    log(f"month: generating {previous} and {month} at scale {scale}")
    generate(GeneratorConfig(seed=42, scale=Scale.named(scale)), [parse_month(previous), parse_month(month)], landing)
    n_txn = sum(1 for _ in (landing / "transactions" / month / "transactions.csv").open("rb")) - 1

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
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = DagsterInstance.from_config(str(home))
    layers: list[dict[str, float]] = []

    def project(i: int) -> float:
        db.unlink(missing_ok=True)
        if i >= 0:
            shutil.copy(base, db)
        ids: list[str] = []
        t0 = time.perf_counter()
        ok = run_steps(
            [month if i >= 0 else previous], instance, resources, on_result=lambda s, r, _: ids.append(r.run_id)
        )
        seconds = time.perf_counter() - t0
        if not ok:
            raise RuntimeError(f"project run failed for {month} (run {ids})")
        if i >= 0:
            layers.append(_step_seconds(instance, ids[0]))
            log(f"month: project {seconds:.1f}s")
        return seconds

    log(f"month: project builds {previous} first (not timed; includes dbt's first parse)")
    project(-1)
    shutil.copy(db, base)
    project_s, project_all = median_of(project, repeats)
    project_counts = _month_counts(db, month)

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

    pandas_counts: dict[str, int] = {}

    def pandas(i: int) -> float:
        path = work / f"pandas-{i}.sqlite"
        t0 = time.perf_counter()
        pandas_counts.update(run_pandas_sqlite(landing, path, month))
        seconds = time.perf_counter() - t0
        path.unlink()
        log(f"month: pandas + to_sql {seconds:.1f}s")
        return seconds

    pandas_s, pandas_all = median_of(pandas, pandas_repeats)
    by_layer = {k: statistics.median(d.get(k, 0.0) for d in layers) for k in sorted({k for d in layers for k in d})}
    agree = {k: (project_counts[k], ref_counts.get(k), pandas_counts.get(k)) for k in project_counts}
    return {
        "month": month,
        "scale": scale,
        "transactions_in_file": n_txn,
        "project_s": project_s,
        "project_runs_s": project_all,
        "project_layers_s": by_layer,
        "reference_s": reference_s,
        "reference_runs_s": reference_all,
        "pandas_s": pandas_s,
        "pandas_runs_s": pandas_all,
        "month_ratio_vs_duckdb": project_s / reference_s,
        "month_speedup_vs_pandas": pandas_s / project_s,
        "rows_project_reference_pandas": agree,
    }


# --------------------------------------------------------------------------------------------
# the CLI: one small month, process start to exit; and a 12-month backfill as one process


def _cli_env(root: Path, scale: str) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(home),
        "BANK_WAREHOUSE": str(root / "warehouse.duckdb"),
        "BANK_LANDING_DIR": str(root / "landing"),
        "BANK_LANDING_MODE": "generate",
        "BANK_SCALE": scale,
    }


def _main_job(months: list[str]) -> list[str]:
    return [sys.executable, "-m", "bank_assets.run", "--start", months[0], "--end", months[-1]]


def bench_cli(scale: str, month: str, repeats: int, work: Path) -> dict[str, Any]:
    env = _cli_env(work, scale)
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


def bench_backfill(scale: str, months: list[str], work: Path) -> dict[str, Any]:
    env = _cli_env(work, scale)
    log(f"backfill: {months[0]}..{months[-1]} at scale {scale} as one process")
    r = run_tree(_main_job(months), env, on_line=lambda line: STEP_LINE.match(line) and log(f"backfill: {line}"))
    if r.returncode:
        raise RuntimeError("backfill failed:\n" + "\n".join(line for _, line in r.lines[-30:]))
    steps = []
    previous_end = 0.0
    for t, line in r.lines:
        m = STEP_LINE.match(line)
        if m:
            steps.append(
                {
                    "step": m["label"],
                    "seconds": float(m["s"]),
                    "peak_rss_mb": r.peak_between(previous_end, t) / 2**20,
                }
            )
            previous_end = t
    month_steps = [s for s in steps if not s["step"].startswith("gold")]
    for s, m in zip(month_steps, months, strict=True):  # volume differs by month (seasonality, growth)
        s["transactions"] = sum(1 for _ in (work / "landing" / "transactions" / m / "transactions.csv").open("rb")) - 1
        s["s_per_m_txns"] = s["seconds"] / s["transactions"] * 1e6
    first, last = month_steps[0], month_steps[-1]
    return {
        "scale": scale,
        "months": f"{months[0]}..{months[-1]}",
        "backfill_total_s": r.seconds,
        "first_month_s": first["seconds"],
        "last_month_s": last["seconds"],
        "backfill_last_over_first": last["seconds"] / first["seconds"],
        "backfill_last_over_first_per_txn": last["s_per_m_txns"] / first["s_per_m_txns"],
        "first_month_transactions": first["transactions"],
        "last_month_transactions": last["transactions"],
        "first_month_peak_rss_mb": first["peak_rss_mb"],
        "last_month_peak_rss_mb": last["peak_rss_mb"],
        "backfill_peak_rss_gb": r.peak_rss / 2**30,
        "steps": steps,
    }


# --------------------------------------------------------------------------------------------
# report


def layer_order(item: tuple[str, float]) -> int:
    order = ["landing", "bronze", "silver", "gold (dbt)"]
    return order.index(item[0]) if item[0] in order else len(order)


def verdict(key: str, value: float, smoke: bool = False) -> str:
    op, target = TARGETS[key]
    if smoke:
        return f"{op} {target:g} (smoke run: tiny scale, not comparable)"
    ok = value >= target if op == ">=" else value <= target
    return f"{op} {target:g}: {'met' if ok else 'MISSED'}"


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
    m = results.get("month")
    if m:
        n = f"{m['transactions_in_file']:,} txns"
        rows += [
            (f"one month landing -> gold, project ({n})", f"{m['project_s']:.1f} s", ""),
            *[
                (f"    of which {k}", f"{v:.1f} s", "")
                for k, v in sorted(m["project_layers_s"].items(), key=layer_order)
            ],
            ("one month, plain DuckDB SQL reference", f"{m['reference_s']:.1f} s", ""),
            ("one month, pandas + to_sql (SQLite)", f"{m['pandas_s']:.1f} s", ""),
            (
                "ratio project / plain DuckDB",
                f"{m['month_ratio_vs_duckdb']:.2f}x",
                check("month_ratio_vs_duckdb", m["month_ratio_vs_duckdb"]),
            ),
            (
                "speed-up vs pandas + to_sql",
                f"{m['month_speedup_vs_pandas']:.1f}x",
                check("month_speedup_vs_pandas", m["month_speedup_vs_pandas"]),
            ),
        ]
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
    b = results.get("backfill")
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


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return {
        "commit": commit.stdout.strip() or "unknown",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    p.add_argument("--smoke", action="store_true", help="everything at tiny scale, once, 2-month backfill")
    p.add_argument("--repeats", type=int, default=3, help="repeats per measure (median reported)")
    p.add_argument(
        "--pandas-repeats", type=int, default=None, help="repeats of the pandas baseline (default --repeats)"
    )
    p.add_argument("--month", default="2024-02", help="the month measured (2024-02 has loan payments)")
    p.add_argument("--backfill-months", type=int, default=12)
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="directory for the JSON")
    p.add_argument("--report", type=Path, help="print the table of a saved results JSON and exit (no measuring)")
    args = p.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())
        print(f"commit {saved['machine']['commit']}, {saved['machine']['when']}, {saved['machine']['cpus']} cpus")
        print(table(saved))
        return 0
    large, small = ("tiny", "tiny") if args.smoke else ("large", "small")
    repeats = 1 if args.smoke else args.repeats
    n_backfill = 2 if args.smoke else args.backfill_months
    start = parse_month("2024-01")
    backfill = [month_label(m) for m in month_range(start, start + n_backfill - 1)]

    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="bank-bench-") as tmp:
        root = Path(tmp)
        if "generator" in args.sections:
            log("generator")
            results["generator"] = bench_generator(large, repeats)
        if "month" in args.sections:
            (root / "month").mkdir()
            results["month"] = bench_month(large, args.month, repeats, args.pandas_repeats or repeats, root / "month")
        if "cli" in args.sections:
            results["cli"] = bench_cli(small, args.month, repeats, root / "cli")
        if "backfill" in args.sections:
            results["backfill"] = bench_backfill(large, backfill, root / "backfill")
    text = table(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"bench-{'smoke-' if args.smoke else ''}{results['machine']['commit']}.json"
    (args.out / name).write_text(json.dumps({**results, "table": text.splitlines()}, indent=2, default=str) + "\n")
    print(f"\nwritten {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
