"""The run journal: a run publishes whole or not at all, in every layer.

Before a step replaces published rows (a month of a bronze or silver table, a month of a gold
model, the versions an SCD2 month may touch), it copies the rows it is about to replace into
the ``_journal`` schema, tagged with the Dagster run id (bronze and silver in the same
transaction as the replacement; gold just before dbt runs). Then:

* the run fails in a step: that step restores every row the run replaced, in one transaction,
  and marks the run rolled back, so its later steps refuse to write (:func:`rollback`);
* the run succeeds: its copies are dropped by the next writer (:func:`settle`) or by the CLI;
* the run is killed: the next writer finds it dead and restores (:func:`settle`).

This is a rollback journal (undo log), the classic database recovery technique, kept at month
granularity: it costs one copy of the rows a run replaces (nothing for a month loaded the first
time) and never grows with history. Readers of the warehouse may see a run's new rows before it
ends; the consistent read path is the exports (written after a month succeeded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import duckdb

from bank_assets.lakehouse.profile import is_lakehouse, table_exists
from bank_assets.warehouse.connection import rollback_if_open

SCHEMA = "_journal"


@dataclass(frozen=True)
class Scope:
    """Rows of one published table a step may replace.

    `predicate` is SQL over the table with literal values (it is stored and replayed by a later
    process). When `id_column` is set, rollback also replaces rows whose id is in the copy (for
    SCD2 dimensions, whose versions are updated in place).
    """

    table: str  # schema.table
    predicate: str
    id_column: str | None = None

    @property
    def key(self) -> str:
        return f"{self.table}|{self.predicate}"


class Saver(Protocol):
    """What a step that replaces published rows is given: journal these scopes (in its transaction)."""

    def __call__(self, *scopes: Scope) -> object: ...


def window_scope(table: str, column: str, start: dt.date, end: dt.date) -> Scope:
    """The rows of a half-open window: `column` in [start, end)."""
    return Scope(table, f"\"{column}\" >= DATE '{start:%Y-%m-%d}' AND \"{column}\" < DATE '{end:%Y-%m-%d}'")


def month_scope(table: str, column: str, month: dt.date) -> Scope:
    """The rows of one month: `column` in [month, next month)."""
    return window_scope(table, column, month, dt.date(month.year + month.month // 12, month.month % 12 + 1, 1))


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.entries (run_id VARCHAR, seq INTEGER, scope_key VARCHAR, "
        "table_name VARCHAR, predicate VARCHAR, id_column VARCHAR, existed BOOLEAN, backup VARCHAR, "
        "step VARCHAR, saved_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.runs (run_id VARCHAR, state VARCHAR, step VARCHAR, "
        "detail VARCHAR, updated_at TIMESTAMP)"
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def save(con: duckdb.DuckDBPyConnection, run_id: str, scopes: Sequence[Scope], step: str) -> int:
    """Copy the rows each of `scopes` covers, once per run (the state before the run is what
    counts). Call inside the transaction that replaces them. Returns how many scopes were copied
    now. A scope holding no rows (a month loaded the first time) gets no copy table: its entry's
    backup is NULL and a rollback only deletes what the run wrote there.

    A handful of statements whatever the number of scopes (a gold build journals ~50): one read of
    the run's entries, one query asking every scope whether it holds rows, one insert of the new
    entries, and a copy only for a scope that holds rows."""
    if not table_exists(con, f"{SCHEMA}.runs"):
        ensure(con)
    seen, last_seq, registered = con.execute(
        f"SELECT coalesce(list(scope_key), []), coalesce(max(seq), 0), "
        f"(SELECT count(*) FROM {SCHEMA}.runs WHERE run_id = ?) FROM {SCHEMA}.entries WHERE run_id = ?",
        [run_id, run_id],
    ).fetchone()
    done = set(seen)
    new = [s for s in {s.key: s for s in scopes}.values() if s.key not in done]
    if not new:
        return 0
    existed = [table_exists(con, s.table) for s in new]
    probes = [f"EXISTS (SELECT 1 FROM {s.table} WHERE {s.predicate})" for s, e in zip(new, existed, strict=True) if e]
    holds_rows = iter(con.execute(f"SELECT {', '.join(probes)}").fetchone() if probes else ())
    now, entries = _now(), []
    for seq, (scope, exists) in enumerate(zip(new, existed, strict=True), start=last_seq + 1):
        backup: str | None = None
        if exists and next(holds_rows):
            backup = f"{SCHEMA}.b_{run_id.replace('-', '')[:12]}_{seq}"
            con.execute(f"CREATE OR REPLACE TABLE {backup} AS SELECT * FROM {scope.table} WHERE {scope.predicate}")
        entries += [run_id, seq, scope.key, scope.table, scope.predicate, scope.id_column, exists, backup, step, now]
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(new))
    con.execute(f"INSERT INTO {SCHEMA}.entries VALUES {values}", entries)
    if not registered:
        con.execute(f"INSERT INTO {SCHEMA}.runs VALUES (?, 'open', ?, NULL, ?)", [run_id, step, now])
    return len(new)


@dataclass(frozen=True)
class Overview:
    """What a step needs to know of the journal before it writes (two small reads)."""

    pending: list[str]  # runs whose copies are still held
    rolled_back: list[str]  # runs marked rolled back
    state: tuple[str, str | None, str | None] | None  # (state, step, detail) of the asking run


def overview(con: duckdb.DuckDBPyConnection, run_id: str | None) -> Overview:
    if not table_exists(con, f"{SCHEMA}.runs"):
        return Overview([], [], None)
    runs = con.execute(f"SELECT run_id, state, step, detail FROM {SCHEMA}.runs ORDER BY run_id").fetchall()
    pending = con.execute(f"SELECT DISTINCT run_id FROM {SCHEMA}.entries ORDER BY run_id").fetchall()
    mine = next((r for r in runs if r[0] == run_id), None)
    return Overview(
        [r[0] for r in pending],
        [r[0] for r in runs if r[1] == "rolled_back"],
        (mine[1], mine[2], mine[3]) if mine else None,
    )


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction, unless the caller already holds one (then its own commit decides)."""
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:
        yield  # inside the caller's transaction
        return
    try:
        yield
        con.execute("COMMIT")
    except Exception:
        rollback_if_open(con)
        raise


def _forget(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute(f"DELETE FROM {SCHEMA}.entries WHERE run_id = ?", [run_id])
    con.execute(f"DELETE FROM {SCHEMA}.runs WHERE run_id = ?", [run_id])


def rollback(con: duckdb.DuckDBPyConnection, run_id: str, step: str | None = None, detail: str | None = None) -> int:
    """Restore every scope the run replaced, newest first, in one transaction; mark the run
    rolled back (its later steps refuse to write). Returns the number of scopes restored."""
    ensure(con)
    entries = con.execute(
        f"SELECT table_name, predicate, id_column, existed, backup FROM {SCHEMA}.entries WHERE run_id = ? "
        "ORDER BY seq DESC",
        [run_id],
    ).fetchall()
    with _transaction(con):
        for table, predicate, id_column, existed, backup in entries:
            if not existed:
                if is_lakehouse():  # other runs may write other months of it meanwhile: remove ours only
                    if table_exists(con, table):
                        con.execute(f"DELETE FROM {table} WHERE {predicate}")
                else:
                    con.execute(f"DROP TABLE IF EXISTS {table}")  # the run created it
                continue
            if backup is None:  # the scope held no rows: remove what the run wrote there
                if table_exists(con, table):
                    con.execute(f"DELETE FROM {table} WHERE {predicate}")
                continue
            if not table_exists(con, table):
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM {backup}")
            else:
                extra = f' OR "{id_column}" IN (SELECT "{id_column}" FROM {backup})' if id_column else ""
                con.execute(f"DELETE FROM {table} WHERE ({predicate}){extra}")
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {backup}")
            con.execute(f"DROP TABLE IF EXISTS {backup}")
        _forget(con, run_id)
        con.execute(f"INSERT INTO {SCHEMA}.runs VALUES (?, 'rolled_back', ?, ?, ?)", [run_id, step, detail, _now()])
    return len(entries)


def commit(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """The run succeeded: drop its copies. Returns the number of scopes it had saved."""
    ensure(con)
    sql = f"SELECT backup FROM {SCHEMA}.entries WHERE run_id = ? AND backup IS NOT NULL"
    backups = [r[0] for r in con.execute(sql, [run_id]).fetchall()]
    n = con.execute(f"SELECT count(*) FROM {SCHEMA}.entries WHERE run_id = ?", [run_id]).fetchone()[0]
    with _transaction(con):
        for b in backups:
            con.execute(f"DROP TABLE IF EXISTS {b}")
        _forget(con, run_id)
    return n


def forget_rolled_back(con: duckdb.DuckDBPyConnection, keep: set[str], rolled_back: list[str]) -> None:
    """Drop the 'rolled_back' markers (`overview(...).rolled_back`) of runs that are over (kept
    for runs still executing steps)."""
    for run_id in rolled_back:
        if run_id not in keep:
            con.execute(f"DELETE FROM {SCHEMA}.runs WHERE run_id = ?", [run_id])
