"""Asset-check report: materialize a range in-process and report every check evaluation.

    python -m bank_assets.check_report --start 2024-01 --end 2024-03 [--scale tiny] [--out reports]

Writes <out>/asset_checks.md (asset, check, partition, severity, result, what it saw) and
<out>/asset_checks.xml (JUnit: one testcase per check and partition), prints the Markdown, and
exits 1 if any ERROR-severity check failed (2 on bad arguments). Silver checks and dbt tests
(which dagster-dbt turns into asset checks) are both included. Dagster has no export for this:
the evaluations are read from each run's events.

By default it works in a fresh temporary folder (synthetic landing files + warehouse), so the
report does not depend on, or touch, data/. `--inject-duplicates TABLE` turns silver
deduplication off for one table, to see a blocking check fail.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from dagster import AssetCheckEvaluation, AssetCheckSeverity, DagsterInstance, ExecuteInProcessResult, MetadataValue

from bank_assets.assets.dbt_project import dbt_resource
from bank_assets.contracts import CONTRACTS
from bank_assets.definitions import defs, monthly_job
from bank_assets.resources import LandingZone, Warehouse, report_resources
from bank_assets.run import Step, parse_months, print_result, run_steps, runs_again_by_month, what_it_saw
from bank_assets.settings import months_per_run


@dataclass(frozen=True)
class Row:
    asset: str
    check: str
    partition: str
    severity: str
    passed: bool
    seen: str
    skipped: bool = False  # expected but not run (its reason is in `seen`)


def _value(v: object) -> object:
    return v.value if isinstance(v, MetadataValue) else v


def _seen(evaluation: AssetCheckEvaluation) -> str:
    """What the check saw: for a failure, which rules broke and their numbers first."""
    parts = [] if evaluation.passed else [what_it_saw(evaluation)]
    for k, v in evaluation.metadata.items():
        if k.startswith("dagster_dbt/") or k in ("dagster/uri", "dagster/relation_identifier"):
            continue
        v = _value(v)
        text = json.dumps(v, default=str, separators=(",", ":")) if isinstance(v, dict | list) else str(v)
        parts.append(f"{k}={text}")
    return "; ".join(parts)[:600]


def collect(step: Step, result: ExecuteInProcessResult, rows: list[Row]) -> None:
    """Every check evaluated in the run, on the partition it recorded, and every check expected
    for a month of the run that did not run there, as skipped with the reason."""
    seen = set()
    for e in result.get_asset_check_evaluations():
        month = (e.partition or "-")[:7]
        seen.add((e.asset_key, e.check_name, month))
        rows.append(
            Row(
                asset=e.asset_key.to_user_string(),
                check=e.check_name,
                partition=month,
                severity="WARN" if e.severity == AssetCheckSeverity.WARN else "ERROR",
                passed=e.passed,
                seen=_seen(e),
            )
        )
    failed = sorted(e.step_key.replace("__", ".") for e in result.get_step_failure_events())
    graph = defs.resolve_asset_graph()
    groups = ("landing", "bronze", "silver", "gold") if step.job_name == monthly_job.name else ("silver",)
    expected = [k for k in sorted(graph.asset_check_keys, key=str) if graph.get(k.asset_key).group_name in groups]
    for month in step.months:
        for check_key in expected:
            if (check_key.asset_key, check_key.name, month) in seen:
                continue
            asset = check_key.asset_key.to_user_string().replace("/", ".")
            why = (
                f"{asset} {step.label} failed"
                if asset in failed
                else f"upstream {', '.join(failed)} {step.label} failed"
                if failed
                else "not executed"
            )
            key = check_key.asset_key.to_user_string()
            rows.append(Row(key, check_key.name, month, "ERROR", False, why, skipped=True))


def markdown(rows: list[Row], months: list[str]) -> str:
    skipped = sum(1 for r in rows if r.skipped)
    failed_errors = sum(1 for r in rows if not r.passed and r.severity == "ERROR" and not r.skipped)
    failed_warns = sum(1 for r in rows if not r.passed and r.severity == "WARN")
    lines = [
        f"# Asset-check report {months[0]}..{months[-1]}",
        "",
        f"{len(rows)} expected checks x months: {len(rows) - failed_errors - failed_warns - skipped} passed, "
        f"{failed_errors} ERROR failed, {failed_warns} WARN failed, {skipped} skipped (did not run).",
        "",
        "| asset | check | partition | severity | result | seen |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    order = sorted(rows, key=lambda r: (r.passed, r.asset, r.check, r.partition))
    for r in order:
        result = "passed" if r.passed else "skipped" if r.skipped else "**FAILED**"
        seen = r.seen.replace("|", "\\|")
        lines.append(f"| {r.asset} | {r.check} | {r.partition} | {r.severity} | {result} | {seen} |")
    return "\n".join(lines) + "\n"


def junit(rows: list[Row]) -> ET.ElementTree:
    failures = sum(1 for r in rows if not r.passed and r.severity == "ERROR" and not r.skipped)
    skipped = sum(1 for r in rows if r.skipped or (not r.passed and r.severity == "WARN"))
    suite = ET.Element(
        "testsuite", name="asset_checks", tests=str(len(rows)), failures=str(failures), skipped=str(skipped)
    )
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname=r.asset, name=f"{r.check}[{r.partition}]")
        if r.skipped:
            ET.SubElement(case, "skipped", message=f"not run: {r.seen}")
        elif not r.passed:
            tag = "failure" if r.severity == "ERROR" else "skipped"
            ET.SubElement(case, tag, message=f"{r.severity}: {r.check} failed").text = r.seen
        else:
            ET.SubElement(case, "system-out").text = r.seen
    return ET.ElementTree(suite)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--start", required=True, help="first month, YYYY-MM")
    p.add_argument("--end", default=None, help="last month, inclusive (default: --start)")
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--scale", default="tiny", help="generator scale for the synthetic landing files")
    p.add_argument("--workdir", type=Path, default=None, help="keep landing files and warehouse here")
    p.add_argument(
        "--inject-duplicates",
        choices=sorted(CONTRACTS),
        default=None,
        metavar="TABLE",
        help="turn off silver deduplication for TABLE (its key_unique check then fails)",
    )
    p.add_argument("--skip-gold", action="store_true", help="landing -> silver only (faster)")
    args = p.parse_args(argv)
    try:
        months = parse_months(args.start, args.end)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bank-check-report-"))
    resources = {
        "warehouse": Warehouse(path=str((work / "warehouse.duckdb").resolve())),
        "landing": LandingZone(root=str((work / "landing").resolve()), scale=args.scale),
        "dbt": dbt_resource(),
        **report_resources(str((work / "warehouse.duckdb").resolve()), str((work / "reports").resolve())),
    }
    run_config = None
    if args.inject_duplicates:
        run_config = {"ops": {f"silver__{args.inject_duplicates}": {"config": {"deduplicate": False}}}}
    rows: list[Row] = []

    def on_result(step: Step, result: ExecuteInProcessResult, seconds: float) -> None:
        print_result(step, result, seconds)
        if not runs_again_by_month(step, result):  # else its months' own runs are reported
            collect(step, result, rows)

    with tempfile.TemporaryDirectory() as home:
        os.environ.setdefault("DAGSTER_HOME", home)
        instance = DagsterInstance.ephemeral()
        ok = run_steps(
            months,
            instance,
            resources,
            run_config=run_config,
            on_result=on_result,
            stop_on_failure=False,
            gold=not args.skip_gold,
            per_run=months_per_run(),
        )
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, months)
    (args.out / "asset_checks.md").write_text(text, encoding="utf-8")
    junit(rows).write(args.out / "asset_checks.xml", encoding="utf-8", xml_declaration=True)
    print(text)
    errors = [r for r in rows if not r.passed and r.severity == "ERROR" and not r.skipped]
    if errors or not ok:
        print(f"{len(errors)} ERROR-severity check(s) failed; runs {'succeeded' if ok else 'FAILED'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
