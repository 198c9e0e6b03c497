"""A second writer waits for DuckDB's file lock instead of failing, and says who holds it."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bank_assets.warehouse.connection import WarehouseLockedError, connect, hold

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS t (x INT)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_waits_for_the_lock_then_writes(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold_lock(path, 1.5)
    messages: list[str] = []
    started = time.monotonic()
    with connect(str(path), timeout_s=60, log=messages.append) as con:
        con.execute("INSERT INTO t VALUES (1)")
    assert time.monotonic() - started > 0.5
    assert messages and "locked by process" in messages[0]
    holder.wait()


def test_gives_up_with_a_clear_message(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold_lock(path, 10)
    try:
        with pytest.raises(WarehouseLockedError, match="locked by process") as err, connect(str(path), timeout_s=0.5):
            pass
        assert str(path) in str(err.value)
    finally:
        holder.kill()


CAN_WRITE = """
import duckdb, sys
duckdb.connect(sys.argv[1]).execute("CREATE TABLE IF NOT EXISTS other (x INT)")
"""


def _another_process_can_write(path) -> bool:
    return subprocess.run([sys.executable, "-c", CAN_WRITE, str(path)], capture_output=True).returncode == 0


def test_a_held_warehouse_hands_out_cursors_of_one_open_database(tmp_path):
    path = tmp_path / "w.duckdb"
    with hold(str(path)):
        with hold(str(path)):  # re-entrant: a run inside the CLI's range
            with connect(str(path)) as a:
                a.execute("CREATE TABLE t AS SELECT 1 AS x")
            with connect(str(path), read_only=True) as b, connect(str(path)) as c:
                c.execute("BEGIN TRANSACTION")
                c.execute("INSERT INTO t VALUES (2)")
                assert b.execute("SELECT count(*) FROM t").fetchone() == (1,)  # own transaction each
                c.execute("COMMIT")
                assert b.execute("SELECT count(*) FROM t").fetchone() == (2,)
        assert not _another_process_can_write(path)  # still held by the outer hold
    assert _another_process_can_write(path)  # the last exit closed the database
    with connect(str(path), read_only=True) as d:
        assert d.execute("SELECT count(*) FROM t").fetchone() == (2,)
