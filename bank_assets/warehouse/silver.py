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

from bank_assets.contracts import (
    BANK_TIMEZONE,
    BANK_UTC_OFFSET_MINUTES,
    CONTRACTS,
    CURRENCIES,
    FORMATS,
    MAX_TEXT_LENGTH,
    NULL_TOKENS,
    REPORTING_CURRENCY,
    Column,
    Contract,
    Pseudonym,
)
from bank_assets.lakehouse.profile import create_partitioned, retry_on_conflict, table_exists
from bank_assets.pseudonym import FUNCTION_NAME, register_pseudonym
from bank_assets.source_profile import TableSource, active_profile, format_regex
from bank_assets.warehouse.connection import rollback_if_open
from bank_assets.warehouse.journal import Saver, Scope, month_scope


class MissingParentError(RuntimeError):
    """A parent table needed to resolve foreign keys or fx rates has no data for the month."""


def q(name: str) -> str:
    return f'"{name}"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: What landing values are trimmed of: spaces, tabs and line ends.
_WHITESPACE = "' ' || chr(9) || chr(10) || chr(13)"


def raw_expr(column: str, null_tokens: tuple[str, ...] = NULL_TOKENS) -> str:
    """The landing text with spaces, tabs and line ends trimmed; NULL for the null tokens.

    Most values have nothing to trim: when the first character is above the space character and
    the last is none of the trimmed ones, the value is used as it is, and DuckDB's trim (slow with
    a character set: ~0.3 s per column of a million rows) only runs on the others; the token list
    is only compared with values as short as its longest token. Same result either way.

    The tokens are a ``list_contains`` list, not an ``IN (...)`` list: DuckDB plans a long IN list
    as a join over every row, evaluating the trim for all of them whatever the CASE says (a large
    month's transactions: the typing query 2.4 s -> 1.6-1.8 s, the same rows)."""
    c = q(column)
    tokens = "[" + ", ".join(lit(t) for t in null_tokens) + "]"
    longest = max(len(t) for t in null_tokens)
    is_token = lambda v: f"length({v}) <= {longest} AND list_contains({tokens}, {v})"  # noqa: E731
    null_if_token = lambda v: f"CASE WHEN {is_token(v)} THEN NULL ELSE {v} END"  # noqa: E731
    trimmed = f"trim({c}, {_WHITESPACE})"
    untrimmed_end = " AND ".join(f"NOT ends_with({c}, {ch})" for ch in _WHITESPACE.split(" || "))
    return f"CASE WHEN ascii({c}) > 32 AND {untrimmed_end} THEN {null_if_token(c)} ELSE {null_if_token(trimmed)} END"


def _timestamp_expr(r: str) -> str:
    """'YYYY-MM-DD[ T]HH:MM:SS[offset]' -> bank-local TIMESTAMP (offsets converted, see contracts)."""
    local = f"try_strptime(left({r}, 10) || ' ' || substr({r}, 12, 8), '%Y-%m-%d %H:%M:%S')"
    offset = (
        f"CASE WHEN length({r}) = 19 THEN {BANK_UTC_OFFSET_MINUTES} WHEN substr({r}, 20) = 'Z' THEN 0 "
        f"ELSE (CASE WHEN substr({r}, 20, 1) = '-' THEN -1 ELSE 1 END) "
        f"* (CAST(substr({r}, 21, 2) AS INTEGER) * 60 + CAST(substr({r}, 24, 2) AS INTEGER)) END"
    )
    return f"{local} + to_minutes(CAST({BANK_UTC_OFFSET_MINUTES} - ({offset}) AS BIGINT))"


def typed_from_raw(c: Column, r: str, source: TableSource | None = None) -> str:
    """The silver value of column `c` from its raw text `r` (NULL when it breaks the format).
    `source` (a source profile's table) declares the formats; None or the built-in dialect keeps
    the contract's ``FORMATS``."""
    if c.type == "code":
        return f"upper({r})"
    if c.type == "email":
        return f"lower({r})"
    if c.type in ("id", "text"):
        return r
    if source is not None and not source.is_default_text:
        return _typed_in_dialect(c, r, source)
    valid = f"regexp_full_match({r}, {lit(FORMATS[c.type])})"
    if c.type == "date":
        value = f"CAST(try_strptime({r}, '%Y-%m-%d') AS DATE)"
    elif c.type == "timestamp":
        value = _timestamp_expr(r)
    else:
        value = f"TRY_CAST({r} AS {c.sql_type})"
    return f"CASE WHEN {valid} THEN {value} END"


#: digits before and after the decimal separator a number column accepts (as ``FORMATS``)
NUMBER_DIGITS = {"money": (16, 2), "decimal": (12, 6), "int": (9, 0)}


def number_pattern(kind: str, source: TableSource) -> str:
    """RE2 pattern of a number in `source`'s separators: an optional '-', digits (grouped by
    threes with the thousands separator, when declared, or not grouped at all), the decimals."""
    digits, decimals = NUMBER_DIGITS[kind]
    t, d = source.thousands_separator, source.decimal_separator
    whole = f"[0-9]{{1,{digits}}}"
    if t is not None:
        whole = f"([0-9]{{1,3}}({_re2_escape(t)}[0-9]{{3}})+|{whole})"
    frac = f"({_re2_escape(d)}[0-9]{{1,{decimals}}})?" if decimals else ""
    return f"-?{whole}{frac}"


def _re2_escape(ch: str) -> str:
    return "\\" + ch if ch in ".^$*+?()[]{}|\\" else ch


def _typed_in_dialect(c: Column, r: str, source: TableSource) -> str:
    """A date, timestamp or number written as `source` declares (exact match, then parse)."""
    if c.type == "date":
        valid = f"regexp_full_match({r}, {lit(format_regex(source.date_format))})"
        return f"CASE WHEN {valid} THEN CAST(try_strptime({r}, {lit(source.date_format)}) AS DATE) END"
    if c.type == "timestamp":
        if source.timestamp_format is None:
            valid = f"regexp_full_match({r}, {lit(FORMATS['timestamp'])})"
            iso = _timestamp_expr(r)
            naive = f"try_strptime(left({r}, 10) || ' ' || substr({r}, 12, 8), '%Y-%m-%d %H:%M:%S')"
            local = f"CASE WHEN length({r}) = 19 THEN {_to_bank_time(naive, source)} ELSE {iso} END"
            return f"CASE WHEN {valid} THEN {local} END"
        valid = f"regexp_full_match({r}, {lit(format_regex(source.timestamp_format))})"
        value = f"try_strptime({r}, {lit(source.timestamp_format)})"
        return f"CASE WHEN {valid} THEN {_to_bank_time(value, source)} END"
    plain = r
    if source.thousands_separator is not None:
        plain = f"replace({plain}, {lit(source.thousands_separator)}, '')"
    if source.decimal_separator != ".":
        plain = f"replace({plain}, {lit(source.decimal_separator)}, '.')"
    valid = f"regexp_full_match({r}, {lit(number_pattern(c.type, source))})"
    return f"CASE WHEN {valid} THEN TRY_CAST({plain} AS {c.sql_type}) END"


def _to_bank_time(naive: str, source: TableSource) -> str:
    """A naive timestamp in the profile's time zone as bank time (America/Lima)."""
    if source.timezone == BANK_TIMEZONE:
        return naive
    return f"timezone({lit(BANK_TIMEZONE)}, timezone({lit(source.timezone)}, {naive}))"


def source_of(table: str) -> TableSource:
    """The table's settings in the source profile in force."""
    return active_profile().table(table)


def typed_expr(c: Column, table: str | None = None) -> str:
    """Silver value of `c` straight from the bronze column of `table` (for audits of bronze keys)."""
    source = source_of(table) if table else None
    tokens = source.null_tokens if source else NULL_TOKENS
    return typed_from_raw(c, f"({raw_expr(c.name, tokens)})", source)


def stage_table(contract: Contract) -> str:
    return f"_stage_{contract.name}"


def rejects_stage_table(contract: Contract) -> str:
    return f"_stage_{contract.name}_rejects"


def parent_scope(parent: Contract) -> str:
    """Which parent rows a child row of month $month links to as VALID."""
    if parent.is_snapshot:
        return "_partition_month = $month"  # a snapshot (customers, accounts, reference data): the same month
    return "_partition_month <= $month"  # an event table (loans): anything up to the month


#: How a child row's foreign key found its parent (silver column ``_<fk>_parent``):
#: VALID: a published parent row of the month (for snapshots) or of any month up to it (events);
#: QUARANTINED: the parent key is in the month's bronze (or, for events, any earlier bronze) but
#: its row was quarantined; EARLIER_MONTH: a snapshot parent seen only in an earlier month.
#: A key never seen anywhere is ORPHAN_FK (rejected). The child is kept in the first three cases.
PARENT_STATUS = ("VALID", "QUARANTINED", "EARLIER_MONTH")


def parent_status_column(fk: Column) -> str:
    return f"_{fk.name}_parent"


def parent_keys_sql(fk: Column, child: Contract) -> str:
    """Every key the child's month links to, with its best PARENT_STATUS rank (0 = VALID).

    Only keys the child's bronze month holds are ranked: the result is LEFT JOINed on the key, so
    the others could never match, and grouping every key a big parent ever had is the cost (fraud
    alerts -> transactions on a large month: 2.2M keys grouped, 0.84 s, for 68k alerts)."""
    ptable, pcol = fk.references.split(".")  # type: ignore[union-attr]
    parent = CONTRACTS[ptable]
    bronze_key = f"({raw_expr(pcol, source_of(ptable).null_tokens)})"
    if parent.is_snapshot:
        parts = [
            f"SELECT {q(pcol)} AS k, 0 AS rank FROM silver.{ptable} WHERE _partition_month = $month",
            f"SELECT {bronze_key}, 1 FROM bronze.{ptable} WHERE _partition_month = $month",
            f"SELECT {q(pcol)}, 2 FROM silver.{ptable} WHERE _partition_month < $month",
            f"SELECT {bronze_key}, 2 FROM bronze.{ptable} WHERE _partition_month < $month",
        ]
    else:
        parts = [
            f"SELECT {q(pcol)} AS k, 0 AS rank FROM silver.{ptable} WHERE _partition_month <= $month",
            f"SELECT {bronze_key}, 1 FROM bronze.{ptable} WHERE _partition_month <= $month",
        ]
    wanted = f"SELECT {typed_expr(fk, child.name)} FROM bronze.{child.name} WHERE _partition_month = $month"
    return (
        f"SELECT k, min(rank) AS rank FROM ({' UNION ALL '.join(parts)}) "
        f"WHERE k IS NOT NULL AND k IN ({wanted}) GROUP BY k"
    )


def money_pen_columns(contract: Contract) -> list[str]:
    return [f"{c.name}_pen" for c in contract.money_columns] if contract.currency_column else []


def derived_columns(contract: Contract) -> list[str]:
    """Columns silver adds to the contract's: amounts in PEN, how each foreign key resolved,
    keyed pseudonyms of PII."""
    return [
        *money_pen_columns(contract),
        *(parent_status_column(c) for c in contract.foreign_keys),
        *(p.name for p in contract.pseudonyms),
    ]


def pseudonym_expr(p: Pseudonym) -> str:
    if len(p.columns) == 1:
        return f"{FUNCTION_NAME}({q(p.columns[0])})"
    parts = ", ".join(f"coalesce({q(c)}, '')" for c in p.columns)
    return f"{FUNCTION_NAME}(concat_ws('|', {parts}))"


def silver_columns(contract: Contract) -> list[str]:
    return [
        *contract.column_names,
        *derived_columns(contract),
        "_source_file",
        "_source_row",
        "_ingested_at",
        "_partition_month",
    ]


def fx_rate_expr(contract: Contract) -> str:
    """PEN per unit of the row's currency (1 for PEN; NULL when the month has no rate)."""
    return (
        f"(CASE WHEN t.{q(contract.currency_column or '')} = '{REPORTING_CURRENCY}' THEN 1 "
        f"ELSE fx.rate_to_pen END)::DECIMAL(18,6)"
    )


#: Largest absolute amount a DECIMAL(18,2) holds once rounded to cents.
_MONEY_LIMIT = "9999999999999999.995"


def _rules(contract: Contract) -> list[tuple[str, str, str]]:
    """(condition over `t`, reason code, column) in the order they are tested."""
    raw = lambda name: f"t.{q(name + '__raw')}"  # noqa: E731
    rules: list[tuple[str, str, str]] = []
    for c in contract.required_columns:
        rules.append((f"{raw(c.name)} IS NULL", "NULL_REQUIRED", c.name))
    for c in contract.columns:
        if c.type in ("id", "text", "email") or (c.type == "code" and not c.accepted):
            rules.append((f"length({raw(c.name)}) > {MAX_TEXT_LENGTH}", "VALUE_TOO_LONG", c.name))
            rules.append((f"regexp_matches({raw(c.name)}, '[[:cntrl:]]')", "CONTROL_CHARACTER", c.name))
    for c in contract.columns:
        if c.type in ("date", "timestamp", "money", "decimal", "int"):
            code = {"date": "INVALID_DATE", "timestamp": "INVALID_TIMESTAMP"}.get(c.type, "INVALID_NUMBER")
            rules.append((f"{raw(c.name)} IS NOT NULL AND t.{q(c.name)} IS NULL", code, c.name))
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
        for c in contract.money_columns:
            amount = f"CAST(abs(t.{q(c.name)}) AS DECIMAL(38,2))"  # DECIMAL(18,2)*(18,6) would overflow
            rules.append((f"{amount} * {fx_rate_expr(contract)} > {_MONEY_LIMIT}", "FX_OVERFLOW", c.name))
    return rules


def stage_sql(contract: Contract, deduplicate: bool = True) -> list[str]:
    """SQL statements building the staging table and staging rejects for one partition."""
    t = contract.name
    part = "_partition_month = $month"
    source = source_of(t)
    raws = ",\n    ".join(f"{raw_expr(c.name, source.null_tokens)} AS {q(c.name + '__raw')}" for c in contract.columns)
    typed = ",\n    ".join(f"{typed_from_raw(c, q(c.name + '__raw'), source)} AS {q(c.name)}" for c in contract.columns)
    joins, extra = [], []
    for i, c in enumerate(contract.foreign_keys):
        joins.append(f"LEFT JOIN ({parent_keys_sql(c, contract)}) fk{i} ON fk{i}.k = t.{q(c.name)}")
        labels = ", ".join(lit(s) for s in PARENT_STATUS)
        extra.append(
            f"CASE WHEN t.{q(c.name)} IS NOT NULL THEN [{labels}][fk{i}.rank + 1] END AS {q(parent_status_column(c))}"
        )
    if contract.currency_column and contract.money_columns:
        fx_date = q(contract.fx_date_column or contract.event_column or "")
        joins.append(
            f"LEFT JOIN silver.fx_rates fx ON fx._partition_month = $month "
            f"AND fx.rate_date = CAST(t.{fx_date} AS DATE) AND fx.currency = t.{q(contract.currency_column)}"
        )
        extra.append(f"{fx_rate_expr(contract)} AS _fx_rate")
    else:
        extra.append("NULL::DECIMAL(18,6) AS _fx_rate")
    case = " ".join(f"WHEN {cond} THEN '{code}|{col}'" for cond, code, col in _rules(contract))
    # _typed keeps the landing values only as the JSON record of a rejected row: a valid row
    # carries its typed columns alone (half the width to materialize).
    raw_names = ", ".join(q(c.name + "__raw") for c in contract.columns)
    record = ", ".join(f"{q(c)} := {q(c + '__raw')}" for c in contract.column_names)
    typed_sql = f"""
CREATE OR REPLACE TEMP TABLE _typed AS
WITH r AS (
  SELECT _source_file, _source_row, _ingested_at,
    {raws}
  FROM bronze.{t} WHERE {part}
), t AS (
  SELECT r.*,
    {typed}
  FROM r
), checked AS (
  SELECT t.*, {", ".join(extra)}, CASE {case} ELSE NULL END AS _reject
  FROM t {" ".join(joins)}
)
SELECT * EXCLUDE ({raw_names}),
  CASE WHEN _reject IS NOT NULL THEN to_json(struct_pack({record}))::VARCHAR END AS _record
FROM checked"""

    # A rate of exactly 1 (PEN) leaves the amount as it is: no DECIMAL(38) product for most rows.
    pen = (
        [
            f"CASE WHEN _fx_rate = 1 THEN {q(c.name)} "
            f"ELSE CAST(round(CAST({q(c.name)} AS DECIMAL(38,2)) * _fx_rate, 2) AS DECIMAL(18,2)) END "
            f"AS {q(c.name + '_pen')}"
            for c in contract.money_columns
        ]
        if contract.currency_column
        else []
    )
    statuses = [q(parent_status_column(c)) for c in contract.foreign_keys]
    statuses += [f"{pseudonym_expr(p)} AS {q(p.name)}" for p in contract.pseudonyms]
    key = ", ".join(q(k) for k in contract.key)
    last = "_source_file DESC, _source_row DESC"  # the month's files in path order, then the file's rows
    dedupe = f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {last}) = 1" if deduplicate else ""
    part_value = "$month::DATE"
    cols = ", ".join([*(q(c) for c in contract.column_names), *pen, *statuses])
    stage = f"""
CREATE OR REPLACE TEMP TABLE {stage_table(contract)} AS
SELECT {cols}, _source_file, _source_row, _ingested_at, {part_value} AS _partition_month
FROM _typed WHERE _reject IS NULL
{dedupe}
ORDER BY _source_file, _source_row"""
    rejects = f"""
CREATE OR REPLACE TEMP TABLE {rejects_stage_table(contract)} AS
SELECT {part_value} AS _partition_month, _source_file, _source_row,
  split_part(_reject, '|', 1) AS reason_code, split_part(_reject, '|', 2) AS reason_column,
  _record AS record
FROM _typed WHERE _reject IS NOT NULL
ORDER BY _source_file, _source_row"""
    return [typed_sql, stage, rejects]


def require_same_profile(con: duckdb.DuckDBPyConnection, contract: Contract, month: dt.date) -> None:
    """Refuse to type a bronze month with formats other than those of the profile that loaded it."""
    from bank_assets.warehouse.bronze import ProfileChangedError, loaded_profile

    recorded = loaded_profile(con, contract.name, month)
    source = source_of(contract.name)
    if recorded is not None and recorded[1] != source.digest:
        raise ProfileChangedError(
            f"silver.{contract.name} {month:%Y-%m}: bronze loaded the month with source profile {recorded[0]} "
            f"({contract.name} settings {recorded[1]}), but the profile in force is {active_profile().label} "
            f"({contract.name} settings {source.digest}): re-materialize bronze for the month with the bronze "
            "config accept_new_profile: true, or restore the profile"
        )


def month_params(month: dt.date) -> dict[str, dt.date]:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return {"month": month, "next_month": nxt}


def bind_params(sql: str, params: dict[str, dt.date]) -> dict[str, dt.date]:
    """The `params` whose ``$name`` the statement uses (DuckDB refuses unused named parameters)."""
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
        exists = table_exists(con, f"silver.{parent}")
        n = (
            con.execute(f"SELECT count(*) FROM silver.{parent} WHERE {scope}", bind_params(scope, params)).fetchone()[0]
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
    require_same_profile(con, contract, month)
    require_parents(con, contract, month)
    if contract.pseudonyms:
        register_pseudonym(con)
    params = month_params(month)
    for sql in stage_sql(contract, deduplicate):
        con.execute(sql, bind_params(sql, params))
    con.execute("DROP TABLE IF EXISTS _typed")
    count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    part = "_partition_month = $month"
    sql = f"SELECT count(*) FROM bronze.{contract.name} WHERE {part}"
    bronze = con.execute(sql, bind_params(part, params)).fetchone()[0]
    return StageCounts(
        bronze,
        count(f"SELECT count(*) FROM {stage_table(contract)}"),
        count(f"SELECT count(*) FROM {rejects_stage_table(contract)}"),
    )


def publish_scopes(contract: Contract, month: dt.date) -> list[Scope]:
    """What publishing a month replaces: its rows, its rejects and its stats row."""
    t = contract.name
    return [
        month_scope(f"silver.{t}", "_partition_month", month),
        month_scope(f"silver.{t}_rejects", "_partition_month", month),
        Scope("silver._partition_stats", f"table_name = '{t}' AND partition_month = DATE '{month:%Y-%m-%d}'"),
    ]


def publish(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    month: dt.date,
    stats: dict[str, int],
    save: Saver | None = None,
) -> None:
    """Swap the staged partition in: delete + insert for data, rejects and stats, one transaction.
    `save` (the run journal) copies what is replaced, inside that transaction."""
    t = contract.name
    where = "_partition_month = $month"
    params = {"month": month}

    def attempt() -> None:
        try:
            con.execute("BEGIN TRANSACTION")
            create_partitioned(
                con,
                "silver._partition_stats",
                """CREATE TABLE IF NOT EXISTS silver._partition_stats (
                table_name VARCHAR, partition_month DATE, bronze_rows BIGINT, silver_rows BIGINT,
                duplicates_removed BIGINT, rejects BIGINT)""",
                "partition_month",
            )
            if save is not None:
                save(*publish_scopes(contract, month))
            for target, source in ((t, stage_table(contract)), (f"{t}_rejects", rejects_stage_table(contract))):
                create_partitioned(
                    con,
                    f"silver.{target}",
                    f"CREATE TABLE IF NOT EXISTS silver.{target} AS SELECT * FROM {source} WHERE false",
                    "_partition_month",
                )
                con.execute(f"DELETE FROM silver.{target} WHERE {where}", params)
                con.execute(f"INSERT INTO silver.{target} BY NAME SELECT * FROM {source}")
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
            rollback_if_open(con)
            raise

    retry_on_conflict(attempt, what=f"silver.{t} {month:%Y-%m}")
