"""Gold's dbt tests as Dagster checks of each month.

A gold run builds its months in one dbt build over their window (``bank_assets.assets.gold``), and
dbt reports one result per test for the whole window. Every test is written to hold month by
month and returns its failing rows with their month, so a result becomes one check evaluation
per month of the run, each recorded on its own partition:

* a passing test passed for every month of the window;
* a failing test's failing rows are counted by month (a test dbt ran is re-run from its compiled
  query, still in the invocation's target folder): the months with failing rows fail, with their
  own count and examples; the others pass. A failure that cannot be placed in a month fails every
  month.

The column rules of a model are one ``row_rules`` test (dbt_models/tests/generic/row_rules.sql):
its rows name each broken rule with its count and example values in the check's metadata. On the
embedded default the gold step runs those tests itself after the build
(``bank_assets.assets.gold_rules``) and hands their results to :func:`month_evaluations` like
dagster-dbt's. The singular tests (dbt_models/tests/*.sql) name their month column as
``meta.partition_column``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetExecutionContext,
    MetadataValue,
    Output,
)

ROW_RULES = "row_rules"
MAX_RULES_SHOWN = 50
MAX_ROWS_SHOWN = 5
#: check metadata of a month's evaluation: its month's failures, or why none could be placed
MonthVerdicts = dict[dt.date, dict[str, Any]]


def is_row_rules(test_node: Mapping[str, Any]) -> bool:
    return (test_node.get("test_metadata") or {}).get("name") == ROW_RULES


def declared_rules(test_node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rules as declared in the model's yml (the test's arguments)."""
    return list((test_node.get("test_metadata") or {}).get("kwargs", {}).get("rules") or [])


def describe(test_node: Mapping[str, Any], model: str) -> str:
    rules = declared_rules(test_node)
    kinds = sorted({next(k for k in r if k not in ("column", "where", "field")) for r in rules})
    return (
        f"The column rules of {model} declared in its yml ({len(rules)}: {', '.join(kinds)}), checked in one "
        "query on the month's rows. A failure names each broken rule with its count and example values."
    )


def leading_comment(sql: str) -> str | None:
    """A singular test's description: the ``--`` comment lines it opens with (its one statement of
    what it checks), without dbt's ``-- depends_on:`` hints and config lines."""
    lines = []
    for line in sql.strip().splitlines():
        text = line.strip()
        if text.startswith("{{ config(") or text.startswith("-- depends_on:"):
            continue
        if not text.startswith("--"):
            break
        lines.append(text[2:].strip())
    return " ".join(lines) or None


def compiled_sql_path(target: Path, test_node: Mapping[str, Any]) -> Path:
    """Where dbt wrote the test's compiled query during the build (a generic test's under its yml)."""
    base = target / "compiled" / test_node["package_name"] / test_node["original_file_path"]
    return base / test_node["path"] if test_node.get("test_metadata") else base


def rules_by_month(rows: list[tuple[Any, ...]]) -> dict[dt.date | None, dict[str, Any]]:
    """A row_rules test's failing rows (month, rule, failures, examples) as metadata per month."""
    months: dict[dt.date | None, list[tuple[Any, ...]]] = {}
    for month, rule, failures, examples in rows:
        months.setdefault(month, []).append((rule, int(failures), examples))
    out = {}
    for month, broken in months.items():
        broken.sort(key=lambda r: (-r[1], str(r[0])))
        lines = ["| rule | failing | examples |", "|---|---:|---|"]
        for rule, failures, examples in broken[:MAX_RULES_SHOWN]:
            lines.append(f"| `{rule}` | {failures} | {', '.join(str(e) for e in (examples or []))} |")
        out[month] = {
            "failing_rules": MetadataValue.md("\n".join(lines)),
            "failing_rule_counts": MetadataValue.json({str(rule): n for rule, n, _ in broken}),
            "dagster_dbt/failed_row_count": sum(n for _, n, _ in broken),
        }
    return out


def _rows_by_month(con: duckdb.DuckDBPyConnection, sql: str, column: str) -> dict[dt.date | None, dict[str, Any]]:
    """A singular test's failing rows counted by the month of `column`, with a few of them."""
    rows = con.execute(
        f"SELECT CAST(date_trunc('month', failing.\"{column}\") AS DATE), count(*), "
        f"list_slice(list(to_json(failing) ORDER BY to_json(failing)), 1, {MAX_ROWS_SHOWN}) "
        f"FROM ({sql}) AS failing GROUP BY 1"
    ).fetchall()
    return {
        month: {
            "dagster_dbt/failed_row_count": int(n),
            "failing_rows": MetadataValue.md("\n".join(f"- `{r}`" for r in examples)),
        }
        for month, n, examples in rows
    }


def failures_by_month(
    con: duckdb.DuckDBPyConnection, target: Path, test_node: Mapping[str, Any]
) -> dict[dt.date | None, dict[str, Any]] | str:
    """A failed test's failing rows by month (None: rows without a month), as check metadata;
    or why they could not be read (the check still fails)."""
    path = compiled_sql_path(target, test_node)
    column = (test_node.get("config", {}).get("meta") or {}).get("partition_column")
    if not is_row_rules(test_node) and not column:
        return f"{test_node['name']} names no month column (meta.partition_column)"
    try:
        sql = path.read_text()
        if is_row_rules(test_node):
            rows = con.execute(f"SELECT month, rule, failures, examples FROM ({sql}) AS broken").fetchall()
            return rules_by_month(rows)
        return _rows_by_month(con, sql, column)
    except (OSError, duckdb.Error) as e:
        return f"could not re-run {path.name}: {e}"


def month_verdicts(failures: dict[dt.date | None, dict[str, Any]] | str, months: Sequence[dt.date]) -> MonthVerdicts:
    """Which months of the window a failed test fails, with each month's metadata. Months without
    failing rows pass (metadata empty) unless no failure could be placed: then every month fails."""
    if isinstance(failures, str):
        return {m: {"failure_by_month": MetadataValue.text(failures)} for m in months}
    placed = {m: failures[m] for m in months if m in failures}
    if not placed or None in failures:
        note = "the failing rows name no month of this run: every month of the window is marked failed"
        whole = failures.get(None) or {}
        return {m: {**whole, **placed.get(m, {}), "failure_by_month": MetadataValue.text(note)} for m in months}
    return {m: placed.get(m, {}) for m in months}


def window_events(
    context: AssetExecutionContext,
    partition_keys: Sequence[str],
    events: Iterator[Any],
    built: dict[str, None],
    failures: Callable[[str], dict[dt.date | None, dict[str, Any]] | str],
    seen: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """dagster-dbt's events of one dbt build over the window of `partition_keys`, per month.

    Model outputs become every month's materialization metadata (the outputs themselves are
    yielded once, at the end of the step, so Dagster records one materialization per month);
    a test result becomes one check evaluation per month (see the module docstring); anything
    else passes through. `seen` receives the build's dbt ``invocation_id``."""
    common = {"dbt_window": MetadataValue.text(window_label(partition_keys))}
    for event in events:
        if isinstance(event, Output):
            built.setdefault(event.output_name, None)
            if seen is not None and "invocation_id" in event.metadata:
                seen["invocation_id"] = event.metadata["invocation_id"]
            asset_key = context.asset_key_for_output(event.output_name)
            for pk in partition_keys:
                context.add_asset_metadata({**event.metadata, **common}, asset_key=asset_key, partition_key=pk)
        elif isinstance(event, AssetCheckResult):
            yield from month_evaluations(context, partition_keys, event, failures)
        else:
            yield event


def window_label(partition_keys: Sequence[str]) -> str:
    return f"{partition_keys[0][:7]}..{partition_keys[-1][:7]}" if len(partition_keys) > 1 else partition_keys[0][:7]


def month_evaluations(
    context: AssetExecutionContext,
    partition_keys: Sequence[str],
    event: AssetCheckResult,
    failures: Callable[[str], dict[dt.date | None, dict[str, Any]] | str],
) -> Iterator[AssetCheckEvaluation]:
    """One test's result over the window as one check evaluation per month, each on its partition."""
    months = {pk: dt.date.fromisoformat(pk[:10]) for pk in partition_keys}
    common = {"dbt_window": MetadataValue.text(window_label(partition_keys))}
    blocking = {s.key: s.blocking for s in context.assets_def.check_specs}
    verdicts = (
        {m: None for m in months.values()}
        if event.passed
        else month_verdicts(failures(event.check_name), list(months.values()))
    )
    for pk, month in months.items():
        failed = verdicts[month]
        passed = event.passed or not failed
        own = {"dagster_dbt/failed_row_count": 0, "status": "pass"} if passed and not event.passed else {}
        yield AssetCheckEvaluation(
            asset_key=event.asset_key,
            check_name=event.check_name,
            passed=passed,
            metadata={**event.metadata, **own, **(failed or {}), **common},
            severity=event.severity,
            description=event.description,
            blocking=blocking.get(AssetCheckKey(event.asset_key, event.check_name), False),
            partition=pk,
        )
