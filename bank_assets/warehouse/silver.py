"""Silver: type, standardize, quarantine and deduplicate one bronze partition (write-audit-publish).

1. ``stage``: bronze rows are cast by the contract into a connection-local staging table; rows
   breaking a rule go to a staging rejects table with a reason code. Re-sent rows are
   deduplicated on the business key: **the row that comes last in the file wins** (a re-send is
   a correction of an earlier row).
2. the caller audits the staging tables (``bank_assets.warehouse.audit``);
3. ``publish``: only if the blocking checks pass, the partition is swapped in, in one
   transaction. Until then readers see the previous state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from bank_assets.contracts import CONTRACTS, CURRENCIES, REPORTING_CURRENCY, Column, Contract


class MissingParentError(RuntimeError):
    """A parent table needed to resolve foreign keys or fx rates has no data for the month."""


def q(name: str) -> str:
    return f'"{name}"'


def typed_expr(c: Column) -> str:
    raw = f"nullif(trim({q(c.name)}), '')"
    if c.type == "code":
        return f"upper({raw})"
    if c.type == "email":
        return f"lower({raw})"
    if c.type in ("id", "text"):
        return raw
    return f"try_cast({raw} AS {c.sql_type})"


def stage_table(contract: Contract) -> str:
    return f"_stage_{contract.name}"


def rejects_stage_table(contract: Contract) -> str:
    return f"_stage_{contract.name}_rejects"


def parent_scope(parent: Contract) -> str:
    """Which parent rows a child row of month $month may point at."""
    if parent.is_snapshot:
        return "_partition_month = $month"  # a snapshot (customers, accounts, reference data): the same month
    return "_partition_month <= $month"  # an event table (loans): anything up to the month


def money_pen_columns(contract: Contract) -> list[str]:
    return [f"{c.name}_pen" for c in contract.money_columns] if contract.currency_column else []


def silver_columns(contract: Contract) -> list[str]:
    return [
        *contract.column_names,
        *money_pen_columns(contract),
        "_source_file",
        "_source_row",
        "_ingested_at",
        "_partition_month",
    ]


def _rules(contract: Contract) -> list[tuple[str, str, str]]:
    """(condition over `t`, reason code, column) in the order they are tested."""
    rules: list[tuple[str, str, str]] = []
    for c in contract.required_columns:
        rules.append((f"t.{q(c.name + '__raw')} IS NULL", "NULL_REQUIRED", c.name))
    for c in contract.columns:
        if c.type in ("date", "timestamp", "money", "decimal", "int"):
            code = {"date": "INVALID_DATE", "timestamp": "INVALID_TIMESTAMP"}.get(c.type, "INVALID_NUMBER")
            rules.append((f"t.{q(c.name + '__raw')} IS NOT NULL AND t.{q(c.name)} IS NULL", code, c.name))
    for c in contract.columns:
        if c.nonnegative:
            rules.append((f"t.{q(c.name)} < 0", "NEGATIVE_AMOUNT", c.name))
    for c in contract.columns:
        if c.accepted:
            values = ", ".join(f"'{v}'" for v in c.accepted)
            code = "UNKNOWN_CURRENCY" if c.accepted == CURRENCIES else "NOT_ACCEPTED"
            rules.append((f"t.{q(c.name)} NOT IN ({values})", code, c.name))
    if contract.event_column:
        e = q(contract.event_column)
        rules.append((f"NOT (t.{e} >= $month AND t.{e} < $next_month)", "OUT_OF_PARTITION", contract.event_column))
    for i, c in enumerate(contract.foreign_keys):
        rules.append((f"t.{q(c.name)} IS NOT NULL AND fk{i}.k IS NULL", "ORPHAN_FK", c.name))
    if contract.currency_column and contract.money_columns:
        cur = q(contract.currency_column)
        rules.append(
            (f"t.{cur} <> '{REPORTING_CURRENCY}' AND fx.rate_to_pen IS NULL", "NO_FX_RATE", contract.currency_column)
        )
    return rules


def stage_sql(contract: Contract, deduplicate: bool = True) -> list[str]:
    """SQL statements building the staging table and staging rejects for one partition."""
    t = contract.name
    part = "_partition_month = $month"
    typed = ",\n    ".join(
        [f"{typed_expr(c)} AS {q(c.name)}" for c in contract.columns]
        + [f"nullif(trim({q(c.name)}), '') AS {q(c.name + '__raw')}" for c in contract.columns]
    )
    joins = []
    for i, c in enumerate(contract.foreign_keys):
        ptable, pcol = c.references.split(".")  # type: ignore[union-attr]
        scope = parent_scope(CONTRACTS[ptable])
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {q(pcol)} AS k FROM silver.{ptable} WHERE {scope}) fk{i} "
            f"ON fk{i}.k = t.{q(c.name)}"
        )
    fx_select = "NULL::DECIMAL(18,6) AS _fx_rate"
    if contract.currency_column and contract.money_columns:
        fx_date = q(contract.fx_date_column or contract.event_column or "")
        joins.append(
            f"LEFT JOIN silver.fx_rates fx ON fx._partition_month = $month "
            f"AND fx.rate_date = CAST(t.{fx_date} AS DATE) AND fx.currency = t.{q(contract.currency_column)}"
        )
        fx_select = (
            f"CASE WHEN t.{q(contract.currency_column)} = '{REPORTING_CURRENCY}' THEN 1 "
            f"ELSE fx.rate_to_pen END::DECIMAL(18,6) AS _fx_rate"
        )
    case = " ".join(f"WHEN {cond} THEN '{code}|{col}'" for cond, code, col in _rules(contract))
    typed_sql = f"""
CREATE OR REPLACE TEMP TABLE _typed AS
WITH t AS (
  SELECT _source_file, _source_row, _ingested_at,
    {typed}
  FROM bronze.{t} WHERE {part}
)
SELECT t.*, {fx_select}, CASE {case} ELSE NULL END AS _reject
FROM t {" ".join(joins)}"""

    pen = (
        ", ".join(
            f"CAST(round({q(c.name)} * _fx_rate, 2) AS DECIMAL(18,2)) AS {q(c.name + '_pen')}"
            for c in contract.money_columns
        )
        if contract.currency_column
        else ""
    )
    key = ", ".join(q(k) for k in contract.key)
    dedupe = f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _source_row DESC) = 1" if deduplicate else ""
    part_value = "$month::DATE"
    cols = ", ".join(q(c) for c in contract.column_names)
    stage = f"""
CREATE OR REPLACE TEMP TABLE {stage_table(contract)} AS
SELECT {cols}{", " + pen if pen else ""}, _source_file, _source_row, _ingested_at, {part_value} AS _partition_month
FROM _typed WHERE _reject IS NULL
{dedupe}
ORDER BY _source_row"""
    record = ", ".join(f"{q(c)} := {q(c + '__raw')}" for c in contract.column_names)
    rejects = f"""
CREATE OR REPLACE TEMP TABLE {rejects_stage_table(contract)} AS
SELECT {part_value} AS _partition_month, _source_file, _source_row,
  split_part(_reject, '|', 1) AS reason_code, split_part(_reject, '|', 2) AS reason_column,
  to_json(struct_pack({record}))::VARCHAR AS record
FROM _typed WHERE _reject IS NOT NULL
ORDER BY _source_row"""
    return [typed_sql, stage, rejects]


def month_params(month: dt.date) -> dict[str, dt.date]:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return {"month": month, "next_month": nxt}


def _bind(sql: str, params: dict[str, dt.date]) -> dict[str, dt.date]:
    return {k: v for k, v in params.items() if f"${k}" in sql}


def require_parents(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date) -> None:
    """Fail early, with a clear message, if a parent the rules need has no data for the month."""
    params = month_params(month)
    needed = [
        (c.references.split(".")[0], parent_scope(CONTRACTS[c.references.split(".")[0]]))
        for c in contract.foreign_keys
        if c.references
    ]
    if contract.currency_column and contract.money_columns:
        needed.append(("fx_rates", "_partition_month = $month"))
    for parent, scope in needed:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'silver' AND table_name = ?", [parent]
        ).fetchone()[0]
        n = (
            con.execute(f"SELECT count(*) FROM silver.{parent} WHERE {scope}", _bind(scope, params)).fetchone()[0]
            if exists
            else 0
        )
        if n == 0:
            raise MissingParentError(
                f"silver.{contract.name} {month:%Y-%m} needs silver.{parent} for {month:%Y-%m}, which is empty: "
                f"materialize silver.{parent} for that month first (a run of all assets does it in order)"
            )


@dataclass(frozen=True)
class StageCounts:
    bronze_rows: int
    silver_rows: int
    rejects: int


def stage(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date, deduplicate: bool = True) -> StageCounts:
    """Build the staging tables for the partition (nothing visible to readers changes)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS silver")
    require_parents(con, contract, month)
    params = month_params(month)
    for sql in stage_sql(contract, deduplicate):
        con.execute(sql, _bind(sql, params))
    con.execute("DROP TABLE IF EXISTS _typed")
    count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    part = "_partition_month = $month"
    bronze = con.execute(f"SELECT count(*) FROM bronze.{contract.name} WHERE {part}", _bind(part, params)).fetchone()[0]
    return StageCounts(
        bronze,
        count(f"SELECT count(*) FROM {stage_table(contract)}"),
        count(f"SELECT count(*) FROM {rejects_stage_table(contract)}"),
    )


def publish(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date, stats: dict[str, int]) -> None:
    """Swap the staged partition in: delete + insert for data, rejects and stats, one transaction."""
    t = contract.name
    where = "_partition_month = $month"
    params = {"month": month}
    try:
        con.execute("BEGIN TRANSACTION")
        for target, source in ((t, stage_table(contract)), (f"{t}_rejects", rejects_stage_table(contract))):
            con.execute(f"CREATE TABLE IF NOT EXISTS silver.{target} AS SELECT * FROM {source} WHERE false")
            con.execute(f"DELETE FROM silver.{target} WHERE {where}", params)
            con.execute(f"INSERT INTO silver.{target} BY NAME SELECT * FROM {source}")
        con.execute("""CREATE TABLE IF NOT EXISTS silver._partition_stats (
            table_name VARCHAR, partition_month DATE, bronze_rows BIGINT, silver_rows BIGINT,
            duplicates_removed BIGINT, rejects BIGINT)""")
        con.execute(
            "DELETE FROM silver._partition_stats WHERE table_name = $t AND partition_month IS NOT DISTINCT FROM $m",
            {"t": t, "m": month},
        )
        con.execute(
            "INSERT INTO silver._partition_stats VALUES ($t, $m, $b, $s, $d, $r)",
            {
                "t": t,
                "m": month,
                "b": stats["bronze_rows"],
                "s": stats["silver_rows"],
                "d": stats["duplicates_removed"],
                "r": stats["rejects"],
            },
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
