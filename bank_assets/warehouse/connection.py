"""DuckDB connections that wait politely for the single-writer lock."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from bank_assets.lakehouse.profile import is_lakehouse, open_lake
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
    """Open with our memory cap. When this process already holds the database open under another
    configuration (dbt-duckdb's connection of an in-process dbt run may outlive the run), DuckDB
    refuses a new configuration: share that instance and set the cap on it instead.

    On the lakehouse profile the path is not used: the connection attaches the DuckLake catalog."""
    if is_lakehouse():
        return open_lake(memory_limit(), read_only=read_only)
    try:
        return duckdb.connect(path, read_only=read_only, config={"memory_limit": memory_limit()})
    except duckdb.ConnectionException as err:
        if "different configuration" not in str(err):
            raise
        con = duckdb.connect(path, read_only=read_only)
        con.execute(f"SET memory_limit = '{memory_limit()}'")
        return con


@contextmanager
def connect(
    path: str, *, read_only: bool = False, timeout_s: float = 900.0, log: Callable[[str], None] | None = None
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
        con.close()


def rollback_if_open(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK the open transaction, if any. A COMMIT that failed (a DuckLake conflict, a
    constraint) has already ended it: then there is nothing to roll back, and the caller's own
    error is the one to report."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")
