"""Steps that publish whole or not at all (see ``bank_assets.warehouse.journal``).

Every step writing the warehouse goes through :func:`atomic_step` (bronze, silver) or
:func:`prepare` / :func:`undo` (gold, whose dbt invocation opens its own connection):

1. settle what earlier runs left in the journal: copies of successful runs are dropped, runs
   that failed or died are rolled back (:func:`settle`);
2. refuse to write when this run already failed and was rolled back in an earlier step (the
   in-process executor goes on with steps that do not depend on the failed one);
3. on any exception, restore everything this run replaced, then re-raise with what was done.

The unit is a run's bank data, landing .. gold: gold's step publishes it when every month of the
run is built and tested (:func:`publish`). Analytics and reports run after it, as consumers: they
write outside the journal and their failure fails their own step only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
from dagster import AssetExecutionContext, DagsterInstance, DagsterRunStatus, Failure

from bank_assets.lakehouse.profile import retry_on_conflict
from bank_assets.recovery import dead_reason, sweep_dead_runs
from bank_assets.warehouse import journal
from bank_assets.warehouse.bronze import LandingFileError
from bank_assets.warehouse.connection import rollback_if_open

Log = Callable[[str], None]

_FINISHED_BAD = (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def settle(
    con: duckdb.DuckDBPyConnection, instance: DagsterInstance, current_run_id: str | None, log: Log
) -> journal.Overview:
    """Commit the journal of runs that succeeded, roll back runs that failed or died. Returns the
    journal as it is afterwards (one query when there was nothing to settle).

    A run this instance does not know (its instance was ephemeral or wiped) is committed: the
    warehouse holds what it wrote, and there is no record to judge it by."""
    view = journal.overview(con, current_run_id)
    pending = [r for r in view.pending if r != current_run_id]
    if pending:
        sweep_dead_runs(instance, log)  # marks dead STARTED runs FAILED
    alive: set[str] = {current_run_id} if current_run_id else set()
    for run_id in pending:
        run = instance.get_run_by_id(run_id)
        if run is None or run.status == DagsterRunStatus.SUCCESS:
            n = journal.commit(con, run_id)
            why = "succeeded" if run is not None else "is unknown to this Dagster instance"
            log(f"journal: run {run_id[:8]} {why}; dropped its copies of {n} replaced partitions")
        elif run.status in _FINISHED_BAD:
            n = journal.rollback(con, run_id, detail=f"settled after the run ended {run.status.value}")
            if n:
                log(f"journal: run {run_id[:8]} ended {run.status.value}; restored {n} partitions it replaced")
        else:
            record = instance.get_run_record_by_id(run_id)
            reason = dead_reason(instance, record, time.time()) if record else "it has no record"
            if reason is None:
                alive.add(run_id)
                log(f"journal: run {run_id[:8]} is still {run.status.value}; leaving its journal alone")
                continue
            n = journal.rollback(con, run_id, detail=f"died: {reason}")
            log(f"journal: run {run_id[:8]} died ({reason}); restored {n} partitions it replaced")
    if pending:
        view = journal.overview(con, current_run_id)
    journal.forget_rolled_back(con, keep=alive, rolled_back=view.rolled_back)
    return view


def refuse_if_rolled_back(
    con: duckdb.DuckDBPyConnection, run_id: str, step: str, view: journal.Overview | None = None
) -> None:
    st = (view or journal.overview(con, run_id)).state
    if st and st[0] == "rolled_back":
        raise Failure(description=f"{step} did not run: this run already failed in {st[1]} and was rolled back")


@dataclass
class StepJournal:
    con: duckdb.DuckDBPyConnection
    run_id: str
    step: str

    def save(self, *scopes: journal.Scope) -> None:
        journal.save(self.con, self.run_id, scopes, self.step)


def failure(step: str, error: BaseException, restored: int) -> Failure:
    """The step's error, plus what the rollback did (file, line and rule kept as metadata)."""
    message = error.description if isinstance(error, Failure) and error.description else str(error)
    meta = dict(error.metadata) if isinstance(error, Failure) else {}
    if isinstance(error, LandingFileError):
        meta.update({"file": error.path, "line": error.line, "rule": error.rule})
    done = (
        f" Nothing was published: this run's changes ({restored} partitions of bronze, silver and gold) "
        "were rolled back."
        if restored
        else " Nothing was published."
    )
    return Failure(description=f"{step}: {message}{done}", metadata=meta)


def step_name(context: AssetExecutionContext) -> str:
    return context.op_execution_context.op.name


@contextmanager
def atomic_step(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection) -> Iterator[StepJournal]:
    """Journal what the step replaces; on failure, restore everything the run replaced."""
    run_id, step = context.run.run_id, step_name(context)
    prepare(context, con)
    try:
        yield StepJournal(con, run_id, step)
    except BaseException as e:
        restored = undo(context, con, e)
        if isinstance(e, Exception):
            raise failure(step, e, restored) from e
        raise


def prepare(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection) -> None:
    """Settle earlier runs, then refuse if this run was already rolled back."""
    view = retry_on_conflict(
        lambda: settle(con, context.instance, context.run.run_id, context.log.info),
        log=context.log.warning,
        what="journal settle",
    )
    refuse_if_rolled_back(con, context.run.run_id, step_name(context), view)


def publish(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection) -> int:
    """The run's bank data (landing .. gold) is complete: drop its journal, so nothing that runs
    after it (analytics, reports: consumers of gold) can roll it back. Returns the scopes published."""
    n = retry_on_conflict(
        lambda: journal.commit(con, context.run.run_id), log=context.log.warning, what="journal publish"
    )
    context.log.info(f"published this run's bank data: dropped the journal's copies of {n} replaced partitions")
    return n


def undo(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection, error: BaseException) -> int:
    """Roll this run back (once its transaction, if any, is closed)."""
    rollback_if_open(con)
    restored = journal.rollback(con, context.run.run_id, step_name(context), str(error)[:300])
    context.log.error(
        f"{step_name(context)} failed; restored {restored} partitions this run had replaced: bronze, silver and "
        "gold are as they were before the run."
    )
    return restored
