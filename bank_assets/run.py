"""Run the main job for a range of months, in-process.

    python -m bank_assets.run --start 2024-01 --end 2025-12     (or --all)

1. the first month landing -> silver, with the reference tables (merchants, branches);
2. each further month, landing -> silver (one run per month: checks per partition);
3. gold: base dbt models, the incremental models for the whole range (one dbt invocation over
   the half-open window), then the roll-ups, as one run.
A single month is one run from landing to gold.

Runs are recorded in the Dagster instance of DAGSTER_HOME, so `dagster dev` shows the history.
Months may be given as YYYY-MM or as Dagster partition keys (YYYY-MM-DD).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    JobDefinition,
    in_process_executor,
)

from bank_assets.definitions import (
    all_assets,
    defs,
    gold_selection,
    monthly_selection,
    reference_selection,
)
from bank_assets.partitions import partition_key, partition_range
from bank_assets.synthetic.months import month_label, month_range, parse_month

RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


@dataclass(frozen=True)
class Step:
    label: str  # what the step covers, e.g. "2024-03" or "gold incremental 2024-01..2024-03"
    partition: str  # "2024-03", "2024-01..2024-03" or "" for unpartitioned assets
    selection: AssetSelection
    kwargs: Mapping[str, Any]


def steps_for(months: list[str]) -> list[Step]:
    """The main job as a list of in-process runs, in dependency order (fewest runs that keep each
    month's checks attached to its partition: every run costs Dagster set-up and event writes)."""
    first = Step(
        f"{months[0]} with reference tables",
        months[0],
        reference_selection | monthly_selection,
        {"partition_key": partition_key(months[0])},
    )
    if len(months) == 1:
        whole = reference_selection | monthly_selection | gold_selection
        return [Step(f"{months[0]} landing -> gold", months[0], whole, first.kwargs)]
    window = f"{months[0]}..{months[-1]}"
    tags = {RANGE_TAGS[0]: partition_key(months[0]), RANGE_TAGS[1]: partition_key(months[-1])}
    return [
        first,
        *[Step(m, m, monthly_selection, {"partition_key": partition_key(m)}) for m in months[1:]],
        Step(f"gold {window}", window, gold_selection, {"tags": tags}),
    ]


def asset_job(resources: Mapping[str, Any]) -> JobDefinition:
    """The implicit job over every asset with these resources, built once per call of run_steps
    (each step runs a subset of it, instead of re-building definitions per run)."""
    return Definitions(
        assets=all_assets, resources=resources, executor=in_process_executor
    ).resolve_implicit_global_asset_job_def()


def run_steps(
    months: list[str],
    instance: DagsterInstance,
    resources: Mapping[str, Any],
    run_config: dict | None = None,
    on_result: Callable[[Step, ExecuteInProcessResult, float], None] | None = None,
    stop_on_failure: bool = True,
    gold: bool = True,
) -> bool:
    """Execute the main job's steps; returns True if every step succeeded."""
    ok = True
    job = asset_job(resources)
    graph = defs.resolve_asset_graph()
    for step in steps_for(months):
        selection = step.selection if gold else step.selection - gold_selection
        keys = selection.resolve(graph)
        if not keys:
            continue
        t0 = time.perf_counter()
        checks = AssetSelection.checks_for_assets(*keys).resolve_checks(graph)
        result = job.get_subset(asset_selection=keys, asset_check_selection=checks).execute_in_process(
            instance=instance,
            run_config=config_for(keys, run_config),
            raise_on_error=False,
            **step.kwargs,
        )
        if on_result:
            on_result(step, result, time.perf_counter() - t0)
        ok = ok and result.success
        if not result.success and stop_on_failure:
            return False
    return ok


def config_for(keys: AbstractSet[AssetKey], run_config: dict | None) -> dict:
    """The part of a run config whose ops belong to this step's assets, plus the console log
    level (BANK_LOG_LEVEL, default WARNING: one progress line per step instead of every event)."""
    level = os.environ.get("BANK_LOG_LEVEL", "WARNING").upper()
    config: dict = {"loggers": {"console": {"config": {"log_level": level}}}}
    if run_config and run_config.get("ops"):
        ops = {"__".join(k.path) for k in keys}
        config["ops"] = {op: cfg for op, cfg in run_config["ops"].items() if op in ops}
    return config


def parse_months(start: str | None, end: str | None, everything: bool = False) -> list[str]:
    first, last = partition_range()
    lo, hi = parse_month(first), parse_month(last)
    s = lo if everything else parse_month(start or first)
    e = hi if everything else (parse_month(end) if end else s)
    if s < lo or e > hi:
        raise ValueError(
            f"{month_label(s)}..{month_label(e)} is outside the partitions {first}..{last} "
            f"(set BANK_FIRST_MONTH / BANK_LAST_MONTH to change them)"
        )
    return [month_label(m) for m in month_range(s, e)]


def print_result(step: Step, result: ExecuteInProcessResult, seconds: float) -> None:
    failed = sorted(
        {f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed}
    )
    status = "ok" if result.success else "FAILED"
    note = f" (checks not passed: {', '.join(failed)})" if failed else ""
    print(f"{step.label:<34} {status} in {seconds:5.1f}s{note}", flush=True)


def main(argv: list[str] | None = None) -> int:
    first, last = partition_range()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--start", default=None, help=f"first month, YYYY-MM or YYYY-MM-DD (default {first})")
    p.add_argument("--end", default=None, help="last month, inclusive (default: --start)")
    p.add_argument("--all", action="store_true", help=f"the whole configured range {first}..{last}")
    args = p.parse_args(argv)
    try:
        months = parse_months(args.start, args.end, args.all)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    ok = run_steps(months, DagsterInstance.get(), defs.resources, on_result=print_result)
    print(f"{'done' if ok else 'FAILED'}: {len(months)} months in {time.perf_counter() - began:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
