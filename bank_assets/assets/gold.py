"""Gold: the dbt project in dbt_models/ imported as Dagster assets with dagster-dbt.

Three definitions, split by materialization (and ordered, so no definition feeds itself):

* ``gold_base``: views and tables upstream of the incremental models (staging, intermediate,
  dimensions, whole-history marts such as customer_360), unpartitioned;
* ``gold_incremental``: incremental models, monthly-partitioned, ``BackfillPolicy.single_run()``:
  a backfill of any range is one dbt invocation over the half-open window of the run;
* ``gold_rollups``: tables built on incremental models (yearly KPIs), unpartitioned.

Keeping a partition run cheap: dbt runs inside the Dagster process with a manifest parsed once
(``bank_assets.assets.dbt_inprocess``; ``BANK_DBT_SUBPROCESS=1`` restores dbt's CLI process), the
window reaches dbt through environment variables read by the ``window_min()``/``window_max()``
macros, not through ``--vars`` (changed vars force dbt to re-parse the whole project), and each
invocation starts from the project's ``partial_parse.msgpack``. Invocation folders are deleted
when the run ends.
"""

import datetime as dt
import hashlib
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import Any
from unittest import mock

from dagster import AssetExecutionContext, AssetKey, AutomationCondition, BackfillPolicy
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.core import resource as dagster_dbt_resource_module
from packaging import version

from bank_assets.assets.common import OWNER, WAREHOUSE_POOL
from bank_assets.assets.dbt_inprocess import environ, invocation_class
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import Warehouse
from bank_assets.settings import DBT_PROJECT_DIR

INCREMENTAL = "config.materialized:incremental"
WINDOW_ENV = ("BANK_DBT_MIN_DATE", "BANK_DBT_MAX_DATE")
#: Production builds: models and data tests. dbt unit tests check model logic on fixed inputs;
#: they run in the test suite (tests/test_pipeline_gold.py), not on every partition (~1.5 s a build).
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]

# dbt lives beside this interpreter; make it findable when the virtualenv is not activated
# (DbtProject.prepare_if_dev and run workers started by `dagster dev` look it up on PATH).
_VENV_BIN = str(Path(sys.prefix) / "bin")
if shutil.which("dbt") is None and (Path(_VENV_BIN) / "dbt").exists():
    os.environ["PATH"] = _VENV_BIN + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()  # `dagster dev` re-parses; elsewhere scripts/setup.sh prepares the manifest

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"{dbt_project.manifest_path} is missing: prepare the dbt project first with "
        f"`bash scripts/setup.sh` (it runs `dbt parse` in dbt_models/)."
    )


def window_env(start: dt.datetime | dt.date | None, end: dt.datetime | dt.date | None) -> dict[str, str]:
    """Environment for one dbt invocation: the half-open window [start, end) as ISO dates.

    No window (a run of dbt tests alone, or an unpartitioned run) gives no variables, so the
    models fall back to the project defaults (the whole history).
    """
    if start is None or end is None:
        return {}
    if end <= start:
        raise ValueError(f"empty dbt window: {start} .. {end}")
    as_date = lambda d: d.date() if isinstance(d, dt.datetime) else d  # noqa: E731
    return {WINDOW_ENV[0]: as_date(start).isoformat(), WINDOW_ENV[1]: as_date(end).isoformat()}


def run_window(context: AssetExecutionContext) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The run's partition window, or (None, None) when the run has no partitions (e.g. only
    dbt tests were selected, where Dagster has no partition definition to give)."""
    with suppress(Exception):  # "Partitions definition is not defined" in check-only runs
        if context.has_partition_key or context.has_partition_key_range:
            w = context.partition_time_window
            return w.start, w.end
    return None, None


@contextmanager
def invocation_target(context: AssetExecutionContext, name: str, warehouse_path: str) -> Iterator[Path]:
    """A fresh target folder for one dbt invocation, removed afterwards.

    It is seeded with the partial-parse state of the last run against the same warehouse:
    dbt throws that state away when the profile changes (the DuckDB path is part of it), so the
    state is cached per warehouse path, and a partition run skips the full parse.
    """
    base = Path(dbt_project.project_dir) / "target"
    cache = base / f"partial_parse-{hashlib.sha1(warehouse_path.encode()).hexdigest()[:12]}.msgpack"
    path = base / f"{name}-{context.run.run_id[:8]}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    seed = cache if cache.exists() else base / "partial_parse.msgpack"
    if seed.exists():
        shutil.copy2(seed, path / "partial_parse.msgpack")
    try:
        yield path
    finally:
        state = path / "partial_parse.msgpack"
        if state.exists():
            tmp = cache.with_suffix(f".tmp-{os.getpid()}")
            shutil.copy2(state, tmp)
            os.replace(tmp, cache)
        shutil.rmtree(path, ignore_errors=True)


class BankDbtTranslator(DagsterDbtTranslator):
    """Gold group, one owner, dbt + duckdb kinds; sources map to silver assets via their meta."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "gold"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), "dagster/kind/duckdb": ""}

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> AutomationCondition | None:
        """Gold follows silver on its own: rebuild (the changed month, for partitioned models) when
        a parent was updated, once no parent is still running. Unlike eager(), months that were
        never loaded (partitions run to BANK_LAST_MONTH) do not hold back the rest."""
        return (
            AutomationCondition.any_deps_updated()
            & ~AutomationCondition.any_deps_in_progress()
            & ~AutomationCondition.in_progress()
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: ["silver", t]
        return AssetKey(["gold", dbt_resource_props["name"]])


translator = BankDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=False))


def _build(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, name: str, windowed: bool = False
):
    env = window_env(*run_window(context)) if windowed else {}
    if env:
        context.log.info(f"dbt window [{env[WINDOW_ENV[0]]}, {env[WINDOW_ENV[1]]})")
    # dbt writes the same DuckDB file as the Python assets (profiles.yml reads BANK_WAREHOUSE)
    env["BANK_WAREHOUSE"] = warehouse.resolved_path
    with invocation_target(context, name, warehouse.resolved_path) as target, environ(env, unset=WINDOW_ENV):
        yield from dbt.cli(BUILD_ARGS, context=context, target_path=target).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=f"{INCREMENTAL}+",
    name="gold_base",
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def gold_base(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Staging views, intermediate models, dimensions and whole-history marts (rebuilt whole)."""
    yield from _build(context, dbt, warehouse, "gold_base")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=INCREMENTAL,
    name="gold_incremental",
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def gold_incremental(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Incremental facts and monthly marts: the run's months are deleted and rebuilt."""
    yield from _build(context, dbt, warehouse, "gold_incremental", windowed=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=f"{INCREMENTAL}+",
    exclude=INCREMENTAL,
    name="gold_rollups",
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def gold_rollups(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Whole-history tables built on the incremental marts (e.g. yearly KPIs)."""
    yield from _build(context, dbt, warehouse, "gold_rollups")


gold_assets = [gold_base, gold_incremental, gold_rollups]


IN_PROCESS_INVOCATION = invocation_class(DbtCliInvocation)


class BankDbtCliResource(DbtCliResource):
    """DbtCliResource without two per-invocation costs we measured and do not need.

    Profiled on a six-model step (see README, Performance), dagster-dbt 0.29 spends, before dbt
    even starts, ~3.8 s running ``dbt --version`` in a subprocess (cached per resource object,
    which Dagster rebuilds for every run) and ~6.6 s building an in-process dbt adapter (project,
    profile and 500+ macros parsed). That adapter only serves ``fetch_row_counts()`` and
    ``fetch_column_metadata()``, which this project does not call. Here the version comes from
    the installed dbt-core (the executable is the same environment's dbt) and no adapter is built.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:  # type: ignore[override]
        """dbt in this process (see bank_assets.assets.dbt_inprocess) unless BANK_DBT_SUBPROCESS=1."""
        if os.environ.get("BANK_DBT_SUBPROCESS") == "1":
            return super().cli(args, **kwargs)
        with mock.patch.object(dagster_dbt_resource_module, "DbtCliInvocation", IN_PROCESS_INVOCATION):
            return super().cli(args, **kwargs)


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment (works without an activated virtualenv)."""
    return BankDbtCliResource(project_dir=dbt_project, dbt_executable=shutil.which("dbt") or "dbt")
