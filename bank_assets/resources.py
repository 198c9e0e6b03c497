"""Dagster resources: the DuckDB warehouse and the landing zone, configured from the environment."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
from dagster import ConfigurableResource, EnvVar, InitResourceContext
from dagster._core.definitions.partitions.utils import TimeWindow
from dagster._core.storage.db_io_manager import DbIOManager, TablePartitionDimension, TableSlice
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_pandas import DuckDBPandasIOManager, DuckDBPandasTypeHandler

from bank_assets.lakehouse.profile import is_lakehouse, lake_identity
from bank_assets.settings import DEFAULTS, resolve
from bank_assets.synthetic.params import DefectRates, GeneratorConfig, Scale
from bank_assets.warehouse.connection import connect, hold, rollback_if_open


def env_or_default(name: str) -> str | EnvVar:
    """EnvVar when the variable is set (shown as such in the UI), else the documented default."""
    return EnvVar(name) if os.environ.get(name) else DEFAULTS[name]


class Warehouse(ConfigurableResource):
    """The DuckDB file every bronze/silver/gold asset writes (one writer at a time).

    A run holds it open from its first step to its last (bank_assets.warehouse.connection.hold):
    each step's connections, the IO managers' and dbt's are then cursors of one open database,
    instead of ~100 opens and checkpoints a month. Not with BANK_DBT_SUBPROCESS=1: dbt's own
    process then needs the file's write lock."""

    path: str
    lock_timeout_s: float = 900.0

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Warehouse]:
        if os.environ.get("BANK_DBT_SUBPROCESS") == "1":
            yield self  # dbt's own process must be able to open the file: nothing is held
            return
        log = context.log.warning if context.log else None
        with hold(self.resolved_path, timeout_s=self.lock_timeout_s, log=log):
            yield self

    @property
    def resolved_path(self) -> str:
        return resolve(self.path)

    @property
    def identity(self) -> str:
        """What this warehouse is: the DuckDB file, or the DuckLake catalog on the lakehouse profile."""
        return lake_identity() if is_lakehouse() else self.resolved_path

    @contextmanager
    def connect(
        self, log: Callable[[str], None] | None = None, read_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.resolved_path, read_only=read_only, timeout_s=self.lock_timeout_s, log=log) as con:
            yield con


class LandingZone(ConfigurableResource):
    """Where landing files live, and whether the synthetic generator writes them.

    mode "generate" (default): landing assets run the generator with seed/scale/defect settings.
    mode "files": landing assets only verify and describe the files you dropped there.
    """

    root: str
    mode: str = "generate"
    seed: int = 42
    scale: str = "small"
    customers: int = 0  # explicit customer count (0 = the scale's)
    defect_scale: float = 1.0  # multiplies every defect rate; 0 = clean files

    @property
    def resolved_root(self) -> str:
        return resolve(self.root)

    def generator_config(self) -> GeneratorConfig:
        scale = Scale.named(self.scale)
        if self.customers:
            scale = Scale(
                customers=self.customers, merchants=scale.merchants, purchases_per_customer=scale.purchases_per_customer
            )
        return GeneratorConfig(seed=self.seed, scale=scale, defects=DefectRates().scaled(self.defect_scale))


def default_resources() -> dict[str, object]:
    return {
        "warehouse": Warehouse(path=env_or_default("BANK_WAREHOUSE")),
        "landing": LandingZone(
            root=env_or_default("BANK_LANDING_DIR"),
            mode=env_or_default("BANK_LANDING_MODE"),
            seed=int(os.environ.get("BANK_SEED", "42")),
            scale=os.environ.get("BANK_SCALE", "small"),
            defect_scale=float(os.environ.get("BANK_DEFECT_SCALE", "1.0")),
        ),
        **report_resources(env_or_default("BANK_WAREHOUSE"), env_or_default("BANK_REPORTS_DIR")),
    }


class ReportsDir(ConfigurableResource):
    """Where the reports group writes: ``dashboard/<YYYY-MM>.html`` and ``exports/`` (Parquet)."""

    root: str

    @property
    def resolved_root(self) -> str:
        return resolve(self.root)


class ReadOnlyDuckDbClient(DuckDbClient):
    """dagster-duckdb's client, opening the warehouse read-only (it opens it read-write).

    A read-only open takes no write lock and can write nothing; it waits like our own
    connections while a writer (another process) holds the file.
    """

    @staticmethod
    @contextmanager
    def connect(context, table_slice: TableSlice) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(str(table_slice.database), read_only=True) as con:
            yield con

    @staticmethod
    def delete_table_slice(context, table_slice: TableSlice, connection) -> None:
        raise NotImplementedError("GoldTableReader is read-only: gold is written by dbt")

    @staticmethod
    def ensure_schema_exists(context, table_slice: TableSlice, connection) -> None:
        raise NotImplementedError("GoldTableReader is read-only: gold is written by dbt")


class OrderedPandasTypeHandler(DuckDBPandasTypeHandler):
    """dagster-duckdb-pandas' handler, loading a table's rows in one fixed order (``ORDER BY ALL``).

    A table's stored row order is not part of its content: it depends on how dbt built it (one
    month or a run of months at a time, two threads). Sums and means of floats, k-means starts and
    tie-breaks in the analytics depend on the order rows arrive in, so without this the same
    months could give analytics that differ in the last digits, or clusters that differ."""

    def load_input(self, context, table_slice: TableSlice, connection) -> pd.DataFrame:
        if table_slice.partition_dimensions and len(context.asset_partition_keys) == 0:
            return pd.DataFrame()
        return connection.execute(f"{DuckDbClient.get_select_statement(table_slice)}\nORDER BY ALL").fetchdf()


class _GoldDbIOManager(DbIOManager):
    """DbIOManager that widens a monthly slice to every month up to the run's last one."""

    def __init__(self, *, history: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self._history = history

    def handle_output(self, context, obj) -> None:
        raise NotImplementedError("GoldTableReader is read-only: gold is written by dbt")

    def _get_table_slice(self, context, output_context) -> TableSlice:
        table_slice = super()._get_table_slice(context, output_context)
        if not self._history or not table_slice.partition_dimensions:
            return table_slice
        dims = [
            TablePartitionDimension(d.partition_expr, TimeWindow(HISTORY_START, d.partitions.end))
            if isinstance(d.partitions, TimeWindow)
            else d
            for d in table_slice.partition_dimensions
        ]
        return table_slice._replace(partition_dimensions=dims)


#: Before any month of the bank: a history slice starts here (no gold row is older).
HISTORY_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class GoldTableReader(DuckDBPandasIOManager):
    """dagster-duckdb-pandas' IO manager, used as an input manager for gold tables, read-only.

    Gold tables are written by dbt; Python assets downstream of them (the reports group) load
    them as pandas DataFrames through this manager: the schema is the asset key's prefix
    (``gold``), the table its name, and a partitioned input is filtered on the ``partition_expr``
    metadata of the gold asset (the model's ``meta.partition_column``) to the run's months,
    ``>= first day and < first day after``, rows in a fixed order. With ``history=True`` the filter keeps every month up
    to the run's last one (trend charts need the months before the one being reported).
    """

    history: bool = False

    @staticmethod
    def type_handlers() -> list[DuckDBPandasTypeHandler]:
        return [OrderedPandasTypeHandler()]

    def create_io_manager(self, context) -> DbIOManager:  # type: ignore[override]
        return _GoldDbIOManager(
            history=self.history,
            db_client=ReadOnlyDuckDbClient(),
            database=resolve(self.database),
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="GoldTableReader",
        )


def report_resources(warehouse_path: str | EnvVar, reports_root: str | EnvVar) -> dict[str, object]:
    """The reports group's resources: gold readers (month and history) and its output folder."""
    return {
        "gold_reader": GoldTableReader(database=warehouse_path),
        "gold_history_reader": GoldTableReader(database=warehouse_path, history=True),
        "reports": ReportsDir(root=reports_root),
        "analytics_writer": AnalyticsTableWriter(database=warehouse_path),
    }


class TransactionalDuckDbClient(DuckDbClient):
    """dagster-duckdb's client for the analytics tables: a partition's delete and insert commit in
    one transaction, so a failed or killed write leaves the table as it was. Analytics are
    consumers of gold and sit outside the run journal (bank_assets.warehouse.journal): once a
    month's bank data is published, nothing they do rolls it back."""

    @staticmethod
    @contextmanager
    def connect(context, table_slice: TableSlice) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(str(table_slice.database)) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                rollback_if_open(con)
                raise


class AnalyticsPandasTypeHandler(OrderedPandasTypeHandler):
    """dagster-duckdb-pandas' handler (it loads inputs in a fixed order), writing outputs so that:

    * a month with no rows still creates the table (readers find an empty month, not a missing table);
    * columns are matched by name, not position;
    * the row count recorded is the partition's only when the run has one partition (a range run
      records each month's rows on its own partition, bank_assets.assets.analytics).
    """

    def handle_output(self, context, table_slice: TableSlice, obj: pd.DataFrame, connection) -> None:
        table = f"{table_slice.schema}.{table_slice.table}"
        connection.register("_analytics_output", obj)
        try:
            connection.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _analytics_output LIMIT 0")
            connection.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _analytics_output")
        finally:
            connection.unregister("_analytics_output")
        if context.has_partition_key:
            context.add_output_metadata({"dagster/partition_row_count": len(obj)})


class AnalyticsTableWriter(DuckDBPandasIOManager):
    """dagster-duckdb-pandas' IO manager for the analytics group: each asset's DataFrame is the
    table ``analytics.<name>``, a month replaced by deleting its ``partition_expr`` window first, in
    one transaction with the insert (TransactionalDuckDbClient)."""

    def create_io_manager(self, context) -> DbIOManager:  # type: ignore[override]
        return DbIOManager(
            db_client=TransactionalDuckDbClient(),
            database=resolve(self.database),
            schema=self.schema_,
            type_handlers=[AnalyticsPandasTypeHandler()],
            default_load_type=pd.DataFrame,
            io_manager_name="AnalyticsTableWriter",
        )
