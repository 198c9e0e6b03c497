"""The monthly schedule and the landing sensor, evaluated with Dagster's test helpers."""

from __future__ import annotations

import datetime as dt
import json
import os

from dagster import DagsterInstance, RunRequest, build_schedule_context, build_sensor_context

from bank_assets.automation import RESTATEMENT_TAG
from bank_assets.contracts import REFERENCE_TABLES, TABLES
from bank_assets.definitions import defs
from bank_assets.resources import LandingZone
from bank_assets.synthetic import DefectRates, GeneratorConfig, generate

from .conftest import TINY, months


def test_schedule_runs_the_month_that_just_closed():
    schedule = defs.resolve_schedule_def("monthly_close")
    assert schedule.cron_schedule == "0 2 1 * *"
    with DagsterInstance.ephemeral() as instance:
        ctx = build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(2024, 4, 1, 2, 0))
        requests = list(schedule.evaluate_tick(ctx).run_requests)
    assert [r.partition_key for r in requests] == ["2024-03-01"]


def evaluate(sensor, landing: LandingZone, cursor: str | None):
    ctx = build_sensor_context(cursor=cursor, resources={"landing": landing}, definitions=defs)
    result = sensor.evaluate_tick(ctx)
    return result, result.cursor


def test_sensor_requests_new_and_changed_months_only(tmp_path):
    sensor = defs.resolve_sensor_def("landing_zone_sensor")
    landing = LandingZone(root=str(tmp_path), mode="files")
    cfg = GeneratorConfig(seed=5, scale=TINY, defects=DefectRates.clean())
    generate(cfg, months("2024-01", "2024-02"), tmp_path)

    result, cursor = evaluate(sensor, landing, None)
    assert sorted(r.partition_key for r in result.run_requests) == ["2024-01-01", "2024-02-01"]

    # nothing new: no run; a touched file with the same bytes: still no run
    path = tmp_path / "transactions" / "2024-02" / "transactions.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    result, cursor = evaluate(sensor, landing, cursor)
    assert not result.run_requests

    # a new month, and a changed one
    generate(
        cfg,
        months("2024-03", "2024-03"),
        tmp_path,
        tables=[t for t in TABLES if t not in REFERENCE_TABLES],  # reference files carry forward
    )
    path.write_bytes(path.read_bytes() + path.read_bytes().splitlines(keepends=True)[-1])
    result, cursor = evaluate(sensor, landing, cursor)
    keys = sorted(r.partition_key for r in result.run_requests)
    assert keys == ["2024-02-01", "2024-03-01"]
    assert all(isinstance(r, RunRequest) and r.run_key.startswith(r.partition_key) for r in result.run_requests)
    # the re-delivered month is tagged a restatement; the new one is not
    tags = {r.partition_key: r.tags.get(RESTATEMENT_TAG) for r in result.run_requests}
    assert tags == {"2024-02-01": "true", "2024-03-01": None}
    assert set(json.loads(cursor)["months"]) == {"2024-01-01", "2024-02-01", "2024-03-01"}


def test_reference_files_carry_forward_into_later_months(tmp_path):
    """2024-03 has no merchants/branches files of its own: 2024-02's are carried forward, so the
    month is complete (the new-month case above relies on it too)."""
    from bank_assets.layout import resolve_landing_file

    cfg = GeneratorConfig(seed=5, scale=TINY, defects=DefectRates.clean())
    generate(cfg, months("2024-01", "2024-02"), tmp_path)
    generate(cfg, months("2024-03", "2024-03"), tmp_path, tables=["transactions"])
    assert (
        resolve_landing_file(tmp_path, "merchants", "2024-03") == tmp_path / "merchants" / "2024-02" / "merchants.csv"
    )
    assert resolve_landing_file(tmp_path, "merchants", "2023-12") is None
    assert resolve_landing_file(tmp_path, "customers", "2024-03") is None  # event tables never carry forward


def test_schedule_and_sensor_target_the_named_monthly_job():
    assert defs.resolve_schedule_def("monthly_close").job_name == "monthly_pipeline"
    assert defs.resolve_sensor_def("landing_zone_sensor").job_name == "monthly_pipeline"


def test_incomplete_month_waits(tmp_path):
    sensor = defs.resolve_sensor_def("landing_zone_sensor")
    generate(GeneratorConfig(seed=5, scale=TINY), months("2024-01", "2024-01"), tmp_path, tables=["transactions"])
    result, _ = evaluate(sensor, LandingZone(root=str(tmp_path), mode="files"), None)
    assert not result.run_requests


def test_sensor_skips_in_generate_mode(tmp_path):
    sensor = defs.resolve_sensor_def("landing_zone_sensor")
    result, _ = evaluate(sensor, LandingZone(root=str(tmp_path), mode="generate"), None)
    assert not result.run_requests and isinstance(result.skip_message, str)
