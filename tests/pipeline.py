"""Helpers to run the real asset graph in-process on a temporary warehouse and landing zone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import yaml
from dagster import (
    AssetCheckResult,
    AssetSelection,
    DagsterInstance,
    ExecuteInProcessResult,
    asset,
    asset_check,
    define_asset_job,
    instance_for_test,
    materialize,
)

from bank_assets.assets.dbt_project import dbt_resource
from bank_assets.contracts import CONTRACTS
from bank_assets.definitions import all_assets
from bank_assets.resources import LandingZone, Warehouse, report_resources
from devtools.operate import DAGSTER_YAML


@contextmanager
def project_instance(temp_dir: str | None = None) -> Iterator[DagsterInstance]:
    """``dagster.instance_for_test`` with the event log storage of the project's dagster.yaml
    (``PooledSqliteEventLogStorage``), so in-process runs store their events as the CLI's and the
    daemon's do, at about half the cost per month of Dagster's default storage."""
    storage = yaml.safe_load(DAGSTER_YAML.read_text())["event_log_storage"]
    with instance_for_test(temp_dir=temp_dir, overrides={"event_log_storage": storage}) as instance:
        yield instance


def resources(root: Path, **landing) -> dict:
    landing.setdefault("scale", "tiny")
    landing.setdefault("customers", 300)
    return {
        "warehouse": Warehouse(path=str(root / "warehouse.duckdb")),
        "landing": LandingZone(root=str(root / "landing"), **landing),
        "dbt": dbt_resource(),
        **report_resources(str(root / "warehouse.duckdb"), str(root / "reports")),
    }


SILVER = AssetSelection.groups("landing", "bronze", "silver")
GOLD = AssetSelection.groups("gold")
#: a month's bank data, landing .. gold with every check, without its consumers (analytics,
#: reports): for tests of what a month publishes, a run ~30 % shorter than the main job's
BANK_DATA_JOB = define_asset_job(
    "bank_data", selection=AssetSelection.all() - AssetSelection.groups("analytics", "reports")
)


def run(
    res: dict,
    month: str,
    instance: DagsterInstance,
    selection: AssetSelection | None = None,
    run_config: dict | None = None,
) -> ExecuteInProcessResult:
    """One month landing -> silver, or `selection`."""
    return materialize(
        all_assets,
        partition_key=f"{month}-01",
        resources=res,
        instance=instance,
        selection=selection or SILVER,
        run_config=run_config,
        raise_on_error=False,
    )


def query(res: dict, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(res["warehouse"].resolved_path, read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def checksum(res: dict, layer: str, table: str, month: str) -> tuple:
    """Row count and an order-independent hash of the business columns of one partition."""
    cols = ", ".join(f'"{c}"' for c in CONTRACTS[table].column_names)
    return query(
        res,
        f"SELECT count(*), sum(hash({cols})) FROM {layer}.{table} WHERE _partition_month = $m::DATE",
        {"m": f"{month}-01"},
    )[0]


def run_months(res: dict, months: list[str], instance: DagsterInstance) -> None:
    """The months landing -> silver in one run (the CLI's way: runs of several months)."""
    from bank_assets.run import run_steps

    assert run_steps(months, instance, res, gold=False, per_run=len(months)), months


def run_gold(res: dict, months: list[str], instance: DagsterInstance) -> None:
    """Gold for each month, one run per month (after run_months)."""
    for m in months:
        result = run(res, m, instance, selection=GOLD)
        assert result.success, m


def asset_with_check() -> tuple[Any, Any]:
    """An asset and a passing check on it: the smallest run that stores every kind of event an
    instance storage must keep (planned, materialization, check evaluation, step and run events)."""

    @asset
    def numbers() -> int:
        return 3

    @asset_check(asset=numbers)
    def positive() -> AssetCheckResult:
        return AssetCheckResult(passed=True)

    return numbers, positive


def assert_runs_stored(instance: DagsterInstance, results: list[ExecuteInProcessResult], label: str = "") -> None:
    """Each run's events of the kinds below are in `instance`, as many as the run produced."""
    for r in results:
        stored = [e.dagster_event.event_type_value for e in instance.all_logs(r.run_id) if e.is_dagster_event]
        produced = [e.event_type_value for e in r.all_events]
        for kind in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "STEP_SUCCESS", "STEP_OUTPUT"):
            assert stored.count(kind) == produced.count(kind) > 0, (label, kind)
