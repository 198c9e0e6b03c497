"""Audit a staged silver partition. Each check is derived from the contract and costs one pass
over the partition (never the whole table), so checks stay flat as months accumulate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from bank_assets.contracts import Contract
from bank_assets.warehouse.silver import (
    _bind,
    month_params,
    parent_status_column,
    q,
    rejects_stage_table,
    stage_table,
    typed_expr,
)

VOLUME_TOLERANCE = 0.5  # WARN when a month differs from the trailing mean by more than 50 %
VOLUME_TRAILING_MONTHS = 3
VOLUME_MIN_ROWS = 100  # below this trailing mean, month-to-month swings are noise, not news


@dataclass(frozen=True)
class CheckSpecInfo:
    name: str
    description: str
    blocking: bool
    severity: str  # "ERROR" or "WARN"


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    blocking: bool
    severity: str
    metadata: dict[str, object] = field(default_factory=dict)


SAMPLE_SIZE = 5


def sample(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[str]:
    """Up to SAMPLE_SIZE offending keys (first column of `sql`), as text, for check metadata."""
    rows = con.execute(f"SELECT * FROM ({sql}) LIMIT {SAMPLE_SIZE}", _bind(sql, params or {})).fetchall()
    return [str(r[0]) for r in rows]


def describe(metadata: dict[str, object]) -> str:
    """A check's numbers as plain text: `rows=10, duplicate_keys=2, sample_duplicate_keys=[...]`."""
    return "(" + ", ".join(f"{k}={v}" for k, v in metadata.items()) + ")"


def check_specs(contract: Contract) -> list[CheckSpecInfo]:
    """The checks every silver partition of this contract must pass (one source: the contract)."""
    key = ", ".join(contract.key)
    specs = [
        CheckSpecInfo("key_unique", f"Business key ({key}) is unique in the partition.", True, "ERROR"),
        CheckSpecInfo(
            "required_not_null",
            "Required columns are never null: " + ", ".join(c.name for c in contract.required_columns),
            True,
            "ERROR",
        ),
        CheckSpecInfo(
            "reconciles_with_bronze",
            "Every bronze row is accounted for exactly once: bronze = silver + duplicates removed + rejects.",
            True,
            "ERROR",
        ),
    ]
    for c in contract.foreign_keys:
        specs.append(
            CheckSpecInfo(
                f"fk_{c.name}",
                f"{c.name} links to a valid {c.references} row of the month. Children of a quarantined parent or "
                "of one seen only in earlier months are kept and flagged (WARN); keys never seen are ORPHAN_FK.",
                False,
                "WARN",
            )
        )
    if any(c.accepted for c in contract.columns):
        cols = ", ".join(c.name for c in contract.columns if c.accepted)
        specs.append(
            CheckSpecInfo("accepted_values", f"Coded columns hold accepted values only: {cols}.", False, "ERROR")
        )
    if contract.event_column:
        specs.append(
            CheckSpecInfo(
                "volume_vs_trailing",
                f"Row count within {VOLUME_TOLERANCE:.0%} of the trailing {VOLUME_TRAILING_MONTHS}-month mean.",
                False,
                "WARN",
            )
        )
    return specs


def run_checks(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date) -> list[CheckOutcome]:
    """Evaluate every check of `check_specs(contract)` against the staging tables."""
    stage = stage_table(contract)
    rejects = rejects_stage_table(contract)
    params = month_params(month)
    one = lambda sql, p=None: con.execute(sql, p or {}).fetchone()  # noqa: E731
    out: list[CheckOutcome] = []
    specs = {s.name: s for s in check_specs(contract)}

    def add(name: str, passed: bool, **meta: object) -> None:
        s = specs[name]
        out.append(CheckOutcome(name, bool(passed), s.blocking, s.severity, meta))

    key = ", ".join(q(k) for k in contract.key)
    rows, distinct = one(f"SELECT count(*), count(DISTINCT ({key})) FROM {stage}")
    dup_sample = (
        sample(con, f"SELECT concat_ws('|', {key}) FROM {stage} GROUP BY {key} HAVING count(*) > 1 ORDER BY 1")
        if rows != distinct
        else []
    )
    add(
        "key_unique",
        rows == distinct,
        rows=rows,
        distinct_keys=distinct,
        duplicate_keys=rows - distinct,
        **({"sample_duplicate_keys": dup_sample} if dup_sample else {}),
    )

    nulls = ", ".join(f"count(*) FILTER (WHERE {q(c.name)} IS NULL)" for c in contract.required_columns)
    counts = one(f"SELECT {nulls} FROM {stage}")
    by_col = {c.name: int(n) for c, n in zip(contract.required_columns, counts, strict=True) if n}
    add("required_not_null", not by_col, null_counts=by_col or "none", rows=rows)

    # row-level lineage: each bronze row is in silver, in rejects, or a duplicate of a silver key
    part = "b._partition_month = $month"
    typed_keys = ", ".join(f"{typed_expr(contract.column(k))} AS __k{i}" for i, k in enumerate(contract.key))
    keys_join = " AND ".join(f"k.{q(k)} = b.__k{i}" for i, k in enumerate(contract.key))
    key_null = " OR ".join(f"b.__k{i} IS NULL" for i in range(len(contract.key)))
    keys_sql = ", ".join(q(k) for k in contract.key)
    sql = f"""
WITH b AS (SELECT _source_row, {typed_keys} FROM bronze.{contract.name} b WHERE {part}),
s AS (SELECT _source_row, count(*) AS n FROM {stage} GROUP BY 1),
r AS (SELECT _source_row, count(*) AS n FROM {rejects} GROUP BY 1),
k AS (SELECT DISTINCT {keys_sql} FROM {stage})
SELECT count(*) AS bronze_rows,
  coalesce(sum(s.n), 0) AS silver_rows,
  coalesce(sum(r.n), 0) AS rejects,
  count(*) FILTER (WHERE s._source_row IS NULL AND r._source_row IS NULL AND NOT ({key_null})
                   AND EXISTS (SELECT 1 FROM k WHERE {keys_join})) AS duplicates_removed,
  count(*) FILTER (WHERE coalesce(s.n, 0) + coalesce(r.n, 0) > 1) AS multiply_placed
FROM b LEFT JOIN s ON s._source_row = b._source_row LEFT JOIN r ON r._source_row = b._source_row"""
    bronze_rows, silver_rows, n_rejects, dups, multi = one(sql, _bind(sql, params))
    orphans = one(
        f"SELECT count(*) FROM {stage} s WHERE NOT EXISTS "
        f"(SELECT 1 FROM bronze.{contract.name} b WHERE {part} AND b._source_row = s._source_row)",
        _bind(part, params),
    )[0]
    unaccounted = bronze_rows - silver_rows - n_rejects - dups
    add(
        "reconciles_with_bronze",
        unaccounted == 0 and multi == 0 and orphans == 0,
        bronze_rows=bronze_rows,
        silver_rows=silver_rows,
        duplicates_removed=dups,
        rejects=n_rejects,
        unaccounted=unaccounted,
        rows_placed_twice=multi,
        silver_rows_without_bronze=orphans,
    )

    for c in contract.foreign_keys:
        status = q(parent_status_column(c))
        linked = dict(
            con.execute(f"SELECT {status}, count(*) FROM {stage} WHERE {status} IS NOT NULL GROUP BY 1").fetchall()
        )
        orphans = one(
            f"SELECT count(*) FROM {rejects} WHERE reason_code = 'ORPHAN_FK' AND reason_column = ?", [c.name]
        )[0]
        sql_inferred = f"SELECT DISTINCT {q(c.name)} FROM {stage} WHERE {status} <> 'VALID' ORDER BY 1"
        keys = sample(con, sql_inferred) if linked.keys() - {"VALID"} else []
        inferred = sum(n for s_, n in linked.items() if s_ != "VALID")
        add(
            f"fk_{c.name}",
            inferred == 0,
            parent=c.references,
            valid_parent=int(linked.get("VALID", 0)),
            quarantined_parent=int(linked.get("QUARANTINED", 0)),
            earlier_month_parent=int(linked.get("EARLIER_MONTH", 0)),
            orphans_rejected=int(orphans),
            **({"sample_keys_without_valid_parent": keys} if keys else {}),
        )

    accepted = [c for c in contract.columns if c.accepted]
    if accepted:
        exprs = ", ".join(
            f"count(*) FILTER (WHERE {q(c.name)} NOT IN ({', '.join(repr(v) for v in c.accepted)}))" for c in accepted
        )
        bad = one(f"SELECT {exprs} FROM {stage}")
        by_col = {c.name: int(n) for c, n in zip(accepted, bad, strict=True) if n}
        add("accepted_values", not by_col, violations=by_col or "none")

    if contract.event_column:
        has_stats = one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'silver' "
            "AND table_name = '_partition_stats'"
        )[0]
        trailing = []
        if has_stats:
            trailing = [
                r[0]
                for r in con.execute(
                    "SELECT silver_rows FROM silver._partition_stats WHERE table_name = $t AND partition_month < $m "
                    "ORDER BY partition_month DESC LIMIT $k",
                    {"t": contract.name, "m": month, "k": VOLUME_TRAILING_MONTHS},
                ).fetchall()
            ]
        mean = sum(trailing) / len(trailing) if trailing else 0.0
        if trailing and mean >= VOLUME_MIN_ROWS:
            change = (rows - mean) / mean if mean else 0.0
            add(
                "volume_vs_trailing",
                abs(change) <= VOLUME_TOLERANCE,
                rows=rows,
                trailing_mean=round(mean, 1),
                change_pct=round(100 * change, 1),
                months=len(trailing),
            )
        else:
            add(
                "volume_vs_trailing",
                True,
                rows=rows,
                trailing_mean=f"{len(trailing)} earlier months, mean {mean:.0f} rows: too little history to judge",
            )
    return out
