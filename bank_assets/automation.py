"""Schedules and sensors: the monthly close and the landing-zone sensor for real exports."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    RunStatusSensorContext,
    ScheduleDefinition,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    build_schedule_from_partitioned_job,
    run_status_sensor,
    sensor,
)

from bank_assets.assets.atomic import settle
from bank_assets.assets.bronze import RESTATEMENT_KEY
from bank_assets.contracts import TABLES
from bank_assets.layout import resolve_landing_files
from bank_assets.partitions import monthly_partitions, partition_key
from bank_assets.recovery import PID_TAG, sweep_dead_runs
from bank_assets.resources import LandingZone, Warehouse
from bank_assets.warehouse.connection import WarehouseLockedError, connect

HASH_CHUNK = 1 << 20


def file_digest(path: Path, cache: dict[str, list]) -> str:
    """sha256 of a file's content; re-read only when its size or mtime changed.

    The decision is by content: touching a file (same bytes) never triggers a run.
    """
    st = path.stat()
    key = str(path)
    cached = cache.get(key)
    if cached and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
        return cached[2]
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    cache[key] = [st.st_size, st.st_mtime_ns, h.hexdigest()]
    return cache[key][2]


def month_digest(root: Path, month: str, cache: dict[str, list]) -> str | None:
    """Hash of a month's complete set of landing files (reference tables may be carried forward
    from an earlier month), or None while any file is missing."""
    files = [resolve_landing_files(root, t, month) for t in TABLES]
    if not all(files):
        return None
    return hashlib.sha256("".join(file_digest(p, cache) for paths in files for p in paths).encode()).hexdigest()


def changed_months(root: Path, cursor: dict) -> tuple[list[tuple[str, str, bool]], dict]:
    """(partition key, digest, re-delivered) of every complete month whose content differs from
    the cursor; re-delivered: the sensor had requested that month before with other content."""
    seen: dict[str, str] = dict(cursor.get("months", {}))
    cache: dict[str, list] = dict(cursor.get("files", {}))
    changed = []
    for key in monthly_partitions.get_partition_keys():
        digest = month_digest(root, key[:7], cache)
        if digest and seen.get(key) != digest:
            changed.append((key, digest, key in seen))
            seen[key] = digest
    return changed, {"months": seen, "files": cache}


#: run tag of a sensor run for a month re-delivered with new content
RESTATEMENT_TAG = "bank/restatement"


def build_landing_sensor(job: JobDefinition) -> SensorDefinition:
    @sensor(
        name="landing_zone_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Requests the monthly pipeline for every month whose landing files are new or changed "
        "(by content hash); a month re-delivered with new content is tagged bank/restatement=true, and its "
        "landing and bronze materializations record what changed. Later months that read it show as stale "
        "and gold's automation rebuilds them. For real exports: set BANK_LANDING_MODE=files and turn this "
        "sensor on.",
    )
    def landing_zone_sensor(context: SensorEvaluationContext, landing: LandingZone):
        if landing.mode != "files":
            return SkipReason(
                "landing mode is 'generate': the pipeline writes its own files (set BANK_LANDING_MODE=files)"
            )
        changed, cursor = changed_months(Path(landing.resolved_root), json.loads(context.cursor or "{}"))
        context.update_cursor(json.dumps(cursor))
        if not changed:
            return SkipReason("no new or changed month in the landing zone")
        return [
            RunRequest(
                run_key=f"{key}:{digest[:16]}",
                partition_key=key,
                tags={RESTATEMENT_TAG: "true"} if redelivered else {},
            )
            for key, digest, redelivered in changed
        ]

    return landing_zone_sensor


def months_to_rebuild(instance: DagsterInstance, run_id: str, last_month: str) -> tuple[list[str], list[str]]:
    """(months the run restated, published months after `last_month` that read them), from the
    run's bronze materializations (bank_assets.assets.bronze, RESTATEMENT_KEY). The run rebuilt its
    own months in order, so only months after its last one are stale."""
    restated, later = set(), set()
    for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records:
        mat = record.event_log_entry.asset_materialization
        diff = mat.metadata.get(RESTATEMENT_KEY) if mat else None
        if diff is not None and diff.value.get("restated"):
            restated.add(mat.partition[:7])
            later.update(m for m in diff.value.get("later_months_to_rebuild", []) if m > last_month)
    return sorted(restated), sorted(later)


def build_restatement_sensor(job: JobDefinition) -> SensorDefinition:
    @run_status_sensor(
        name="restatement_followup",
        run_status=DagsterRunStatus.SUCCESS,
        request_job=job,
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="After a run that re-published a month with new content (a restatement: landing's "
        "delivery RESTATEMENT, bronze's rows added, removed and changed), requests the monthly pipeline "
        "for every later published month that read it, oldest first (the run queue runs them in that "
        "order). Runs of `python -m bank_assets.run` are left alone: the CLI rebuilds those months itself.",
    )
    def restatement_followup(context: RunStatusSensorContext):
        run = context.dagster_run
        if PID_TAG in run.tags:
            return SkipReason(f"run {run.run_id[:8]} was started by our CLI, which follows its restatements itself")
        last = run.tags.get("dagster/asset_partition_range_end") or run.tags.get("dagster/partition") or ""
        restated, later = months_to_rebuild(context.instance, run.run_id, last[:7])
        if not later:
            return SkipReason(f"run {run.run_id[:8]} restated no month before a published one")
        context.log.info(f"run {run.run_id[:8]} restated {', '.join(restated)}: rebuilding {', '.join(later)}")
        return [
            RunRequest(
                run_key=f"restatement:{run.run_id}:{m}",
                partition_key=partition_key(m),
                tags={RESTATEMENT_TAG: "followup", "bank/restated_by_run": run.run_id},
            )
            for m in later
        ]

    return restatement_followup


def build_dead_run_sensor() -> SensorDefinition:
    @sensor(
        name="recover_dead_runs",
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Marks runs whose process died (SIGKILL, a crashed machine) as failed, frees "
        "their duckdb_warehouse slot and restores the rows they had replaced (run journal), so a "
        "killed run never blocks the run queue or the pool and leaves nothing half-published "
        "(bank_assets.recovery.sweep_dead_runs; our CLI does the same when it starts).",
    )
    def recover_dead_runs(context: SensorEvaluationContext, warehouse: Warehouse):
        lines: list[str] = []
        sweep_dead_runs(context.instance, log=lines.append)
        if lines:  # a run died: restore what it replaced now, unless a run holds the warehouse
            try:
                with connect(warehouse.resolved_path, timeout_s=5.0) as con:
                    settle(con, context.instance, None, lines.append)
            except WarehouseLockedError:
                lines.append("warehouse busy: the next run that writes it restores what dead runs replaced")
        for line in lines:
            context.log.warning(line)
        return SkipReason("; ".join(lines) if lines else "no dead run")

    return recover_dead_runs


def build_monthly_schedule(job: JobDefinition) -> ScheduleDefinition:
    """On the 1st at 02:00, run the month that just closed (the last complete partition)."""
    return build_schedule_from_partitioned_job(
        job, name="monthly_close", hour_of_day=2, description="Materializes the previous month through gold."
    )
