"""The lakehouse's Dagster instance storage: dagster-postgres without a connection per statement.

dagster-postgres builds its engines with ``NullPool`` ("not holding any connections open"), so
every statement of a run worker or the daemon opens a new PostgreSQL connection (TCP,
authentication, a backend process), and the event log checks that a table exists on every asset
event. Profiled in a lakehouse gold run, opening connections took about 30 % of the run's time.

``PooledPostgresStorage`` is dagster-postgres' own three storages (runs, event logs, schedules),
each switched by its public ``optimize_for_webserver`` (what ``dagster-webserver`` calls on its
instance) to an engine that holds one connection, and an event log that remembers which tables
exist. Statements, transactions and isolation are unchanged: what is stored, and when other
processes see it, is as before. A process holds up to three idle connections (runs, events,
schedules); connections beyond those, when a process's threads write at the same moment, are
closed when returned. ``tests/test_library_seams.py`` pins what it relies on. In ``dagster.yaml``
(``deploy/lakehouse/dagster.yaml``)::

    storage:
      custom:
        module: bank_assets.lakehouse.postgres_storage
        class: PooledPostgresStorage
        config:
          postgres_db: {hostname: ..., port: ..., username: ..., password: ..., db_name: ...}
"""

from __future__ import annotations

from typing import Any

from dagster._config.config_schema import UserConfigSchema
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

#: seconds before the held connection is replaced by a new one
POOL_RECYCLE_S = 3600
#: connections beyond the held one, for threads that use a storage at the same moment
MAX_OVERFLOW = 8


class TableCachingPostgresEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres' event log remembering which tables exist."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._tables: set[str] = set()
        super().__init__(*args, **kwargs)

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables:
            return True  # tables are added by migrations, never dropped while the process runs
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    def upgrade(self) -> None:
        self._tables.clear()
        super().upgrade()


class PooledPostgresStorage(DagsterStorage, ConfigurableClass):
    """dagster-postgres' run, event log and schedule storages, each holding one connection."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ) -> None:
        self.postgres_url = postgres_url
        self._inst_data = inst_data
        args = (postgres_url, should_autocreate_tables)
        self._run_storage = PostgresRunStorage(*args, token_provider=token_provider)
        self._event_log_storage = TableCachingPostgresEventLogStorage(*args, token_provider=token_provider)
        self._schedule_storage = PostgresScheduleStorage(*args, token_provider=token_provider)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            # statement_timeout 0: none, as before (the webserver sets its own when it calls this)
            storage.optimize_for_webserver(statement_timeout=0, pool_recycle=POOL_RECYCLE_S, max_overflow=MAX_OVERFLOW)
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        return pg_config()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any) -> PooledPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )

    @property
    def event_log_storage(self) -> PostgresEventLogStorage:
        return self._event_log_storage

    @property
    def run_storage(self) -> PostgresRunStorage:
        return self._run_storage

    @property
    def schedule_storage(self) -> PostgresScheduleStorage:
        return self._schedule_storage
