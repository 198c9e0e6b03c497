"""Gold's row rules, run by the gold step after dbt's build instead of as one dbt node each.

Each gold model's column rules are one ``row_rules`` data test (dbt_models/tests/generic/
row_rules.sql), declared in the model's yml. dbt runs a data test as a node of its own: ~75 ms of
Python a node (its Jinja context, rendering, events) whatever the rows, and a build's Python is
serialized by the GIL, so the 53 rules tests cost a month's build ~2 s where their queries take
~0.4 s. On the embedded default with dbt in this process, the gold step therefore:

* builds with ``--exclude test_name:row_rules`` (every other test still runs inside the build);
* has dbt compile those tests with a stand-in window (:data:`STAND_IN`, dates no bank month has),
  from the manifest already parsed for the build: dbt's Jinja writes their SQL, as it does inside
  a build, and the tests stay in the project (``dbt build`` alone runs them; dagster-dbt declares a
  check for each). The compiled SQL is kept in memory and in ``dbt_models/target/`` under a key of
  every project file, the profile's settings and dbt's version (:func:`cache_file`): a new process
  compiles again only when something it depends on changed (~1.5 s);
* runs each compiled query with the build's window in place of the stand-in, two at a time, and
  turns each into the check result dbt would have reported (its status from the test's
  ``severity``, ``warn_if`` and ``error_if``, its failing rows named by rule and month);
* fails the step, rolling the run back, when a rule of ``error`` severity fails: a month with a
  broken error rule publishes nothing, as when dbt's build stopped on the failing test. (Inside the
  build, dbt would also have skipped the models downstream of it; here they are built, then rolled
  back with the rest.)

With dbt as a subprocess (``BANK_DBT_SUBPROCESS=1``), on the lakehouse profile, or with
``BANK_DBT_RULES_IN_BUILD=1``, the tests run inside dbt's build as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, Failure

from bank_assets.assets.dbt_inprocess import _DBT_LOCK, WINDOW_ENV, environ, manifest_key, parsed_manifest
from bank_assets.assets.gold_checks import ROW_RULES, is_row_rules
from bank_assets.lakehouse.profile import is_lakehouse
from bank_assets.warehouse.threads import map_on_connections

#: the dbt selector of the tests run here
RULES_SELECTOR = f"test_name:{ROW_RULES}"
#: the window the rules are compiled with, replaced in their SQL by each build's own
STAND_IN = ("1000-01-01", "1000-02-01")
#: manifest key (dbt_inprocess.manifest_key) -> test unique_id -> compiled SQL with the stand-in window
_COMPILED: dict[tuple[str, ...], dict[str, str]] = {}
#: compiled-rules files kept in the project's target folder (one per project state and warehouse name)
KEEP_FILES = 8


def outside_dbt() -> bool:
    """Whether this process runs the row rules itself (the embedded default, dbt in this process)."""
    return (
        os.environ.get("BANK_DBT_SUBPROCESS") != "1"
        and os.environ.get("BANK_DBT_RULES_IN_BUILD") != "1"
        and not is_lakehouse()
    )


def build_args(args: Sequence[str]) -> list[str]:
    """The build's arguments: without the rules tests when this process runs them."""
    return [*args, "--exclude", RULES_SELECTOR] if outside_dbt() else list(args)


def cache_file(project_dir: str, key: tuple[str, ...]) -> Path:
    """Where the compiled rules of this project state are kept: named by a hash of every file of
    the dbt project (models, macros, tests, dbt_project.yml, profiles.yml), `key` (the profile's
    settings: ``dbt_inprocess.manifest_key``), the stand-in window and dbt's versions."""
    from dbt.adapters.duckdb.__version__ import version as duckdb_adapter
    from dbt.version import __version__ as dbt_core

    root = Path(project_dir)
    digest = hashlib.sha256(repr((key, STAND_IN, dbt_core, duckdb_adapter)).encode())
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in {"target", "logs", "dbt_packages"} or path.suffix not in {".sql", ".yml", ".yaml"}:
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return root / "target" / f"row_rules-{digest.hexdigest()[:16]}.json"


def compiled_rules(project_dir: str, profiles_dir: str, target: Path) -> dict[str, str]:
    """Every row_rules test's compiled query (window: :data:`STAND_IN`): from memory, else from the
    project's target folder (:func:`cache_file`), else compiled by dbt now. `project_dir` and
    `profiles_dir` are the ones dagster-dbt gives the build, so a compile uses the manifest the
    build parsed (``dbt_inprocess.parsed_manifest``)."""
    env = {"DBT_PROJECT_DIR": project_dir, "DBT_PROFILES_DIR": profiles_dir}
    with environ(env):
        key = manifest_key()
    if key in _COMPILED:
        return _COMPILED[key]
    path = cache_file(project_dir, key)
    try:
        _COMPILED[key] = json.loads(path.read_text())
        return _COMPILED[key]
    except (OSError, ValueError):
        pass
    from dbt.cli.main import dbtRunner

    args = ["compile", "--select", RULES_SELECTOR, "--no-write-json", "--no-populate-cache"]
    args += ["--log-level", "none", "--log-level-file", "none", "--target-path", str(target)]
    with _DBT_LOCK, environ({**env, WINDOW_ENV[0]: STAND_IN[0], WINDOW_ENV[1]: STAND_IN[1]}):
        result = dbtRunner(manifest=parsed_manifest(dbtRunner)).invoke(args)
    if not result.success:
        raise RuntimeError(f"dbt could not compile the row rules: {result.exception}")
    compiled = {r.node.unique_id: r.node.compiled_code for r in result.result.results}
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(compiled, sort_keys=True))
    os.replace(tmp, path)
    prune(path.parent)
    _COMPILED[key] = compiled
    return compiled


def prune(folder: Path) -> None:
    """Keep the :data:`KEEP_FILES` newest compiled-rules files (other processes may prune too)."""

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    for old in sorted(folder.glob("row_rules-*.json"), key=mtime)[:-KEEP_FILES]:
        old.unlink(missing_ok=True)


def in_window(sql: str, start: dt.date, end: dt.date, partitioned: bool = True) -> str:
    """A compiled rules query for the window [start, end). A test of a model with a month column
    (``meta.partition_column``) must read the stand-in window, else it would check every month."""
    if partitioned and f"'{STAND_IN[0]}'" not in sql:
        raise RuntimeError(f"a compiled row_rules query does not read the stand-in window {STAND_IN}:\n{sql[:500]}")
    return sql.replace(f"'{STAND_IN[0]}'", f"'{start.isoformat()}'").replace(f"'{STAND_IN[1]}'", f"'{end.isoformat()}'")


@dataclass(frozen=True)
class RulesResult:
    """One rules test's outcome, as dbt's build would have reported it."""

    node: Mapping[str, Any]
    rows: list[tuple[Any, ...]]  # (month, rule, failures, examples) of the broken rules
    status: str  # pass | warn | fail, dbt's test statuses
    seconds: float

    @property
    def failures(self) -> int:
        return sum(int(r[2]) for r in self.rows)


def status_of(con: duckdb.DuckDBPyConnection, failures: int, config: Mapping[str, Any]) -> str:
    """dbt's test status: ``fail`` when the severity is error and ``error_if`` holds on the failure
    count, else ``warn`` when ``warn_if`` holds, else ``pass`` (the conditions are SQL, as in dbt)."""
    error, warn = con.execute(f"SELECT {failures} {config['error_if']}, {failures} {config['warn_if']}").fetchone()
    if str(config.get("severity", "error")).lower() == "error" and error:
        return "fail"
    return "warn" if warn else "pass"


def run_rules(
    cons: Sequence[duckdb.DuckDBPyConnection], tests: Sequence[Mapping[str, Any]], sql: Mapping[str, str]
) -> list[RulesResult]:
    """Each test's query (already in the build's window), on as many threads as connections."""

    def one(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> RulesResult:
        t0 = time.perf_counter()
        query = f"SELECT month, rule, failures, examples FROM ({sql[node['unique_id']]}) AS broken"
        rows = con.execute(query).fetchall()
        status = status_of(con, sum(int(r[2]) for r in rows), node["config"])
        return RulesResult(node, rows, status, time.perf_counter() - t0)

    return map_on_connections(cons, one, tests)


def selected_rules(context: AssetExecutionContext, manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rules tests whose checks this step runs, selected as dbt's cautious indirect selection
    selects tests (the build's ``DBT_INDIRECT_SELECTION``): only those whose every model (the one
    checked and those a ``references`` rule reads) is built by this step. A subset of gold (a UI
    selection, the benchmark's reference tables) does not check rules against models it did not
    build."""
    names = {k.name for k in context.selected_asset_check_keys}
    built = {k.path[-1] for k in context.selected_asset_keys}
    nodes = manifest["nodes"]
    tests = [n for n in nodes.values() if n["resource_type"] == "test" and is_row_rules(n) and n["name"] in names]
    return sorted(
        (
            n
            for n in tests
            if all(nodes[d]["name"] in built for d in n["depends_on"]["nodes"] if d.startswith("model."))
        ),
        key=lambda n: n["name"],
    )


def check_results(
    context: AssetExecutionContext, results: Sequence[RulesResult], invocation_id: str | None
) -> Iterator[AssetCheckResult]:
    """The check result dagster-dbt makes of a dbt test's result, for each rules test."""
    keys = {spec.name: spec.key for spec in context.assets_def.check_specs}
    for r in results:
        key = keys[r.node["name"]]
        yield AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=r.status == "pass",
            severity=AssetCheckSeverity.WARN if r.status == "warn" else AssetCheckSeverity.ERROR,
            metadata={
                "Execution Duration": r.seconds,
                "unique_id": r.node["unique_id"],
                **({"invocation_id": invocation_id} if invocation_id else {}),
                "status": r.status,
                "dagster_dbt/failed_row_count": r.failures,
            },
        )


def failed_rules_error(label: str, results: Sequence[RulesResult]) -> Failure | None:
    """The step's failure when a rule of error severity failed (the month must not publish)."""
    failed = [r for r in results if r.status == "fail"]
    if not failed:
        return None
    named = ", ".join(f"{r.node['name']} ({r.failures} failing rows)" for r in failed)
    return Failure(
        description=f"gold {label}: {len(failed)} row rules test(s) failed: {named}. Each check names its broken "
        "rules with their counts and examples.",
        metadata={"failed_tests": ", ".join(r.node["name"] for r in failed)},
    )
