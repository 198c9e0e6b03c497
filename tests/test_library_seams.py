"""The library internals the project relies on, each pinned so that a change fails loudly here.

* dagster-dbt has no public hook for how a dbt invocation is started, so
  bank_assets/assets/dbt_inprocess.py patches one module global and overrides two private members
  (see that module's docstring). When dagster-dbt changes underneath, these tests say what moved,
  instead of gold silently falling back to (or breaking) a subprocess per invocation.
* dbt_models/macros/lean_materializations.sql replaces dbt-duckdb's incremental and dbt's view
  materializations on their common path and hands every other case back to them by name: pinned
  below (dbt must pick the root project's materialization first, and the names must exist).
* bank_assets/instance_storage.py keeps one engine per shard in Dagster's SQLite event log;
  bank_assets/lakehouse/postgres_storage.py holds a connection in dagster-postgres' storages.
* bank_assets/resources.py widens the slice dagster-duckdb's IO manager reads to every month up
  to the run's last (the analytics' history): it overrides DbIOManager._get_table_slice.
* devtools/quick_daemon.py (the test suite's and the demos' daemon) sets the backfill daemon's loop
  interval, a module constant of dagster._daemon.controller.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import dagster_dbt
import pytest
from dagster_dbt import DbtCliInvocation, DbtCliResource
from dagster_dbt.core import resource as resource_module

from bank_assets.assets import dbt_inprocess
from bank_assets.assets.dbt_project import dbt_resource

REPO = Path(__file__).resolve().parents[1]
SEAM = "dagster-dbt changed underneath bank_assets/assets/dbt_inprocess.py"


def test_cli_starts_dbt_through_the_module_global_we_replace():
    assert getattr(resource_module, "DbtCliInvocation", None) is DbtCliInvocation, (
        f"{SEAM}: dagster_dbt.core.resource no longer imports DbtCliInvocation as a module global"
    )
    source = inspect.getsource(DbtCliResource.cli)
    assert "DbtCliInvocation.run(" in source, f"{SEAM}: DbtCliResource.cli no longer calls DbtCliInvocation.run"


def test_invocation_run_keeps_the_arguments_our_subclass_forwards():
    params = list(inspect.signature(DbtCliInvocation.run).parameters)
    assert params == [
        "args",
        "env",
        "manifest",
        "dagster_dbt_translator",
        "project_dir",
        "target_path",
        "raise_on_error",
        "context",
        "adapter",
        "cli_version",
        "dbt_project",
    ], f"{SEAM}: DbtCliInvocation.run signature is now {params}"
    assert "subprocess.Popen(" in inspect.getsource(DbtCliInvocation.run), (
        f"{SEAM}: DbtCliInvocation.run no longer starts a subprocess.Popen (our stand-in replaces it)"
    )
    fields = set(inspect.signature(DbtCliInvocation).parameters)
    assert {"process", "manifest", "project_dir", "target_path", "raise_on_error", "context", "adapter"} <= fields, (
        f"{SEAM}: DbtCliInvocation's constructor fields are now {sorted(fields)}"
    )
    assert "project" in fields and "dbt_project" not in fields, (
        f"{SEAM}: DbtCliInvocation.run renames dbt_project to project; its fields are now {sorted(fields)}"
    )


def test_the_private_members_we_override_still_exist():
    assert "_cli_version" in vars(DbtCliResource), f"{SEAM}: DbtCliResource._cli_version is gone"
    assert "self._cli_version" in inspect.getsource(DbtCliResource.cli), f"{SEAM}: cli no longer reads _cli_version"
    init = getattr(DbtCliResource, "_initialize_dbt_core_adapter", None)
    assert init is not None, f"{SEAM}: DbtCliResource._initialize_dbt_core_adapter is gone"
    assert list(inspect.signature(init).parameters) == ["self", "args"], (
        f"{SEAM}: _initialize_dbt_core_adapter signature is now {inspect.signature(init)}"
    )


def test_the_project_resource_uses_the_in_process_invocation_and_restores_the_global():
    resource = dbt_resource()
    assert isinstance(resource, dbt_inprocess.InProcessDbtCliResource)
    assert issubclass(dbt_inprocess.IN_PROCESS_INVOCATION, DbtCliInvocation)
    version = resource._cli_version
    assert version.major >= 1, version
    # the patch is scoped to one cli() call: afterwards dagster-dbt's own class is back
    assert resource_module.DbtCliInvocation is DbtCliInvocation
    assert dagster_dbt.DbtCliInvocation is DbtCliInvocation


LEAN_SEAM = "dbt changed underneath dbt_models/macros/lean_materializations.sql"


def test_the_root_projects_materializations_are_found_before_the_adapters():
    """dbt picks the root project's materialization for an adapter before the adapter's own, and
    the adapter's (called by name for the cases the lean ones hand back) still exist."""
    from dbt.adapters.factory import FACTORY, get_adapter_package_names
    from dbt.contracts.graph.manifest import Manifest, WritableManifest

    FACTORY.load_plugin("duckdb")
    written = WritableManifest.read_and_check_versions(str(REPO / "dbt_models/target/manifest.json"))
    manifest = Manifest.from_writable_manifest(written)
    for name in ("incremental", "view"):
        macro = manifest.find_materialization_macro_by_name("bank_lakehouse", name, "duckdb")
        assert macro is not None and macro.package_name == "bank_lakehouse", (
            f"{LEAN_SEAM}: dbt now picks {macro and macro.package_name}'s '{name}' materialization"
        )
    names = {m.name for m in manifest.macros.values() if m.package_name in get_adapter_package_names("duckdb")}
    for fallback in ("materialization_incremental_duckdb", "materialization_view_default"):
        assert fallback in names, f"{LEAN_SEAM}: the adapter's {fallback} is gone"


def test_the_adapter_still_tells_ducklake_relations_apart():
    """The lean materialization (a first build on DuckLake goes to the adapter) and the lake
    partitioning macro both ask dbt-duckdb's `adapter.is_ducklake(relation)` in Jinja."""
    from dbt.adapters.duckdb.impl import DuckDBAdapter

    assert "is_ducklake" in DuckDBAdapter._available_, (
        f"{LEAN_SEAM} and lake_partitioning.sql: dbt-duckdb no longer exposes is_ducklake to Jinja"
    )
    assert list(inspect.signature(DuckDBAdapter.is_ducklake).parameters) == ["self", "relation"], LEAN_SEAM


DBT_DUCKDB_MACROS = Path(__import__("dbt.include.duckdb", fromlist=["x"]).__path__[0]) / "macros"
LAKE_SEAM = "dbt-duckdb changed underneath dbt_models/macros/lake_partitioning.sql"


def test_materializations_ask_the_overridable_partitioning_macro():
    """Gold's DuckLake partitioning (the lakehouse profile) overrides duckdb__get_partitioned_by in
    the root project: it works only while dbt-duckdb's table and incremental materializations call
    that macro by its bare name and hand its result to create_table_as."""
    for name in ("table.sql", "incremental.sql"):
        text = (DBT_DUCKDB_MACROS / "materializations" / name).read_text()
        assert "duckdb__get_partitioned_by(target_relation, false)" in text, (
            f"{LAKE_SEAM}: materializations/{name} no longer calls duckdb__get_partitioned_by"
        )
        assert "partitioned_by=partitioned_by" in text, f"{LAKE_SEAM}: {name} no longer passes partitioned_by on"
    adapters = (DBT_DUCKDB_MACROS / "adapters.sql").read_text()
    assert re.search(r"macro duckdb__get_partitioned_by\(relation, temporary\)", adapters), (
        f"{LAKE_SEAM}: duckdb__get_partitioned_by(relation, temporary) is gone from adapters.sql"
    )
    assert "set partitioned by" in adapters, f"{LAKE_SEAM}: no more ALTER TABLE ... SET PARTITIONED BY in adapters.sql"


# ---- Dagster's SQLite event log (bank_assets/instance_storage.py) ------------------------------

EVENT_LOG_SEAM = "dagster changed underneath bank_assets/instance_storage.py"


def test_sqlite_event_log_still_builds_an_engine_per_write_in_the_methods_we_override():
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    connect = inspect.getsource(SqliteEventLogStorage._connect)
    for piece in ("self._db_lock", "create_engine(", "self._initdb(engine)", "self._initialized_dbs", "dispose()"):
        assert piece in connect, f"{EVENT_LOG_SEAM}: SqliteEventLogStorage._connect no longer has {piece!r}"
    assert list(inspect.signature(SqliteEventLogStorage._connect).parameters) == ["self", "shard"], EVENT_LOG_SEAM
    assert "create_engine(" in inspect.getsource(SqliteEventLogStorage.has_table), EVENT_LOG_SEAM
    init = list(inspect.signature(SqliteEventLogStorage.__init__).parameters)
    assert init == ["self", "base_dir", "inst_data"], f"{EVENT_LOG_SEAM}: __init__ takes {init}"
    # our storage learns its folder from the instance: registration must follow the local artifact storage
    from dagster import DagsterInstance

    body = inspect.getsource(DagsterInstance.__init__)
    assert body.index("self._local_artifact_storage =") < body.index("self._event_storage.register_instance(self)"), (
        f"{EVENT_LOG_SEAM}: DagsterInstance registers the event log before it knows its root directory"
    )
    for name in ("run_connection", "index_connection", "conn_string_for_shard", "_initdb", "dispose", "upgrade"):
        assert callable(getattr(SqliteEventLogStorage, name, None)), f"{EVENT_LOG_SEAM}: {name} is gone"


def test_pooled_event_log_stores_what_dagster_stores_and_keeps_its_engines(tmp_path, monkeypatch):
    """A run with checks through an instance configured like dagster_home/dagster.yaml: every
    event is stored and read back, the check results too, with one engine per shard."""
    from dagster import DagsterInstance, materialize

    from bank_assets.instance_storage import PooledSqliteEventLogStorage
    from tests.pipeline import assert_runs_stored, asset_with_check

    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # from_config(folder) must not depend on it
    (tmp_path / "dagster.yaml").write_text(
        "event_log_storage:\n  module: bank_assets.instance_storage\n  class: PooledSqliteEventLogStorage\n"
        "telemetry:\n  enabled: false\n"
    )

    numbers, positive = asset_with_check()
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        results = [materialize([numbers, positive], instance=instance) for _ in range(3)]
        assert all(r.success for r in results)
        assert_runs_stored(instance, results)
        assert (tmp_path / "history" / "runs" / "index.db").exists()  # where the default storage keeps it
        assert set(storage._engines) <= {"index", *(r.run_id for r in results)}
        records = instance.event_log_storage.get_asset_check_execution_history(positive.check_key, limit=10)
        assert len(records) == 3 and all(rec.status.value == "SUCCEEDED" for rec in records)


PG_SEAM = "dagster-postgres changed underneath bank_assets/lakehouse/postgres_storage.py"


def test_postgres_storages_still_connect_per_statement_and_can_hold_a_connection():
    """dagster-postgres builds NullPool engines (what PooledPostgresStorage undoes), each storage
    still offers optimize_for_webserver with the arguments it passes, and the event log's table
    check and the composite's constructor are as PooledPostgresStorage mirrors them."""
    pytest.importorskip("dagster_postgres")
    from dagster_postgres import (
        DagsterPostgresStorage,
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    from bank_assets.lakehouse.postgres_storage import PooledPostgresStorage

    for cls in (PostgresRunStorage, PostgresEventLogStorage, PostgresScheduleStorage):
        assert "NullPool" in inspect.getsource(cls.__init__), f"{PG_SEAM}: {cls.__name__} no longer uses NullPool"
        params = list(inspect.signature(cls.optimize_for_webserver).parameters)
        assert params == ["self", "statement_timeout", "pool_recycle", "max_overflow"], f"{PG_SEAM}: {params}"
        assert "pool_size" in inspect.getsource(cls.optimize_for_webserver), PG_SEAM
        init = list(inspect.signature(cls.__init__).parameters)[:3]
        assert init == ["self", "postgres_url", "should_autocreate_tables"], f"{PG_SEAM}: {cls.__name__}({init})"
    assert list(inspect.signature(PostgresEventLogStorage.has_table).parameters) == ["self", "table_name"], PG_SEAM
    ours = list(inspect.signature(PooledPostgresStorage.__init__).parameters)
    assert ours == list(inspect.signature(DagsterPostgresStorage.__init__).parameters), PG_SEAM


def test_batches_reach_the_storage_only_with_the_variable_and_share_an_open_transaction():
    """store_event_batch keeps one transaction per shard open across store_event: Dagster's writes
    inside must accept a connection already in a transaction, and batching is the variable's."""
    from dagster._core.instance.methods.event_methods import EventMethods
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    assert "conn.in_transaction()" in inspect.getsource(SqlEventLogStorage.index_transaction), EVENT_LOG_SEAM
    handle = inspect.getsource(EventMethods.handle_new_event)
    assert "store_event_batch(events)" in handle and "_is_batch_writing_enabled" in handle, EVENT_LOG_SEAM
    assert "DAGSTER_EVENT_BATCH_SIZE" in inspect.getsource(EventMethods._get_event_batch_size), EVENT_LOG_SEAM


def test_a_batch_is_stored_whole_or_not_at_all(tmp_path, monkeypatch):
    """A range run's planned events arrive as one batch and are all stored; a batch that fails
    midway leaves nothing of itself behind (Dagster then stores its events one by one)."""
    from dagster import (
        AssetCheckResult,
        DagsterInstance,
        MonthlyPartitionsDefinition,
        asset,
        asset_check,
        materialize,
    )

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    (tmp_path / "dagster.yaml").write_text(
        "event_log_storage:\n  module: bank_assets.instance_storage\n  class: PooledSqliteEventLogStorage\n"
        "telemetry:\n  enabled: false\n"
    )
    months = MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")

    @asset(partitions_def=months)
    def monthly(context):
        return len(context.partition_key)

    @asset_check(asset=monthly)
    def fine():
        return AssetCheckResult(passed=True)

    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == "1000"  # set by the storage, for this process
        storage = instance.event_log_storage
        batches: list[int] = []
        original = storage.store_event_batch

        def counting(events):
            batches.append(len(events))
            return original(events)

        monkeypatch.setattr(storage, "store_event_batch", counting)
        result = materialize([monthly, fine], instance=instance, partition_key="2024-02-01")
        assert result.success and batches and max(batches) >= 2
        stored = [e.dagster_event.event_type_value for e in instance.all_logs(result.run_id) if e.is_dagster_event]
        assert (
            stored.count("ASSET_MATERIALIZATION_PLANNED") == 1 and stored.count("ASSET_CHECK_EVALUATION_PLANNED") == 1
        )

        events = instance.all_logs(result.run_id)
        before = len(events)
        broken = [events[0], "not an event"]
        from dagster._check import CheckError

        with pytest.raises(CheckError):
            original(broken)
        assert len(instance.all_logs(result.run_id)) == before  # the first event of the batch was rolled back
        assert storage._batch.conns is None


def test_the_io_manager_slice_we_widen_is_still_built_where_we_override_it():
    """resources._GoldDbIOManager overrides DbIOManager._get_table_slice and rebuilds the slice's
    partition dimensions; load_input must still get its slice from that method."""
    from dagster._core.storage.db_io_manager import DbIOManager, TablePartitionDimension, TableSlice

    seam = "dagster changed underneath bank_assets/resources.py (_GoldDbIOManager)"
    method = getattr(DbIOManager, "_get_table_slice", None)
    assert method is not None, f"{seam}: DbIOManager._get_table_slice is gone"
    assert list(inspect.signature(method).parameters) == ["self", "context", "output_context"], seam
    assert "self._get_table_slice(" in inspect.getsource(DbIOManager.load_input), f"{seam}: load_input"
    assert {"partition_dimensions"} <= set(TableSlice._fields), f"{seam}: TableSlice fields {TableSlice._fields}"
    assert list(TablePartitionDimension._fields)[:2] == ["partition_expr", "partitions"], seam


def test_the_backfill_daemon_sleeps_the_controller_constant_quick_daemon_sets():
    """devtools/quick_daemon.py shortens the backfill daemon's loop by setting one module constant
    before Dagster's daemon CLI starts: the loop must still read it from the controller module when
    it starts, and the daemon CLI must still be the entry point `dagster-daemon` runs."""
    from importlib.metadata import entry_points

    from dagster._daemon import backfill, controller

    seam = "Dagster changed underneath devtools/quick_daemon.py"
    assert controller.DEFAULT_DAEMON_INTERVAL_SECONDS == 30, f"{seam}: the default interval is no longer 30 s"
    loop = inspect.getsource(backfill.execute_backfill_iteration_loop)
    assert "from dagster._daemon.controller import DEFAULT_DAEMON_INTERVAL_SECONDS" in loop, (
        f"{seam}: the backfill loop no longer reads the controller's constant when it starts"
    )
    assert "DEFAULT_DAEMON_INTERVAL_SECONDS - loop_duration" in loop, f"{seam}: the loop sleeps something else"
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "dagster-daemon"]
    assert script.value == "dagster._daemon.cli:main", f"{seam}: dagster-daemon now runs {script.value}"


def test_a_range_run_leaves_the_asset_summary_dagster_leaves(tmp_path, monkeypatch):
    """Inside a batch, an asset's summary row is written from the last event of each type only
    (PooledSqliteEventLogStorage._store_asset_event): a range run through it leaves the same asset
    record as through Dagster's own storage, and every event of the run is still stored."""
    from dagster import (
        AssetSelection,
        BackfillPolicy,
        DagsterInstance,
        Definitions,
        MaterializeResult,
        MonthlyPartitionsDefinition,
        asset,
        define_asset_job,
    )
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from bank_assets.instance_storage import PooledSqliteEventLogStorage

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    months = MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-07-01")

    @asset(partitions_def=months, backfill_policy=BackfillPolicy.single_run())
    def monthly(context):
        return MaterializeResult(metadata={"months": len(context.partition_keys)})

    job = Definitions(assets=[monthly], jobs=[define_asset_job("all", AssetSelection.all())]).resolve_job_def("all")
    tags = {ASSET_PARTITION_RANGE_START_TAG: "2024-01-01", ASSET_PARTITION_RANGE_END_TAG: "2024-06-01"}
    seen = {}
    for name, storage in (
        ("dagster", ""),
        ("ours", "event_log_storage:\n  module: bank_assets.instance_storage\n  class: PooledSqliteEventLogStorage\n"),
    ):
        home = tmp_path / name
        home.mkdir()
        (home / "dagster.yaml").write_text(storage + "telemetry:\n  enabled: false\n")
        with DagsterInstance.from_config(str(home)) as instance:
            summaries = []
            if name == "ours":
                assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
                original = SqlEventLogStorage._store_asset_event  # what our override calls when it writes

                def counting(self, conn, event, event_id, original=original, summaries=summaries):
                    summaries.append(event.dagster_event.event_type_value)
                    return original(self, conn, event, event_id)

                monkeypatch.setattr(SqlEventLogStorage, "_store_asset_event", counting)
            first = job.execute_in_process(instance=instance, tags=tags)
            second = job.execute_in_process(instance=instance, tags=tags)
            assert first.success and second.success
            (record,) = instance.get_asset_records([monthly.key])
            last = record.asset_entry.last_materialization_record
            stored = [e.dagster_event.event_type_value for e in instance.all_logs(second.run_id) if e.is_dagster_event]
            seen[name] = {
                "last_partition": last.partition_key,
                "last_run_is_second": last.run_id == second.run_id and record.asset_entry.last_run_id == second.run_id,
                "materialized": sorted(instance.get_materialized_partitions(monthly.key)),
                "events": sorted(stored),
                "materializations": len(instance.fetch_materializations(monthly.key, limit=100).records),
            }
            if name == "ours":
                # the summary row is written once per batch of planned events and once per batch of
                # materializations, not once per month: the lever, measured in docs/performance.md
                assert summaries.count("ASSET_MATERIALIZATION") == 2, summaries
                assert summaries.count("ASSET_MATERIALIZATION_PLANNED") == 2, summaries
    assert seen["ours"] == seen["dagster"], seen
    assert seen["ours"]["last_partition"] == "2024-06-01" and seen["ours"]["materializations"] == 12
