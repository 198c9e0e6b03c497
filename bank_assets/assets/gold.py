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
  month's partition (``bank_assets.assets.gold_checks``); materialization metadata too. The
  models' ``row_rules`` tests run after the build, by this step, on dbt's compiled SQL
  (``bank_assets.assets.gold_rules``).

Keeping a month cheap: dbt runs inside the Dagster process with a manifest parsed once
(``bank_assets.assets.dbt_inprocess``; ``BANK_DBT_SUBPROCESS=1`` restores dbt's CLI process), the
window reaches dbt through environment variables read by the ``window_min()``/``window_max()``
macros, not through ``--vars`` (changed vars force dbt to re-parse the whole project), and each
invocation starts from the partial-parse state kept for its warehouse's file name
(``bank_assets.dbt_parse_state``). Invocation folders are deleted
when the invocation ends (and by the next run if a killed run left one behind).
"""

import contextlib
import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Failure, Output, TableColumn, TableSchema
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtError

from bank_assets.assets import gold_checks, gold_rules
from bank_assets.assets.atomic import failure, prepare, publish, step_name, undo
from bank_assets.assets.common import GOLD_POOL, SINGLE_RUN, check_outputs, partition_keys
from bank_assets.assets.dbt_inprocess import WINDOW_ENV, environ
from bank_assets.assets.dbt_project import dbt_project, dbt_project_manifest, model_nodes, prepared_manifest_path
from bank_assets.assets.dbt_targets import clean_stale_dbt_targets
from bank_assets.assets.gold_journal import save_journal
from bank_assets.assets.gold_translator import translator
from bank_assets.dbt_parse_state import parse_cache, parse_warehouse
from bank_assets.lakehouse.profile import is_lakehouse, lake_dbt_env
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import Warehouse
from bank_assets.settings import months_per_run

#: Production builds: models and data tests. dbt unit tests check model logic on fixed inputs;
#: they run in the test suite (tests/test_pipeline_gold.py), not on every partition (~1.5 s a build).
#: --no-write-json: dbt would rewrite manifest.json (1.9 MB) and run_results.json into the
#: invocation's folder, which is deleted afterwards; dagster-dbt reads dbt's event stream instead.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", "--no-write-json"]


def window_env(start: dt.date, end: dt.date) -> dict[str, str]:
    """Environment for one dbt invocation: the half-open window [start, end) as ISO dates."""
    if end <= start:
        raise ValueError(f"empty dbt window: {start} .. {end}")
    return {WINDOW_ENV[0]: start.isoformat(), WINDOW_ENV[1]: end.isoformat()}


def month_window(partition_key: str) -> tuple[dt.date, dt.date]:
    """[first day of the month, first day of the next month) for a partition key."""
    w = monthly_partitions.time_window_for_partition_key(partition_key)
    return w.start.date(), w.end.date()


def parse_key(warehouse: Warehouse) -> str:
    """What the partial-parse state of a gold invocation is kept by: in this process, the stand-in
    path dbt parses with (:mod:`bank_assets.dbt_parse_state`: one state per warehouse file name);
    dbt's CLI (``BANK_DBT_SUBPROCESS=1``) parses with the real path; the lakehouse, its catalog."""
    if is_lakehouse() or os.environ.get("BANK_DBT_SUBPROCESS") == "1":
        return warehouse.identity
    return parse_warehouse(warehouse.resolved_path, dbt_project.project_dir)


@contextmanager
def invocation_target(context: AssetExecutionContext, name: str, key: str) -> Iterator[Path]:
    """A fresh target folder for one dbt invocation, removed afterwards.

    It is seeded with the partial-parse state last written under the same `key`
    (:func:`parse_key`), else with the project's own (``scripts/setup.sh``), and the state the
    invocation leaves is kept under `key` for the next one: a run skips dbt's full parse.
    """
    base = Path(dbt_project.project_dir) / "target"
    cache = parse_cache(base, key)
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
    nodes = model_nodes()
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


@dbt_assets(
    manifest=prepared_manifest_path(),
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
        yield from build_window(context, dbt, warehouse, months, built)
    with warehouse.connect(log=context.log.warning) as con:
        publish(context, con)  # the run's landing .. gold is whole: consumers cannot roll it back
    yield from model_outputs(context, warehouse, built)


def build_window(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, months: list[str], built: dict
) -> Iterator[Any]:
    """One `dbt build` over consecutive months: journal what it may replace, run dbt with the
    window in its environment, re-address dagster-dbt's events to their months
    (``gold_checks.window_events``); on failure, roll the run back and fail with dbt's message."""
    start, end = month_window(months[0])[0], month_window(months[-1])[1]
    label = gold_checks.window_label(months)
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
        with invocation_target(context, "gold", parse_key(warehouse)) as target, environ(env, unset=WINDOW_ENV):
            seen: dict[str, Any] = {}
            events = dbt.cli(gold_rules.build_args(BUILD_ARGS), context=context, target_path=target).stream()
            reader = failure_reader(warehouse, target)
            yield from gold_checks.window_events(context, months, events, built, reader, seen)
            if gold_rules.outside_dbt():
                yield from rules_after_build(context, dbt, warehouse, months, target, seen.get("invocation_id"))
    except Exception as e:
        with warehouse.connect(log=context.log.warning) as con:
            restored = undo(context, con, e)
        error = (
            Failure(description=f"gold {label}: dbt build failed. {plain_dbt_error(str(e))}")
            if isinstance(e, DagsterDbtError)
            else e
        )
        raise failure(step_name(context), error, restored) from None


def rules_after_build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    months: list[str],
    target: Path,
    invocation_id: str | None,
) -> Iterator[Any]:
    """The models' row rules over the build's window (``gold_rules``): each one's check result per
    month, then the step's failure if a rule of error severity failed."""
    manifest = dbt_project_manifest()
    tests = gold_rules.selected_rules(context, manifest)
    if not tests:
        return
    start, end = month_window(months[0])[0], month_window(months[-1])[1]
    t0 = time.perf_counter()
    compiled = gold_rules.compiled_rules(str(dbt.project_dir), str(dbt.profiles_dir), target / "rules")
    nodes = manifest["nodes"]
    monthly = {n["unique_id"]: bool(nodes[n["attached_node"]]["config"]["meta"].get("partition_column")) for n in tests}
    sql = {uid: gold_rules.in_window(compiled[uid], start, end, monthly[uid]) for uid in monthly}
    t1 = time.perf_counter()
    with warehouse.connect(log=context.log.warning) as con, warehouse.connect(log=context.log.warning) as second:
        results = gold_rules.run_rules([con, second], tests, sql)
    compiled_now = f" (dbt compiled their SQL in {t1 - t0:.2f} s)" if t1 - t0 > 0.1 else ""
    context.log.info(f"row rules of {len(tests)} models checked in {time.perf_counter() - t1:.2f} s{compiled_now}")
    rows = {r.node["name"]: r.rows for r in results}

    def failures(name: str) -> dict:
        return gold_checks.rules_by_month(rows[name])

    for result in gold_rules.check_results(context, results, invocation_id):
        yield from gold_checks.month_evaluations(context, months, result, failures)
    error = gold_rules.failed_rules_error(gold_checks.window_label(months), results)
    if error is not None:
        raise error


def model_outputs(context: AssetExecutionContext, warehouse: Warehouse, built: dict) -> Iterator[Any]:
    """Each model's column schema, then its output in dependency order (the order dbt finished
    the models, as Dagster requires), then the checks' outputs."""
    for asset_key, schema in column_schemas(warehouse, context.selected_asset_keys).items():
        context.add_asset_metadata({"dagster/column_schema": schema}, asset_key=asset_key)
    selected = [
        context.assets_def.get_output_name_for_asset_key(k) for k in sorted(context.selected_asset_keys, key=str)
    ]
    for output_name in [*(n for n in built if n in selected), *(n for n in selected if n not in built)]:
        yield Output(None, output_name=output_name)
    yield from check_outputs(context)


gold_assets = [gold]
