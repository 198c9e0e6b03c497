"""DuckDB connections that wait politely for the single-writer lock, and a warehouse held open for
the length of a run.

Opening the warehouse file costs ~30 ms (DuckDB reads its catalog) and closing the last connection
~20 ms (a checkpoint); a month's run used to do that ~100 times. While :func:`hold` is active,
:func:`connect` hands out a cursor of the held database instead: a connection of its own (its own
transaction) to the already open database, at no cost. Every connection of this process to the
file, dbt-duckdb's included, shares that one database instance, so they must all open it with the
same DuckDB configuration: none, the memory cap is SET afterwards.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from bank_assets.lakehouse.profile import is_lakehouse, lake_cursor, open_lake
from bank_assets.settings import env


def memory_limit() -> str:
    """DuckDB memory cap (BANK_DUCKDB_MEMORY_LIMIT, default 1GB; dbt's profile reads the same)."""
    return env("BANK_DUCKDB_MEMORY_LIMIT")


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB write lock for longer than we were willing to wait."""


def _is_lock_error(err: Exception) -> bool:
    return "lock" in str(err).lower() and ("conflicting" in str(err).lower() or "could not set" in str(err).lower())


def _holder(err: Exception) -> str:
    m = re.search(r"PID (\d+)", str(err))
    return f"process {m.group(1)}" if m else "another process"


def _open(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open with our memory cap: a cursor of the held database when this process holds it (see
    :func:`hold`), else a new connection. DuckDB shares one database instance between the
    connections of a process to a file only when they are opened with the same configuration, and
    dbt-duckdb opens it with none: so do we, and SET the cap (a setting of the instance).

    On the lakehouse profile the path is not used: the connection attaches the DuckLake catalog,
    or is a cursor of the lake connection this process holds (read-only ones too, as on the file)."""
    if is_lakehouse():
        root = _held_connection(LAKE_KEY)
        return lake_cursor(root) if root is not None else open_lake(memory_limit(), read_only=read_only)
    held = _held_connection(path)
    if held is not None:
        return held.cursor()
    con = duckdb.connect(path, read_only=read_only)
    con.execute(f"SET memory_limit = '{memory_limit()}'")
    if not read_only:
        # DuckDB checkpoints when a commit finds more than 16 MB of WAL: several times a month,
        # each one rewriting every table touched since the last. One checkpoint when the
        # warehouse is released (hold's last exit) does that work once.
        con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    return con


#: WAL size at which a commit checkpoints (DuckDB's default is 16 MB); see :func:`_open`.
CHECKPOINT_THRESHOLD = "512MB"

_HELD: dict[str, tuple[duckdb.DuckDBPyConnection, int]] = {}
_HELD_LOCK = threading.Lock()


#: the key of the held lake connection (lakehouse profile: one catalog per process's settings)
LAKE_KEY = "<lake>"


def _key(path: str) -> str:
    return LAKE_KEY if is_lakehouse() else str(Path(path).resolve())


def _held_connection(path: str) -> duckdb.DuckDBPyConnection | None:
    with _HELD_LOCK:
        entry = _HELD.get(_key(path))
    return entry[0] if entry else None


@contextmanager
def hold(path: str, *, timeout_s: float = 900.0, log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Keep the warehouse open in this process for the duration (a run, or the CLI's range of
    runs): every :func:`connect` inside gets a cursor of it. Re-entrant; the last exit closes the
    database (one checkpoint). On the lakehouse profile the held connection is an attached lake
    (`path` is not used): its cursors skip the ~0.45 s each new connection spends loading extensions
    and attaching the catalog."""
    if not is_lakehouse() and path in ("", ":memory:"):
        yield
        return
    key = _key(path)
    with _HELD_LOCK:
        entry = _HELD.get(key)
        if entry is not None:
            _HELD[key] = (entry[0], entry[1] + 1)
    if entry is None:
        with connect(path, timeout_s=timeout_s, log=log, close=False) as con, _HELD_LOCK:
            if key in _HELD:  # another thread got there first: share its connection
                con.close()
                _HELD[key] = (_HELD[key][0], _HELD[key][1] + 1)
            else:
                _HELD[key] = (con, 1)
    try:
        yield
    finally:
        with _HELD_LOCK:
            con, count = _HELD[key]
            if count > 1:
                _HELD[key] = (con, count - 1)
            else:
                del _HELD[key]
                con.close()


@contextmanager
def connect(
    path: str,
    *,
    read_only: bool = False,
    timeout_s: float = 900.0,
    log: Callable[[str], None] | None = None,
    close: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, retrying with backoff while another process holds the write lock.

    DuckDB allows one writing process per file. Runs are serialized by the `duckdb_warehouse`
    pool; this retry covers anything else (a notebook, a BI tool opened read-write).
    """
    if not read_only and not is_lakehouse():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    warned = False
    while True:
        try:
            con = _open(path, read_only)
            break
        except duckdb.IOException as err:
            if not _is_lock_error(err):
                raise
            if time.monotonic() > deadline:
                raise WarehouseLockedError(
                    f"the warehouse {path} is locked by {_holder(err)} and stayed locked for "
                    f"{timeout_s:.0f}s. DuckDB allows one writer: stop that process (or close the "
                    f"tool that opened the file read-write) and retry."
                ) from err
            if log and not warned:
                log(f"warehouse {path} is locked by {_holder(err)}; waiting for it (up to {timeout_s:.0f}s)")
                warned = True
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    try:
        yield con
    finally:
        if close:
            con.close()


def rollback_if_open(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK the open transaction, if any. A COMMIT that failed (a DuckLake conflict, a
    constraint) has already ended it: then there is nothing to roll back, and the caller's own
    error is the one to report."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def wait_for_warehouse(path: str, timeout_s: float = 900.0, log: Callable[[str], None] | None = None) -> float:
    """Block until the DuckDB file at `path` can be opened for writing (no other process holds its
    lock), up to `timeout_s`; returns the seconds waited. Raises
    :class:`WarehouseLockedError` on timeout.

    Check-then-act: the file is opened and closed again, so another process can take the lock
    between this check and the caller's own connect (dbt's ``retries.connect_attempts`` in
    profiles.yml covers that short race). If this process already has the file open, there is no
    lock to wait for and it returns at once.
    """
    if path in ("", ":memory:") or path.startswith(("md:", "motherduck:")):
        return 0.0
    began = time.monotonic()
    with suppress(duckdb.ConnectionException), connect(path, timeout_s=timeout_s, log=log):
        # ConnectionException: this process has the file open with other settings; not a lock
        pass
    return time.monotonic() - began
