"""Helpers to run the real asset graph in-process on a temporary warehouse and landing zone."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetSelection, DagsterInstance, ExecuteInProcessResult, materialize

from bank_assets.assets.gold import dbt_resource
from bank_assets.contracts import CONTRACTS
from bank_assets.definitions import all_assets
from bank_assets.resources import LandingZone, Warehouse


def resources(root: Path, **landing) -> dict:
    landing.setdefault("scale", "tiny")
    landing.setdefault("customers", 300)
    return {
        "warehouse": Warehouse(path=str(root / "warehouse.duckdb")),
        "landing": LandingZone(root=str(root / "landing"), **landing),
        "dbt": dbt_resource(),
    }


SILVER = AssetSelection.groups("landing", "bronze", "silver")


def run(
    res: dict,
    month: str,
    instance: DagsterInstance,
    selection: AssetSelection | None = None,
    run_config: dict | None = None,
) -> ExecuteInProcessResult:
    """One month landing -> silver (with the reference tables), or `selection`."""
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


def checksum(res: dict, layer: str, table: str, month: str | None) -> tuple:
    """Row count and an order-independent hash of the business columns of one partition."""
    cols = ", ".join(f'"{c}"' for c in CONTRACTS[table].column_names)
    where = "_partition_month = $m::DATE" if month else "true"
    return query(
        res,
        f"SELECT count(*), sum(hash({cols})) FROM {layer}.{table} WHERE {where}",
        {"m": f"{month}-01"} if month else {},
    )[0]


def run_months(res: dict, months: list[str], instance: DagsterInstance) -> None:
    """Reference tables, then each month landing -> silver, as the main job does."""
    from bank_assets.definitions import monthly_selection, reference_selection

    assert materialize(all_assets, resources=res, instance=instance, selection=reference_selection).success
    for m in months:
        assert run(res, m, instance, selection=monthly_selection).success, m


def run_gold(res: dict, months: list[str], instance: DagsterInstance) -> None:
    """Gold as the main job builds it: base models, the incremental range in one run, roll-ups."""
    from bank_assets.run import steps_for

    for step in steps_for(months):
        if step.label.startswith("gold"):
            result = materialize(all_assets, resources=res, instance=instance, selection=step.selection, **step.kwargs)
            assert result.success, step.label
