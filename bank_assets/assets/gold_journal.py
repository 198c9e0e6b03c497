"""What a gold build may replace, copied into the run journal before dbt runs
(``bank_assets.warehouse.journal``): the window's rows of every incremental model (its
``meta.partition_column``) and, for an SCD2 dimension (``meta.scd2``), every version the window
may open or close."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from dagster import AssetExecutionContext, AssetKey

from bank_assets.assets.atomic import step_name
from bank_assets.assets.dbt_project import model_nodes
from bank_assets.lakehouse.profile import retry_on_conflict
from bank_assets.warehouse import journal
from bank_assets.warehouse.connection import rollback_if_open


def journal_scopes(keys: Iterable[AssetKey], start: dt.date, end: dt.date) -> list[journal.Scope]:
    """What a dbt build over [start, end) may replace in the selected models: the window's rows of
    every incremental model (its meta.partition_column) and, for SCD2 dimensions (meta.scd2), every
    version the window may open or close (valid from its first month on, still open, or closed
    after it); a rollback also restores those versions by their surrogate key."""
    nodes = model_nodes()
    scopes = []
    for k in sorted(keys, key=str):
        node = nodes.get(k.path[-1])
        if node is None or node["config"]["materialized"] not in ("incremental", "table"):
            continue  # views hold no data
        table = f"{node['schema']}.{node['alias']}"
        meta = node["config"]["meta"]
        column = meta["partition_column"]
        if "scd2" in meta:
            day = f"DATE '{start:%Y-%m-%d}'"
            predicate = f"{column} >= {day} OR valid_to IS NULL OR valid_to >= {day}"
            scopes.append(journal.Scope(table, predicate, id_column=meta["scd2"]["surrogate_key"]))
        else:
            scopes.append(journal.window_scope(table, column, start, end))
    return scopes


def save_journal(context: AssetExecutionContext, con: Any, start: dt.date, end: dt.date) -> None:
    """Copy what the dbt build over [start, end) may replace into the run journal, in one transaction."""

    def attempt() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            scopes = journal_scopes(context.selected_asset_keys, start, end)
            journal.save(con, context.run.run_id, scopes, step_name(context))
            con.execute("COMMIT")
        except Exception:
            rollback_if_open(con)
            raise

    retry_on_conflict(attempt, log=context.log.warning, what=f"gold journal {start:%Y-%m}..{end:%Y-%m}")
