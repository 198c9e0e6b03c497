"""Injected defects: counted in the manifest, at the configured rates, and really in the file."""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from bank_assets.layout import landing_file, manifest_file
from bank_assets.synthetic import DefectRates, GeneratorConfig, World, build
from bank_assets.synthetic.months import parse_month
from bank_assets.synthetic.params import SCALES


@pytest.fixture(scope="module")
def manifest(dirty_landing) -> dict:
    return json.loads(manifest_file(landing_file(dirty_landing, "transactions", "2024-01")).read_text())


def test_rates_are_within_tolerance(manifest):
    n = manifest["clean_rows"]
    rates = DefectRates().as_dict()
    for defect, count in manifest["defects"].items():
        r = rates[defect]
        tolerance = 5 * math.sqrt(r * (1 - r) / n) + 1 / n
        assert abs(count / n - r) <= tolerance, (defect, count, n, r)
    assert manifest["rows"] == n + manifest["defects"]["duplicate_exact"] + manifest["defects"]["resent_changed"]


def test_manifest_matches_what_is_in_the_file(dirty_landing, manifest):
    path = landing_file(dirty_landing, "transactions", "2024-01")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_csv('{path}', all_varchar=true)")
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    d = manifest["defects"]
    assert one("SELECT count(*) FROM t") == manifest["rows"]
    # every full-row copy beyond the first is an exact duplicate
    assert one("SELECT count(*) - count(DISTINCT t) FROM t") == d["duplicate_exact"]
    # re-sent rows share the id but not the values
    assert (
        one("""SELECT count(*) FROM (SELECT transaction_id FROM t WHERE transaction_id <> ''
                  GROUP BY 1 HAVING count(DISTINCT t) > 1)""")
        == d["resent_changed"]
    )
    assert one("SELECT count(*) FROM t WHERE amount LIKE '-%'") == d["negative_amount"]
    assert one("SELECT count(*) FROM t WHERE currency IN ('XXX', 'SOL', 'US$', 'PES')") == d["unknown_currency"]
    assert one("SELECT count(*) FROM t WHERE account_id LIKE 'A9999%'") == d["orphan_fk"]
    assert (
        one("SELECT count(*) FROM t WHERE amount <> '' AND try_cast(amount AS DECIMAL(18,2)) IS NULL")
        == d["non_numeric_amount"]
    )
    assert (
        one("SELECT count(*) FROM t WHERE transaction_ts <> '' AND try_cast(transaction_ts AS TIMESTAMP) IS NULL")
        == d["malformed_date"]
    )
    assert (
        one(
            "SELECT count(*) FROM t WHERE direction <> trim(upper(direction)) OR channel <> trim(upper(channel)) "
            "OR category <> trim(upper(category)) OR txn_type <> trim(upper(txn_type)) "
            "OR currency <> trim(upper(currency))"
        )
        == d["whitespace_case"]
    )


def test_emails_get_case_and_whitespace_defects():
    world = World(GeneratorConfig(seed=3, scale=SCALES["small"], defects=DefectRates(whitespace_case=0.2)))
    table, _, counts = build(world, "customers", parse_month("2024-01"))
    emails = table.column("email").to_pylist()
    odd = [e for e in emails if e != e.strip().lower()]
    assert counts["whitespace_case"] > 0 and odd


def test_clean_mode_injects_nothing():
    world = World(GeneratorConfig(seed=3, scale=SCALES["tiny"], defects=DefectRates.clean()))
    for table in ("customers", "accounts", "transactions"):
        data, clean_rows, counts = build(world, table, parse_month("2024-02"))
        assert data.num_rows == clean_rows and not any(counts.values())
