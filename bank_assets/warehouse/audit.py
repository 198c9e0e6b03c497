"""Audit a staged silver partition against its contract: one Dagster check a table, ``contract``,
covering every rule derived from the contract (key, required columns, reconciliation with
bronze, accepted values, foreign keys, volume). Each rule costs one pass over the partition (never
the whole table), so the audit stays flat as months accumulate; the check names each rule with its
count of offending rows, and a failure or warning says which rules and what they saw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from bank_assets.contracts import Contract
from bank_assets.lakehouse.profile import table_exists
from bank_assets.settings import identity_change_severity
from bank_assets.warehouse.silver import (
    bind_params,
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
    count: int = 0  # offending rows (or keys) the rule found
    description: str | None = None


#: the one Dagster check of a silver table
CHECK_NAME = "contract"


SAMPLE_SIZE = 5


def sample(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[str]:
    """Up to SAMPLE_SIZE offending keys (first column of `sql`), as text, for check metadata."""
    rows = con.execute(f"SELECT * FROM ({sql}) LIMIT {SAMPLE_SIZE}", bind_params(sql, params or {})).fetchall()
    return [str(r[0]) for r in rows]


def describe(metadata: dict[str, object]) -> str:
    """A check's numbers as plain text: `rows=10, duplicate_keys=2, sample_duplicate_keys=[...]`."""
    return "(" + ", ".join(f"{k}={v}" for k, v in metadata.items()) + ")"


def check_spec(contract: Contract) -> CheckSpecInfo:
    """The table's one check: every rule of `rule_specs`, blocking when a blocking rule fails."""
    rules = "; ".join(
        f"{r.name} ({'blocks publishing' if r.blocking else r.severity}): {r.description}" for r in rule_specs(contract)
    )
    return CheckSpecInfo(
        CHECK_NAME,
        f"The month's rows satisfy silver.{contract.name}'s contract. Rules: {rules}",
        True,
        "ERROR",
    )


def merged(rules: list[CheckOutcome]) -> CheckOutcome:
    """One outcome for the table's check: failed (ERROR) when a blocking or ERROR rule failed,
    warned when only WARN rules did; metadata names every rule with its count (``rule_counts``)
    and carries each rule's numbers under its name."""
    failed = [r for r in rules if not r.passed and (r.blocking or r.severity == "ERROR")]
    warned = [r for r in rules if not r.passed and r not in failed]
    verdicts = [
        f"{word}: {', '.join(r.name for r in group)}"
        for word, group in (("failed", failed), ("warned", warned))
        if group
    ]
    details = "; ".join(f"{r.name} {describe(r.metadata)}" for r in failed + warned)
    return CheckOutcome(
        CHECK_NAME,
        passed=not failed and not warned,
        blocking=True,
        severity="ERROR" if failed or not warned else "WARN",
        metadata={
            "rule_counts": {r.name: r.count for r in rules},
            "failed_rules": ", ".join(r.name for r in failed) or "none",
            "warned_rules": ", ".join(r.name for r in warned) or "none",
            **{r.name: r.metadata for r in rules},
        },
        count=sum(r.count for r in failed + warned),
        description=f"{'; '.join(verdicts)}. {details}" if verdicts else f"all {len(rules)} rules passed",
    )


def rule_specs(contract: Contract) -> list[CheckSpecInfo]:
    """The rules every silver partition of this contract must pass (one source: the contract)."""
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
            CheckSpecInfo("accepted_values", f"Coded columns hold accepted values only: {cols}.", True, "ERROR")
        )
    if contract.identity:
        severity = identity_change_severity()
        specs.append(
            CheckSpecInfo(
                "identity_stable",
                f"A key keeps its person: {identity_names(contract)} equal its latest earlier snapshot "
                f"({severity}{', blocks publishing' if severity == 'ERROR' else ''}; "
                "BANK_IDENTITY_CHANGE_SEVERITY). Keys are shown masked.",
                severity == "ERROR",
                severity,
            )
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


def identity_names(contract: Contract) -> str:
    return ", ".join("+".join(group) for group in contract.identity)


def masked(key: str) -> str:
    """A business key for check metadata and logs: its first two and last two characters."""
    return key[:2] + "*" * max(len(key) - 4, 1) + key[-2:] if len(key) > 4 else "*" * len(key)


def identity_changes(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date) -> tuple[int, dict, list]:
    """Keys of the staged month whose identity groups differ from the key's latest earlier
    published snapshot: (keys changed, keys per group, masked samples naming the groups)."""
    key = q(contract.key[0])
    norm = lambda c: f"lower(trim(CAST({q(c)} AS VARCHAR)))"  # noqa: E731
    groups = ["+".join(g) for g in contract.identity]
    value = lambda g: " || '|' || ".join(f"coalesce({norm(c)}, '')" for c in g)  # noqa: E731
    before = ", ".join(f"arg_max({value(g)}, _partition_month) AS g{i}" for i, g in enumerate(contract.identity))
    now = ", ".join(f"{value(g)} AS g{i}" for i, g in enumerate(contract.identity))
    differs = ", ".join(f"n.g{i} IS DISTINCT FROM p.g{i}" for i in range(len(groups)))
    rows = con.execute(
        f"""WITH n AS (SELECT {key} AS k, {now} FROM {stage_table(contract)}),
p AS (SELECT {key} AS k, {before} FROM silver.{contract.name}
      WHERE _partition_month < $month AND {key} IN (SELECT k FROM n) GROUP BY {key})
SELECT k, {differs} FROM n JOIN p USING (k)
WHERE {" OR ".join(f"n.g{i} IS DISTINCT FROM p.g{i}" for i in range(len(groups)))} ORDER BY k""",
        {"month": month},
    ).fetchall()
    per_group = {g: sum(1 for r in rows if r[1 + i]) for i, g in enumerate(groups)}
    samples = [
        f"{masked(str(r[0]))}: {', '.join(g for i, g in enumerate(groups) if r[1 + i])}" for r in rows[:SAMPLE_SIZE]
    ]
    return len(rows), per_group, samples


def run_checks(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date) -> list[CheckOutcome]:
    """Evaluate every rule of `rule_specs(contract)` against the staging tables."""
    stage = stage_table(contract)
    rejects = rejects_stage_table(contract)
    params = month_params(month)
    one = lambda sql, p=None: con.execute(sql, p or {}).fetchone()  # noqa: E731
    out: list[CheckOutcome] = []
    specs = {s.name: s for s in rule_specs(contract)}

    def add(name: str, passed: bool, count: int, **meta: object) -> None:
        s = specs[name]
        out.append(CheckOutcome(name, bool(passed), s.blocking, s.severity, meta, int(count)))

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
        rows - distinct,
        rows=rows,
        distinct_keys=distinct,
        duplicate_keys=rows - distinct,
        **({"sample_duplicate_keys": dup_sample} if dup_sample else {}),
    )

    nulls = ", ".join(f"count(*) FILTER (WHERE {q(c.name)} IS NULL)" for c in contract.required_columns)
    counts = one(f"SELECT {nulls} FROM {stage}")
    by_col = {c.name: int(n) for c, n in zip(contract.required_columns, counts, strict=True) if n}
    add("required_not_null", not by_col, sum(by_col.values()), null_counts=by_col or "none", rows=rows)

    # row-level lineage: each bronze row is in silver, in rejects, or a duplicate of a silver key
    part = "b._partition_month = $month"
    typed_keys = ", ".join(
        f"{typed_expr(contract.column(k), contract.name)} AS __k{i}" for i, k in enumerate(contract.key)
    )
    keys_join = " AND ".join(f"k.{q(k)} = b.__k{i}" for i, k in enumerate(contract.key))
    key_null = " OR ".join(f"b.__k{i} IS NULL" for i in range(len(contract.key)))
    keys_sql = ", ".join(q(k) for k in contract.key)
    sql = f"""
WITH b AS (SELECT _source_file, _source_row, {typed_keys} FROM bronze.{contract.name} b WHERE {part}),
s AS (SELECT _source_file, _source_row, count(*) AS n FROM {stage} GROUP BY 1, 2),
r AS (SELECT _source_file, _source_row, count(*) AS n FROM {rejects} GROUP BY 1, 2),
k AS (SELECT DISTINCT {keys_sql} FROM {stage})
SELECT count(b._source_row) AS bronze_rows,
  coalesce(sum(s.n) FILTER (WHERE b._source_row IS NOT NULL), 0) AS silver_rows,
  coalesce(sum(r.n), 0) AS rejects,
  count(*) FILTER (WHERE b._source_row IS NOT NULL AND s._source_row IS NULL AND r._source_row IS NULL
                   AND NOT ({key_null}) AND EXISTS (SELECT 1 FROM k WHERE {keys_join})) AS duplicates_removed,
  count(*) FILTER (WHERE b._source_row IS NOT NULL AND coalesce(s.n, 0) + coalesce(r.n, 0) > 1) AS multiply_placed,
  coalesce(sum(s.n) FILTER (WHERE b._source_row IS NULL), 0) AS silver_rows_without_bronze
FROM b FULL OUTER JOIN s ON s._source_row = b._source_row AND s._source_file = b._source_file
LEFT JOIN r ON r._source_row = b._source_row AND r._source_file = b._source_file"""
    bronze_rows, silver_rows, n_rejects, dups, multi, orphans = one(sql, bind_params(sql, params))
    unaccounted = bronze_rows - silver_rows - n_rejects - dups
    add(
        "reconciles_with_bronze",
        unaccounted == 0 and multi == 0 and orphans == 0,
        abs(unaccounted) + multi + orphans,
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
            inferred,
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
        add("accepted_values", not by_col, sum(by_col.values()), violations=by_col or "none")

    if contract.identity:
        if table_exists(con, f"silver.{contract.name}"):
            changed, per_group, samples = identity_changes(con, contract, month)
        else:
            changed, per_group, samples = 0, {}, []
        add(
            "identity_stable",
            changed == 0,
            changed,
            keys_changed=changed,
            **({"changed_by_attribute": per_group, "sample_keys": samples} if changed else {}),
        )

    if contract.event_column:
        has_stats = table_exists(con, "silver._partition_stats")
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
                0 if abs(change) <= VOLUME_TOLERANCE else abs(round(rows - mean)),
                rows=rows,
                trailing_mean=round(mean, 1),
                change_pct=round(100 * change, 1),
                months=len(trailing),
            )
        else:
            add(
                "volume_vs_trailing",
                True,
                0,
                rows=rows,
                trailing_mean=f"{len(trailing)} earlier months, mean {mean:.0f} rows: too little history to judge",
            )
    return out
