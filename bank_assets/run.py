"""Run the main job, ``monthly_pipeline``, for a range of months, in-process.

    python -m bank_assets.run --start 2024-01 --end 2025-12     (or --all)

The whole graph (landing -> bronze -> silver -> gold -> analytics -> reports), oldest month
first, as the ``monthly_close`` schedule runs it, in runs of up to ``BANK_MONTHS_PER_RUN`` months
(default 12; each asset walks the run's months in order and records every materialization and
check on its month, as a UI backfill's single run does). A run's fixed costs (its plan, every
step's start and end, about half of its stored events) are paid once per run, not per month.

A run's bank data (landing .. gold) publishes whole or not at all. When a run of several months
fails, everything it wrote is rolled back and its months run again one at a time, so the months
before the failing one are published and the failure is named with its month; the command stops
there. When only a consumer (analytics, reports) fails, it goes on and exits non-zero at the end,
naming each failed consumer. Runs are recorded under the job's name in the Dagster instance of
DAGSTER_HOME, so the UI shows them. Before the first run, runs left STARTED by a killed process
are marked failed and their warehouse slot is freed. Months may be given as YYYY-MM or as Dagster
partition keys (YYYY-MM-DD).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    in_process_executor,
)

from bank_assets.assets.atomic import settle
from bank_assets.assets.gold import ANSI
from bank_assets.assets.reports import dashboard_path
from bank_assets.automation import months_to_rebuild
from bank_assets.contracts import TABLES
from bank_assets.definitions import all_assets, defs, ingest_job, monthly_job
from bank_assets.partitions import partition_key, partition_month, partition_range
from bank_assets.recovery import process_tags, sweep_dead_runs
from bank_assets.resources import Warehouse
from bank_assets.settings import env, months_per_run, resolve
from bank_assets.synthetic.months import month_label, month_range, parse_month


@dataclass(frozen=True)
class Step:
    label: str  # the month, e.g. "2024-03", or the months of a run, "2024-01..2024-06"
    partition: str  # the first month, "2024-03"
    job_name: str
    last: str | None = None  # the last month of a run of several months

    @property
    def months(self) -> list[str]:
        first, last = parse_month(self.partition), parse_month(self.last or self.partition)
        return [month_label(m) for m in month_range(first, last)]

    def run_tags(self) -> dict[str, str]:
        """A run of several months: Dagster's partition-range tags (what a UI backfill's single run carries)."""
        if not self.last:
            return {}
        return {
            "dagster/asset_partition_range_start": partition_key(self.partition),
            "dagster/asset_partition_range_end": partition_key(self.last),
        }


def steps_for(months: list[str], gold: bool = True, per_run: int = 1) -> list[Step]:
    """Runs of up to `per_run` consecutive months, oldest first (each month's checks and status
    live on its partition whatever the run)."""
    job = monthly_job.name if gold else ingest_job.name
    size = max(per_run, 1)
    chunks = [months[i : i + size] for i in range(0, len(months), size)]
    return [Step(c[0], c[0], job) if len(c) == 1 else Step(f"{c[0]}..{c[-1]}", c[0], job, last=c[-1]) for c in chunks]


def bound_definitions(resources: Mapping[str, Any], extra_jobs: Sequence[Any] = ()) -> Definitions:
    """The project's jobs bound to these resources (tests and the check report use their own);
    `extra_jobs` (unresolved asset jobs, e.g. the benchmark's landing -> gold) are bound too."""
    return Definitions(
        assets=all_assets,
        jobs=[monthly_job, ingest_job, *extra_jobs],
        resources=resources,
        executor=in_process_executor,
    )


def run_steps(
    months: list[str],
    instance: DagsterInstance,
    resources: Mapping[str, Any],
    run_config: dict | None = None,
    on_result: Callable[[Step, ExecuteInProcessResult, float], None] | None = None,
    stop_on_failure: bool = True,
    gold: bool = True,
    output: TextIO | None = None,
    job: Any = None,
    per_run: int = 1,
    on_start: Callable[[Step], None] | None = None,
) -> bool:
    """Execute the main job over `months`, oldest first, in runs of up to `per_run` months;
    returns True if every run succeeded. A failed run of several months (rolled back whole) runs
    again month by month. With `output`, what the steps print (dbt's per-node lines) goes there
    instead of the console. With `job` (an unresolved asset job, e.g.
    ``define_asset_job(name, selection)``), that job runs instead."""
    ok = True
    jobs = bound_definitions(resources, [job] if job is not None else [])
    job_name = job.name if job is not None else None

    def execute(step: Step) -> ExecuteInProcessResult:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(output) if output else contextlib.nullcontext():
            result = jobs.resolve_job_def(job_name or step.job_name).execute_in_process(
                instance=instance,
                partition_key=None if step.last else partition_key(step.partition),
                run_config=config_for(run_config),
                tags={**process_tags(), **step.run_tags()},
                raise_on_error=False,
            )
        settle_journal(instance, resources)
        if on_result:
            on_result(step, result, time.perf_counter() - t0)
        return result

    with _held(resources):
        pending = collections.deque(steps_for(months, gold=gold, per_run=per_run))
        while pending:
            step = pending.popleft()
            if on_start and step.last:
                on_start(step)
            result = execute(step)
            if runs_again_by_month(step, result):
                # rolled back whole: its months again, one at a time, to publish those before the failure
                pending.extendleft(reversed([Step(m, m, step.job_name) for m in step.months]))
                continue
            bank_data_failed = not result.success and not only_consumers_failed(result)
            ok = ok and result.success
            if bank_data_failed and stop_on_failure:
                return False  # the month's bank data was rolled back: later months would build on a gap
    return ok


def runs_again_by_month(step: Step, result: ExecuteInProcessResult) -> bool:
    """A run of several months whose bank data failed is rolled back whole, and
    :func:`run_steps` runs its months again one at a time: its results are superseded."""
    return bool(step.last) and not result.success and not only_consumers_failed(result)


@contextlib.contextmanager
def _held(resources: Mapping[str, Any]) -> Iterator[None]:
    """The warehouse held open across the runs of a range (each run holds it too: re-entrant)."""
    warehouse = resources.get("warehouse")
    if not isinstance(warehouse, Warehouse):
        yield
        return
    with warehouse.process_config_and_initialize_cm():  # Warehouse.yield_for_execution holds it
        yield


#: asset groups that consume the bank data (landing .. gold) and never roll it back
CONSUMER_GROUPS = frozenset({"analytics", "reports"})


def _step_groups() -> dict[str, set[str]]:
    """op (step) name -> the groups of the assets it materializes."""
    return {a.op.name: set(a.group_names_by_key.values()) for a in all_assets}


def failed_steps(result: ExecuteInProcessResult) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]


def only_consumers_failed(result: ExecuteInProcessResult) -> bool:
    """True when the run failed in analytics or reports steps only: its bank data is published."""
    groups = _step_groups()
    failed = failed_steps(result)
    return bool(failed) and all(groups.get(s, set()) and groups[s] <= CONSUMER_GROUPS for s in failed)


def settle_journal(
    instance: DagsterInstance, resources: Mapping[str, Any], log: Callable[[str], None] = lambda line: None
) -> None:
    """Drop the journal of the run that just succeeded, roll back runs that failed outside a step
    or died, so the warehouse holds no copies between runs (bank_assets.warehouse.journal)."""
    warehouse = resources.get("warehouse")
    if isinstance(warehouse, Warehouse):
        with warehouse.process_config_and_initialize_cm() as held, held.connect() as con:
            settle(con, instance, None, log)


def follow_restatements(
    ok: bool,
    restated: list[str],
    later: list[str],
    run: Callable[[list[str]], bool],
    follow: bool = True,
    say: Callable[[str], None] = lambda line: print(line, flush=True),
) -> tuple[bool, list[str]]:
    """After runs that re-published `restated` months with new content, the published months
    `later` read them (trailing windows, year to date, SCD2 versions, foreign keys): rebuild them
    in order with `run` (or, with `follow` off, name them). Both come from bronze's restatement
    metadata (bank_assets.automation.months_to_rebuild). Returns (ok, months rebuilt)."""
    if not ok or not later:
        return ok, []
    span = later[0] if len(later) == 1 else f"{later[0]}..{later[-1]}, {len(later)} months"
    say(
        f"restatement: {', '.join(restated)} re-delivered with new content; "
        f"the published months after it read it ({span})"
    )
    if not follow:
        say(f"  not rebuilt (--no-follow): run --start {later[0]} --end {later[-1]} to bring them up to date")
        return ok, []
    say("  rebuilding them in order")
    return run(later), later


def accept_new_profile_config() -> dict:
    """Run config letting every bronze asset reload months loaded under other profile settings."""
    return {"ops": {f"bronze__{t}": {"config": {"accept_new_profile": True}} for t in TABLES}}


def config_for(run_config: dict | None) -> dict:
    """The run config plus the console log level (BANK_LOG_LEVEL, default CRITICAL: our own line
    per month, with the reasons of a failure, instead of Dagster's events and stack traces;
    BANK_LOG_LEVEL=INFO shows every step)."""
    level = os.environ.get("BANK_LOG_LEVEL", "CRITICAL").upper()
    return {**(run_config or {}), "loggers": {"console": {"config": {"log_level": level}}}}


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


def failure_lines(result: ExecuteInProcessResult) -> list[str]:
    """Why a run failed, plainly: each failed step with its message, and each failed check."""
    lines = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None and "Error occurred while executing" in error.message:
                error = error.cause  # the op's own exception, not Dagster's wrapper around it
            message = (error.message if error else "no message").strip().splitlines()
            text = ANSI.sub("", " ".join(m.strip() for m in message))
            lines.append(f"  step {event.step_key} failed: {text[:1500]}")
    for e in result.get_asset_check_evaluations():
        if not e.passed:
            verdict = "failed" if e.severity == AssetCheckSeverity.ERROR else "warned"
            name = f"{e.asset_key.to_user_string()}:{e.check_name}"
            lines.append(f"  check {name} [{e.partition}] {verdict} ({what_it_saw(e)[:600]})")
    return lines


def what_it_saw(evaluation: AssetCheckEvaluation) -> str:
    """A check's finding in one line: its description (a silver contract check names its broken
    rules there), the broken rules of a gold ``<model>_rules`` test, or its metadata."""
    metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    if evaluation.description:
        return evaluation.description
    if "failing_rule_counts" in metadata:
        return "broken rules: " + ", ".join(f"{k}={v}" for k, v in metadata["failing_rule_counts"].items())
    return ", ".join(f"{k}={v}" for k, v in metadata.items() if not k.startswith("dagster"))


def print_result(step: Step, result: ExecuteInProcessResult, seconds: float) -> None:
    evaluations = result.get_asset_check_evaluations()
    failed = sum(1 for e in evaluations if not e.passed and e.severity == AssetCheckSeverity.ERROR)
    warned = sum(1 for e in evaluations if not e.passed and e.severity != AssetCheckSeverity.ERROR)
    status = "ok" if result.success else "FAILED"
    n = len(step.months)
    per_month = f" ({seconds / n:.1f}s a month)" if n > 1 else ""
    print(
        f"{step.label}  {step.job_name:<16} {status:<6} in {seconds:5.1f}s{per_month}  "
        f"checks: {len(evaluations) - failed - warned} passed, {failed} failed, {warned} warned  "
        f"(run {result.run_id[:8]})",
        flush=True,
    )
    if not result.success or failed or warned:
        for line in failure_lines(result):
            print(line, flush=True)


KEEP_LOGS = 20


def step_log_path(instance: DagsterInstance) -> Path:
    """A new file for this command's step output, under DAGSTER_HOME/logs (the newest 20 are kept)."""
    folder = Path(instance.root_directory if instance.is_persistent else tempfile.gettempdir()) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("bank_run-*.log"))[: -KEEP_LOGS + 1]:
        old.unlink(missing_ok=True)
    return folder / f"bank_run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def where_next(instance: DagsterInstance) -> str:
    home = instance.root_directory if instance.is_persistent else "(ephemeral)"
    return (
        f"warehouse: {resolve(env('BANK_WAREHOUSE'))}\n"
        f"runs, check results and logs: DAGSTER_HOME={home}; browse them with `bash scripts/ui.sh` "
        f"(http://127.0.0.1:3000)\n"
        f"check report: .venv/bin/python -m bank_assets.check_report --start <YYYY-MM> --end <YYYY-MM>"
    )


def main(argv: list[str] | None = None) -> int:
    first, last = partition_range()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--start", default=None, help=f"first month, YYYY-MM or YYYY-MM-DD (default {first})")
    p.add_argument("--end", default=None, help="last month, inclusive (default: --start)")
    p.add_argument("--all", action="store_true", help=f"the whole configured range {first}..{last}")
    p.add_argument(
        "--no-follow",
        action="store_true",
        help="after a restatement (a month re-delivered with new content), only name the later published "
        "months that read it instead of rebuilding them",
    )
    p.add_argument(
        "--accept-new-profile",
        action="store_true",
        help="load months that bronze loaded before under other source-profile settings (refused otherwise)",
    )
    args = p.parse_args(argv)
    try:
        months = parse_months(args.start, args.end, args.all)
        per_run = months_per_run()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    instance = DagsterInstance.get()
    sweep_dead_runs(instance, log=lambda line: print(line, flush=True))
    settle_journal(instance, defs.resources, log=lambda line: print(line, flush=True))
    log_path = step_log_path(instance)
    consumer_failures: list[str] = []
    succeeded: list[str] = []  # run ids, for their restatements

    def started(step: Step) -> None:
        print(f"{step.label}  {step.job_name:<16} running: one run of {len(step.months)} months ...", flush=True)

    def report(step: Step, result: ExecuteInProcessResult, seconds: float) -> None:
        print_result(step, result, seconds)
        if result.success:
            succeeded.append(result.run_id)
        if not result.success and only_consumers_failed(result):
            consumer_failures.extend(f"{step.label} {s}" for s in failed_steps(result))
            print(f"  {step.label}: bronze, silver and gold are published; only consumers failed, going on", flush=True)
        elif not result.success and step.last:
            print(f"  {step.label}: rolled back whole; running its months one at a time", flush=True)

    run_config = accept_new_profile_config() if args.accept_new_profile else None
    with log_path.open("w", encoding="utf-8") as output:
        ok = run_steps(
            months,
            instance,
            defs.resources,
            run_config=run_config,
            on_result=report,
            output=output,
            per_run=per_run,
            on_start=started,
        )
        found = [months_to_rebuild(instance, run_id, months[-1]) for run_id in succeeded]
        ok, later = follow_restatements(
            ok,
            sorted({m for restated, _ in found for m in restated}),
            sorted({m for _, later in found for m in later}),
            lambda m: run_steps(
                m, instance, defs.resources, on_result=report, output=output, per_run=per_run, on_start=started
            ),
            follow=not args.no_follow,
        )
        months = months + later
    print(f"{'done' if ok else 'FAILED'}: {len(months)} months in {time.perf_counter() - began:.0f}s")
    if consumer_failures:
        print("consumers that failed (their months' bank data is published; re-run them once fixed):")
        for line in consumer_failures:
            print(f"  {line}")
    print(f"step output (dbt's lines): {log_path}")
    print(where_next(instance))
    dashboard = dashboard_path(resolve(env("BANK_REPORTS_DIR")), partition_month(months[-1]))
    if dashboard.exists():
        print(f"exports (Parquet, the read path for BI): {dashboard.parent.parent / 'exports'}")
        print(f"dashboard: {dashboard}")
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    # Everything is written and closed. Skip the garbage collection the interpreter runs at exit
    # over every object dagster, dbt and pandas made (1-1.5 s after a run); atexit handlers still run.
    gc.freeze()
    raise SystemExit(code)
