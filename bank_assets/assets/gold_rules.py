"""Gold's column rules: one dbt test per model (``row_rules``, dbt_models/tests/generic/row_rules.sql).

Each model declares its rules once, in its yml, as the arguments of one ``<model>_rules`` test, so
a month runs one test node per model instead of one per rule. The Dagster check of that test is
described from the declared rules, and when it fails, :func:`failing_rules` re-runs the test's
compiled query (still in the invocation's target folder) to name each broken rule with its count
and example values in the check's metadata. A passing month costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
from dagster import MetadataValue

ROW_RULES = "row_rules"
MAX_RULES_SHOWN = 50


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


def compiled_sql_path(target: Path, test_node: Mapping[str, Any]) -> Path:
    """Where dbt wrote the test's compiled query during the build."""
    return target / "compiled" / test_node["package_name"] / test_node["original_file_path"] / test_node["path"]


def failing_rules(con: duckdb.DuckDBPyConnection, target: Path, test_node: Mapping[str, Any]) -> dict[str, Any]:
    """Check metadata naming each broken rule of a failed ``row_rules`` test (rule, count, examples)."""
    path = compiled_sql_path(target, test_node)
    try:
        rows = con.execute(f"SELECT rule, failures, examples FROM ({path.read_text()}) AS broken").fetchall()
    except (OSError, duckdb.Error) as e:  # the check still fails; only the detail is missing
        return {"failing_rules_error": MetadataValue.text(f"could not re-run {path.name}: {e}")}
    rows.sort(key=lambda r: (-int(r[1]), str(r[0])))
    lines = ["| rule | failing | examples |", "|---|---:|---|"]
    for rule, failures, examples in rows[:MAX_RULES_SHOWN]:
        shown = ", ".join(str(e) for e in (examples or []))
        lines.append(f"| `{rule}` | {failures} | {shown} |")
    return {
        "failing_rules": MetadataValue.md("\n".join(lines)),
        "failing_rule_counts": MetadataValue.json({str(rule): int(failures) for rule, failures, _ in rows}),
    }
