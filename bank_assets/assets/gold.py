"""Gold: the dbt project in dbt_models/ imported as Dagster assets with dagster-dbt.

One asset definition holds every dbt model, each partitioned by month like the rest of the graph,
with ``BackfillPolicy.single_run()`` so a range (a UI backfill, ``dagster asset materialize
--partition-range``, the CLI's runs of several months) is one run. The step runs ONE ``dbt build``
over the run's months as one half-open window (dbt's cost is mostly per node, ~35 ms whatever the
rows: a build of six months costs little more than a build of one), so:

* every model does the window's work, month by month inside its SQL (incremental models replace
  the window's months; dimensions open and close each month's SCD2 versions in order; periodic
  snapshots build each month's as-of rows): the same rows as one build per month, which
  tests/test_pipeline_gold.py compares table by table;
* every dbt test checks the window's rows month by month and its result is recorded on each
  month's partition (``bank_assets.assets.gold_checks``); materialization metadata too.

Keeping a month cheap: dbt runs inside the Dagster process with a manifest parsed once
(``bank_assets.assets.dbt_inprocess``; ``BANK_DBT_SUBPROCESS=1`` restores dbt's CLI process), the
window reaches dbt through environment variables read by the ``window_min()``/``window_max()``
macros, not through ``--vars`` (changed vars force dbt to re-parse the whole project), and each
invocation starts from the project's ``partial_parse.msgpack``. Invocation folders are deleted
when the invocation ends (and by the next run if a killed run left one behind).
"""

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    Failure,
    MetadataValue,
    Output,
    PartitionMapping,
    TableColumn,
    TableSchema,
    TimeWindowPartitionMapping,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.errors import DagsterDbtError

from bank_assets.assets import gold_checks
from bank_assets.assets.atomic import failure, prepare, publish, step_name, undo
from bank_assets.assets.common import (
    GOLD_POOL,
    OWNER,
    SINGLE_RUN,
    check_outputs,
    partition_keys,
    partitioned_check_spec,
)
from bank_assets.assets.dbt_inprocess import WINDOW_ENV, InProcessDbtCliResource, environ
from bank_assets.lakehouse.profile import is_lakehouse, lake_dbt_env, retry_on_conflict
from bank_assets.partitions import monthly_partitions
from bank_assets.recovery import clean_stale_dbt_targets
from bank_assets.resources import Warehouse
from bank_assets.settings import DBT_PROJECT_DIR, months_per_run
from bank_assets.warehouse import journal
from bank_assets.warehouse.connection import rollback_if_open

#: every month up to the partition's own (the lakehouse profile's silver -> gold dependency)
SILVER_HISTORY = TimeWindowPartitionMapping(
    start_offset=-len(monthly_partitions.get_partition_keys()), end_offset=0, allow_nonexistent_upstream_partitions=True
)
#: Production builds: models and data tests. dbt unit tests check model logic on fixed inputs;
#: they run in the test suite (tests/test_pipeline_gold.py), not on every partition (~1.5 s a build).
#: --no-write-json: dbt would rewrite manifest.json (1.9 MB) and run_results.json into the
#: invocation's folder, which is deleted afterwards; dagster-dbt reads dbt's event stream instead.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", "--no-write-json"]

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


def window_env(start: dt.date, end: dt.date) -> dict[str, str]:
    """Environment for one dbt invocation: the half-open window [start, end) as ISO dates."""
    if end <= start:
        raise ValueError(f"empty dbt window: {start} .. {end}")
    return {WINDOW_ENV[0]: start.isoformat(), WINDOW_ENV[1]: end.isoformat()}


def month_window(partition_key: str) -> tuple[dt.date, dt.date]:
    """[first day of the month, first day of the next month) for a partition key."""
    w = monthly_partitions.time_window_for_partition_key(partition_key)
    return w.start.date(), w.end.date()


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
    for seed in (cache, base / "partial_parse.msgpack"):
        with contextlib.suppress(FileNotFoundError):  # absent, or pruned by another process meanwhile
            shutil.copy2(seed, path / "partial_parse.msgpack")
            break
    try:
        yield path
    finally:
        state = path / "partial_parse.msgpack"
        if state.exists():
            tmp = cache.with_suffix(f".tmp-{os.getpid()}")
            shutil.copy2(state, tmp)
            os.replace(tmp, cache)
        shutil.rmtree(path, ignore_errors=True)


#: Gold follows its parents on its own, month by month: a partition is requested when a parent's
#: partition was updated (by a run that did not already build it), once no parent partition is
#: missing or in progress and it is not in progress itself. Unlike eager(), any month qualifies,
#: not only the latest, and a month whose silver was never loaded is never requested.
GOLD_AUTOMATION = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after parents, month by month")


class BankDbtTranslator(DagsterDbtTranslator):
    """Gold group, one owner, dbt + duckdb kinds; sources map to silver assets via their meta;
    every model and test is monthly (checks are recorded on their month)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "gold"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), "dagster/kind/duckdb": ""}

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """dagster-dbt's metadata plus ``partition_expr``, the model's month column
        (``meta.partition_column``): dagster-duckdb's IO manager filters on it when a Python
        asset loads a month of this table (the reports group, bank_assets.resources.GoldTableReader)."""
        column = (dbt_resource_props.get("config", {}).get("meta") or {}).get("partition_column")
        return {**super().get_metadata(dbt_resource_props), **({"partition_expr": column} if column else {})}

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> AutomationCondition | None:
        return GOLD_AUTOMATION

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> PartitionMapping | None:
        """On the lakehouse profile a gold month depends on silver of every month up to it.

        Month M's SCD2 versions and periodic snapshots read the months before it. The embedded
        profile builds one month at a time; the lakehouse loads months of silver side by side, so
        the dependency is declared: a backfill requests gold for a month only once silver of every
        earlier month it targets is in, so gold runs are queued oldest month first (and the
        `gold_months` pool runs them one at a time, in that order)."""
        if is_lakehouse() and dbt_parent_resource_props.get("resource_type") == "source":
            return SILVER_HISTORY
        return super().get_partition_mapping(dbt_resource_props, dbt_parent_resource_props)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: ["silver", t]
        return AssetKey(["gold", dbt_resource_props["name"]])

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):  # type: ignore[override]
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        test = manifest["nodes"][unique_id]
        description, metadata = spec.description, dict(spec.metadata or {})
        if gold_checks.is_row_rules(test):
            description = gold_checks.describe(test, spec.asset_key.path[-1])
            metadata["rules"] = MetadataValue.json(gold_checks.declared_rules(test))
        elif not description:
            description = gold_checks.leading_comment(test.get("raw_code") or "")
        return partitioned_check_spec(
            spec.name, spec.asset_key, description, spec.blocking, spec.additional_deps, metadata
        )


translator = BankDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=False))


ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: dagster-dbt points at dbt.log, which the in-process invocation does not write (and whose
#: folder is removed when the invocation ends): drop the pointer rather than name a missing file.
_LOG_POINTER = re.compile(r"Check the stdout in the Dagster compute logs.*?dbt\.log\.\s*", re.S)


def plain_dbt_error(message: str) -> str:
    """dbt's error text without colour codes or a pointer to a log that does not exist."""
    return _LOG_POINTER.sub("", ANSI.sub("", message)).strip()


def column_schemas(warehouse: Warehouse, keys: Iterable[AssetKey]) -> dict[AssetKey, TableSchema]:
    """Every column of each built model, with its type from the warehouse and its description
    from the model's yml (so the UI shows the full schema, not only the documented columns)."""
    manifest = dbt_project_manifest()
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    wanted = {(nodes[k.path[-1]]["schema"], nodes[k.path[-1]]["alias"]): k for k in keys if k.path[-1] in nodes}
    columns: dict[AssetKey, list[TableColumn]] = {}
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall()
    for schema, table, column, data_type in rows:
        key = wanted.get((schema, table))
        if key is None:
            continue
        doc = nodes[key.path[-1]]["columns"].get(column, {}).get("description", "")
        columns.setdefault(key, []).append(TableColumn(column, data_type, description=doc or None))
    return {k: TableSchema(columns=cols) for k, cols in columns.items()}


_SCD2_HOOK = re.compile(r"scd2_close_versions\(\s*'(\w+)'\s*,\s*'(\w+)'\s*\)")


def journal_scopes(keys: Iterable[AssetKey], start: dt.date, end: dt.date) -> list[journal.Scope]:
    """What a dbt build over [start, end) may replace in the selected models: the window's rows of
    every incremental model (its meta.partition_column) and, for SCD2 dimensions, every version the
    window may open or close (those valid from its first month on, still open, or closed after it)."""
    manifest = dbt_project_manifest()
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    scopes = []
    for k in sorted(keys, key=str):
        node = nodes.get(k.path[-1])
        if node is None or node["config"]["materialized"] not in ("incremental", "table"):
            continue  # views hold no data
        table = f"{node['schema']}.{node['alias']}"
        column = node["config"]["meta"]["partition_column"]
        hooks = " ".join(h["sql"] for h in node["config"].get("post-hook", []))
        scd2 = _SCD2_HOOK.search(hooks)
        if scd2:
            day = f"DATE '{start:%Y-%m-%d}'"
            predicate = f"{column} >= {day} OR valid_to IS NULL OR valid_to >= {day}"
            scopes.append(journal.Scope(table, predicate, id_column=scd2.group(2)))
        else:
            scopes.append(journal.window_scope(table, column, start, end))
    return scopes


def save_journal(context: AssetExecutionContext, con: Any, start: dt.date, end: dt.date) -> None:
    """Copy what the dbt build over [start, end) may replace into the run journal, in one transaction."""

    def attempt() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            for scope in journal_scopes(context.selected_asset_keys, start, end):
                journal.save(con, context.run.run_id, scope, step_name(context))
            con.execute("COMMIT")
        except Exception:
            rollback_if_open(con)
            raise

    retry_on_conflict(attempt, log=context.log.warning, what=f"gold journal {start:%Y-%m}..{end:%Y-%m}")


def require_previous_month(context: AssetExecutionContext) -> None:
    """Refuse to build gold for months whose previous month has silver but no gold yet.

    Asset backfills and automation already order gold by month on the lakehouse profile (the
    self-dependency above); a job backfill (``dagster job backfill``: one run per month, several
    at once) does not. Building month M before M-1 would open SCD2 versions out of order, so the
    run fails instead, before writing anything, naming the month to build first."""
    first = partition_keys(context)[0]
    keys = monthly_partitions.get_partition_keys()
    if keys.index(first) == 0:
        return
    prev_key = keys[keys.index(first) - 1]
    instance = context.instance
    model = sorted(context.selected_asset_keys, key=str)[0]
    silver = [k for k in context.assets_def.dependency_keys if k.path[0] == "silver"]
    has_silver = any(prev_key in instance.get_materialized_partitions(k) for k in silver)
    if has_silver and prev_key not in instance.get_materialized_partitions(model):
        raise Failure(
            description=f"gold {first[:7]} needs gold {prev_key[:7]} first (SCD2 versions and snapshots read the "
            f"month before), and {prev_key[:7]} has silver but no gold yet. Nothing was written. Build the months "
            "in order: a backfill of the assets (the UI's Materialize) orders them on this profile."
        )


def failure_reader(warehouse: Warehouse, target: Path) -> Callable[[str], Any]:
    """For a failed check of this invocation: its failing rows by month (``gold_checks``)."""
    tests = {n["name"]: n for n in dbt_project_manifest()["nodes"].values() if n["resource_type"] == "test"}

    def read(check_name: str) -> Any:
        if check_name not in tests:
            return f"{check_name} is not a test of this project's manifest"
        with warehouse.connect() as con:
            return gold_checks.failures_by_month(con, target, tests[check_name])

    return read


def consecutive_runs(keys: list[str], limit: int) -> list[list[str]]:
    """The run's months as runs of at most `limit` consecutive months, oldest first (a range run
    of up to `limit` months is one)."""
    order = {k: i for i, k in enumerate(monthly_partitions.get_partition_keys())}
    runs: list[list[str]] = []
    for k in sorted(keys, key=order.__getitem__):
        if runs and order[k] == order[runs[-1][-1]] + 1 and len(runs[-1]) < limit:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


@cache
def dbt_project_manifest() -> dict[str, Any]:
    return json.loads(Path(dbt_project.manifest_path).read_text())


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="gold",
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    dagster_dbt_translator=translator,
    pool=GOLD_POOL,
)
def gold(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Every dbt model: one `dbt build` over the run's months (a window per run of consecutive months)."""
    built: dict[str, None] = {}  # output names in the order dbt built them
    clean_stale_dbt_targets(Path(dbt_project.project_dir) / "target", context.log.info)
    if is_lakehouse():
        require_previous_month(context)
    for months in consecutive_runs(partition_keys(context), months_per_run()):
        start, end = month_window(months[0])[0], month_window(months[-1])[1]
        label = months[0][:7] if len(months) == 1 else f"{months[0][:7]}..{months[-1][:7]}"
        with warehouse.connect(log=context.log.warning) as con:
            prepare(context, con)  # settle earlier runs; refuse if this run was rolled back
            save_journal(context, con, start, end)
        # cautious: a singular test that reads several models runs only when all of them are built
        # in this run (a run may build a subset, e.g. when a backfill waits for earlier months)
        env = {
            **window_env(start, end),
            "BANK_WAREHOUSE": warehouse.resolved_path,
            "DBT_INDIRECT_SELECTION": "cautious",
            **lake_dbt_env(),
        }
        context.log.info(f"dbt build for {label} ({len(months)} month(s)): window [{start}, {end})")
        try:
            with (
                invocation_target(context, "gold", warehouse.identity) as target,
                environ(env, unset=WINDOW_ENV),
            ):
                invocation = dbt.cli(BUILD_ARGS, context=context, target_path=target)
                events = invocation.stream()
                yield from gold_checks.window_events(context, months, events, built, failure_reader(warehouse, target))
        except Exception as e:
            with warehouse.connect(log=context.log.warning) as con:
                restored = undo(context, con, e)
            error = (
                Failure(description=f"gold {label}: dbt build failed. {plain_dbt_error(str(e))}")
                if isinstance(e, DagsterDbtError)
                else e
            )
            raise failure(step_name(context), error, restored) from None
    with warehouse.connect(log=context.log.warning) as con:
        publish(context, con)  # the run's landing .. gold is whole: consumers cannot roll it back
    schemas = column_schemas(warehouse, context.selected_asset_keys)
    for asset_key, schema in schemas.items():
        context.add_asset_metadata({"dagster/column_schema": schema}, asset_key=asset_key)
    # outputs in dependency order (the order dbt finished the models), as Dagster requires
    selected = [
        context.assets_def.get_output_name_for_asset_key(k) for k in sorted(context.selected_asset_keys, key=str)
    ]
    for output_name in [*(n for n in built if n in selected), *(n for n in selected if n not in built)]:
        yield Output(None, output_name=output_name)
    yield from check_outputs(context)


gold_assets = [gold]


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment (works without an activated virtualenv)."""
    return InProcessDbtCliResource(project_dir=dbt_project, dbt_executable=shutil.which("dbt") or "dbt")
