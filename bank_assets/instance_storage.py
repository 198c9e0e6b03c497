"""Dagster's SQLite event log, without building a database engine for every event it stores.

Dagster 1.13's ``SqliteEventLogStorage._connect`` creates a SQLAlchemy engine (NullPool), a
connection and a transaction for every write and disposes of the engine afterwards, and
``has_table`` builds one more engine per asset-check event: about 4,000 engine cycles for one
month of this graph, most of the bookkeeping time of a run. This subclass keeps one engine per
shard (per process: a forked or spawned process builds its own) and remembers which tables the
index shard has. Each write still runs in its own transaction, under the same lock, so what is
stored, and when it is visible to other processes, is unchanged.

Its connections also set ``PRAGMA synchronous=NORMAL``: the shards are in WAL mode (Dagster sets
it), where NORMAL stays consistent after a crash and skips an fsync per commit; a power cut may
lose the last few events, not corrupt the file (https://www.sqlite.org/pragma.html#pragma_synchronous).

Batches are written in one transaction per shard (``store_event_batch``; Dagster's default writes
them one event, one transaction at a time). Dagster hands a storage batches only when the
environment variable ``DAGSTER_EVENT_BATCH_SIZE`` is set: this storage sets it (unless it is set
already) when its instance is created. Dagster then batches the ~200 "planned" events it stores
when a run of this graph is created, and the per-partition materializations of a range run.

It overrides two private methods of the library (``_connect``, ``has_table``), as no public
setting reaches them. ``tests/test_library_seams.py`` pins their signatures and the bodies this
replaces, and fails loudly when Dagster changes them. Select it in ``dagster.yaml``::

    event_log_storage:
      module: bank_assets.instance_storage
      class: PooledSqliteEventLogStorage
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

#: engines kept per storage; run shards beyond this are disposed oldest first
MAX_ENGINES = 16
#: DAGSTER_EVENT_BATCH_SIZE when unset: larger than the planned events of one run of this graph
EVENT_BATCH_SIZE = "1000"


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one engine per shard and a cached table check."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, Engine] = {}
        self._batch = threading.local()  # .conns: shard -> connection of the batch being written
        self._engine_pid = os.getpid()
        self._tables: set[str] = set()
        self._inst_data = inst_data
        self._opened = False
        if base_dir is not None:
            self._open(base_dir)

    def _open(self, base_dir: str) -> None:
        super().__init__(base_dir, inst_data=self._inst_data)
        self._opened = True

    def register_instance(self, instance: Any) -> None:
        """Without a configured base_dir, the event log lives where Dagster's default puts it, in
        the instance's own folder: <instance root>/history/runs (known only once the instance is)."""
        if not self._opened:
            self._open(os.path.join(instance.root_directory, "history", "runs", ""))
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
        super().register_instance(instance)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        from dagster import Field, StringSource

        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        if self._engine_pid != os.getpid():  # a forked child must not share its parent's connections
            self._engines, self._engine_pid = {}, os.getpid()
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _synchronous_normal)
            if len(self._engines) >= MAX_ENGINES:
                oldest = next(k for k in self._engines if k != INDEX_SHARD_NAME)
                self._engines.pop(oldest).dispose()
            self._engines[shard] = engine
        return engine

    def _ready_engine(self, shard: str) -> Engine:
        engine = self._engine(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        batch: dict[str, Connection] | None = getattr(self._batch, "conns", None)
        if batch is not None:  # inside store_event_batch, which holds the lock: its shard's transaction
            if shard not in batch:
                conn = self._ready_engine(shard).connect()
                conn.begin()
                batch[shard] = conn
            yield batch[shard]
            return
        with self._db_lock, self._ready_engine(shard).connect() as conn, conn.begin():
            yield conn

    def store_event_batch(self, events: Sequence[Any]) -> None:
        """Store the events in one transaction per shard they touch: all of them or none (Dagster
        then retries them one by one)."""
        if len(events) < 2:
            for e in events:
                self.store_event(e)
            return
        with self._db_lock:
            conns: dict[str, Connection] = {}
            self._batch.conns = conns
            try:
                for e in events:
                    self.store_event(e)
                for conn in conns.values():
                    conn.commit()
            except BaseException:
                for conn in conns.values():
                    conn.rollback()
                raise
            finally:
                self._batch.conns = None
                for conn in conns.values():
                    conn.close()

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables:
            return True  # tables are added by migrations, never dropped while the process runs
        engine = create_engine(
            self.conn_string_for_shard(INDEX_SHARD_NAME),
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        try:
            with engine.connect() as conn:
                found = bool(engine.dialect.has_table(conn, table_name))
        finally:
            engine.dispose()
        if found:
            self._tables.add(table_name)
        return found

    def upgrade(self) -> None:
        self.dispose()
        self._tables.clear()
        super().upgrade()

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        if self._opened:
            super().dispose()
