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
already) when its instance is created. Dagster then batches the "planned" events it stores when a
run of this graph is created (one per asset and month), and the per-partition materializations of
a range run (one per month of each asset).

Inside a batch, an asset's summary row (``asset_keys``: its last materialization, last run id and
timestamp) is written once per asset and event type, from the batch's last such event: each event
of a type writes the same columns, so the earlier ones would be overwritten within the same
transaction. Every event is still stored, with its tags and index row; only the summary row's
intermediate values are skipped (one of a range run's per-month materializations writes it instead
of all of them).

It overrides four private methods of the library (``_connect``, ``has_table``,
``_store_asset_event``, ``_has_asset_key_index_cols_on_connection``), as no public setting reaches
them. ``tests/test_library_seams.py`` pins their signatures and the bodies this
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

from dagster._core.events import ASSET_EVENTS
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


def superseded_asset_events(events: Sequence[Any]) -> set[int]:
    """Positions of the batch's asset events followed, later in the batch, by an event of the same
    asset and type: their summary-row update would be overwritten by that later event's."""
    seen: set[tuple[str, str]] = set()
    out: set[int] = set()
    for i in range(len(events) - 1, -1, -1):
        de = getattr(events[i], "dagster_event", None)  # store_event refuses what is not an event
        if de is None or de.event_type not in ASSET_EVENTS or de.asset_key is None:
            continue
        key = (de.asset_key.to_string(), de.event_type_value)
        if key in seen:
            out.add(i)
        seen.add(key)
    return out


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
        self._asset_key_index_cols = False
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
            superseded = superseded_asset_events(events)
            try:
                for i, e in enumerate(events):
                    self._batch.skip_summary = i in superseded
                    self.store_event(e)
                for conn in conns.values():
                    conn.commit()
            except BaseException:
                for conn in conns.values():
                    conn.rollback()
                raise
            finally:
                self._batch.conns = None
                self._batch.skip_summary = False
                for conn in conns.values():
                    conn.close()

    def _store_asset_event(self, conn: Connection, event: Any, event_id: int) -> None:
        """The asset's summary row, unless a later event of the batch rewrites the same columns."""
        if getattr(self._batch, "skip_summary", False):
            return
        super()._store_asset_event(conn, event, event_id)

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        """Dagster reflects the asset_keys table's columns for every asset event; a migration adds
        the column and nothing drops it, so once present it is remembered."""
        if not self._asset_key_index_cols:
            self._asset_key_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return self._asset_key_index_cols

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
        self._asset_key_index_cols = False
        super().upgrade()

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        if self._opened:
            super().dispose()
