"""Bronze + silver for one month of transactions: the project's code vs plain DuckDB SQL.

    .venv/bin/python benchmarks/silver_vs_duckdb.py [--scale large] [--repeats 3]

Both sides start from the same landing files and a warehouse holding that month's parents
(accounts, merchants, fx rates in silver). The reference is a hand-written DuckDB script doing
the equivalent work: load the CSV as text, cast, quarantine (nulls, bad dates/numbers, negative
amounts, unknown currencies, orphans, missing fx), deduplicate last-wins, convert to PEN, store
data and rejects. The project additionally runs its audit (checks) and the atomic publish.
Prints medians and the ratio. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from bank_assets.contracts import CONTRACTS
from bank_assets.layout import landing_file
from bank_assets.synthetic import GeneratorConfig, Scale, generate
from bank_assets.synthetic.months import parse_month
from bank_assets.warehouse import audit, bronze, silver

MONTH = "2024-03"
REFERENCE_SQL = """
CREATE OR REPLACE TABLE ref_bronze AS
  SELECT *, row_number() OVER () AS rn FROM read_csv('{path}', all_varchar = true, header = true);
CREATE OR REPLACE TEMP TABLE ref_typed AS
WITH t AS (
  SELECT rn, nullif(trim(transaction_id), '') AS transaction_id, nullif(trim(account_id), '') AS account_id,
    nullif(trim(merchant_id), '') AS merchant_id, nullif(trim(transaction_ts), '') AS ts_raw,
    try_cast(nullif(trim(transaction_ts), '') AS TIMESTAMP) AS transaction_ts,
    nullif(trim(amount), '') AS amount_raw, try_cast(nullif(trim(amount), '') AS DECIMAL(18,2)) AS amount,
    upper(nullif(trim(currency), '')) AS currency, upper(nullif(trim(direction), '')) AS direction,
    upper(nullif(trim(txn_type), '')) AS txn_type, upper(nullif(trim(category), '')) AS category,
    upper(nullif(trim(channel), '')) AS channel
  FROM ref_bronze)
SELECT t.*, CASE WHEN t.currency = 'PEN' THEN 1 ELSE fx.rate_to_pen END AS rate,
  CASE
    WHEN transaction_id IS NULL OR t.account_id IS NULL OR ts_raw IS NULL OR amount_raw IS NULL OR t.currency IS NULL
      OR direction IS NULL OR txn_type IS NULL OR category IS NULL OR channel IS NULL THEN 'NULL_REQUIRED'
    WHEN t.transaction_ts IS NULL THEN 'INVALID_TIMESTAMP'
    WHEN t.amount IS NULL THEN 'INVALID_NUMBER'
    WHEN t.amount < 0 THEN 'NEGATIVE_AMOUNT'
    WHEN t.currency NOT IN ('PEN', 'USD', 'EUR') THEN 'UNKNOWN_CURRENCY'
    WHEN t.transaction_ts < DATE '{start}' OR t.transaction_ts >= DATE '{end}' THEN 'OUT_OF_PARTITION'
    WHEN a.a_id IS NULL THEN 'ORPHAN_FK'
    WHEN t.merchant_id IS NOT NULL AND m.m_id IS NULL THEN 'ORPHAN_FK'
    WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE'
  END AS reason
FROM t
LEFT JOIN (SELECT DISTINCT account_id AS a_id FROM silver.accounts WHERE _partition_month = DATE '{start}') a
  ON a.a_id = t.account_id
LEFT JOIN (SELECT merchant_id AS m_id FROM silver.merchants) m ON m.m_id = t.merchant_id
LEFT JOIN (SELECT rate_date AS fx_date, currency AS fx_cur, rate_to_pen FROM silver.fx_rates) fx
  ON fx.fx_date = CAST(t.transaction_ts AS DATE) AND fx.fx_cur = t.currency;
CREATE OR REPLACE TABLE ref_silver AS
  SELECT transaction_id, account_id, merchant_id, transaction_ts, amount, currency, direction, txn_type, category,
    channel, CAST(round(amount * rate, 2) AS DECIMAL(18,2)) AS amount_pen, rn
  FROM ref_typed WHERE reason IS NULL
  QUALIFY row_number() OVER (PARTITION BY transaction_id ORDER BY rn DESC) = 1;
CREATE OR REPLACE TABLE ref_rejects AS SELECT rn, reason FROM ref_typed WHERE reason IS NOT NULL;
"""


def prepare(root: Path, scale: str) -> tuple[Path, Path]:
    landing = root / "landing"
    generate(GeneratorConfig(seed=42, scale=Scale.named(scale)), [parse_month(MONTH)], landing)
    base = root / "base.duckdb"
    month = dt.date.fromisoformat(f"{MONTH}-01")
    now = dt.datetime(2026, 1, 1)
    with duckdb.connect(str(base)) as con:
        for t in ("fx_rates", "branches", "merchants", "customers", "accounts"):
            c = CONTRACTS[t]
            m = month if c.is_monthly else None
            bronze.load(con, c, landing_file(landing, t, MONTH if c.is_monthly else None), m, now)
            silver.stage(con, c, m)
            outcome = {o.name: o for o in audit.run_checks(con, c, m)}["reconciles_with_bronze"].metadata
            silver.publish(
                con, c, m, {k: int(outcome[k]) for k in ("bronze_rows", "silver_rows", "duplicates_removed", "rejects")}
            )
    return landing, base


def project_run(landing: Path, db: Path) -> int:
    c = CONTRACTS["transactions"]
    month = dt.date.fromisoformat(f"{MONTH}-01")
    with duckdb.connect(str(db)) as con:
        bronze.load(con, c, landing_file(landing, "transactions", MONTH), month, dt.datetime(2026, 1, 1))
        silver.stage(con, c, month)
        checks = audit.run_checks(con, c, month)
        counts = {o.name: o for o in checks}["reconciles_with_bronze"].metadata
        stats = {k: int(counts[k]) for k in ("bronze_rows", "silver_rows", "duplicates_removed", "rejects")}
        silver.publish(con, c, month, stats)
        return stats["silver_rows"]


def reference_run(landing: Path, db: Path) -> int:
    path = landing_file(landing, "transactions", MONTH)
    end = f"{MONTH[:4]}-{int(MONTH[5:]) + 1:02d}-01"
    with duckdb.connect(str(db)) as con:
        con.execute(REFERENCE_SQL.format(path=path, start=f"{MONTH}-01", end=end))
        return con.execute("SELECT count(*) FROM ref_silver").fetchone()[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", default="large")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing, base = prepare(root, args.scale)
        times: dict[str, list[float]] = {"project": [], "reference": []}
        rows = {}
        for i in range(args.repeats):
            for name, fn in (("reference", reference_run), ("project", project_run)):
                db = root / f"{name}-{i}.duckdb"
                shutil.copy(base, db)
                t0 = time.perf_counter()
                rows[name] = fn(landing, db)
                times[name].append(time.perf_counter() - t0)
                db.unlink()
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"transactions {MONTH} at scale {args.scale}, median of {args.repeats}")
        for k in ("reference", "project"):
            print(f"  {k:<9} {med[k]:6.2f} s   silver rows {rows[k]:,}")
        print(f"  ratio project / plain DuckDB: {med['project'] / med['reference']:.2f}")


if __name__ == "__main__":
    main()
