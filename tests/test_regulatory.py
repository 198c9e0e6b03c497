"""The liquidity coverage ratio, recomputed independently from the landing files and the documented
parameters (dbt_project.yml vars.lcr), and the treasury's planted half-year Level 2B cap.

The recomputation reads the CSV files with the standard library and does its arithmetic in
``decimal`` (half away from zero, where docs/regulatory.md says each amount is formed): nothing
of the project but the generator that writes the files.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from bank_assets.settings import DBT_PROJECT_DIR

CENT, MICRO = Decimal("0.01"), Decimal("0.000001")
P = {k: Decimal(v) for k, v in yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["lcr"].items()}


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


def rows(landing: Path, table: str, month: str) -> list[dict[str, str]]:
    with (landing / table / month / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def hqla(positions: list[tuple[str, bool, Decimal]]) -> dict[str, Decimal]:
    """BCBS 238 para 49-54 and Annex 1 from (level, encumbered, market value in PEN)."""
    gross = defaultdict(Decimal)
    for level, encumbered, value in positions:
        gross[("ENC" if encumbered and level != "NON_HQLA" else level)] += value
    l1 = gross["LEVEL_1"]
    l2a = cents(gross["LEVEL_2A"] * (1 - P["haircut_level_2a"]))
    l2b = cents(gross["LEVEL_2B"] * (1 - P["haircut_level_2b"]))
    adj15 = max(l2b - cents(15 * (l1 + l2a) / Decimal(85)), l2b - cents(15 * l1 / Decimal(60)), Decimal(0))
    adj40 = max(l2a + l2b - adj15 - cents(2 * l1 / Decimal(3)), Decimal(0))
    return {
        "level_1_pen": l1,
        "level_2a_pen": l2a,
        "level_2b_pen": l2b,
        "cap_adjustment_15_pen": adj15,
        "cap_adjustment_40_pen": adj40,
        "hqla_pen": l1 + l2a + l2b - adj15 - adj40,
        "encumbered_excluded_pen": gross["ENC"],
    }


def recompute_lcr(landing: Path, month: str) -> dict[str, Decimal]:
    """The month's LCR from its landing files (clean files: every row is valid)."""
    rate = {(r["rate_date"], r["currency"]): Decimal(r["rate_to_pen"]) for r in rows(landing, "fx_rates", month)}

    def pen(amount: str, day: str, currency: str) -> Decimal:
        return Decimal(amount) if currency == "PEN" else cents(Decimal(amount) * rate[(day, currency)])

    positions = [
        (r["hqla_level"], r["encumbered"] == "YES", pen(r["market_value"], r["snapshot_date"], r["currency"]))
        for r in rows(landing, "treasury_positions", month)
    ]
    out = hqla(positions)
    segment = {r["customer_id"]: r["segment"] for r in rows(landing, "customers", month)}
    base = defaultdict(Decimal)
    for a in rows(landing, "accounts", month):
        balance = pen(a["balance"], a["snapshot_date"], a["currency"])
        limit = pen(a["credit_limit"] or "0", a["snapshot_date"], a["currency"])
        sme = segment.get(a["customer_id"]) == "SME"
        if a["product"] == "CREDIT_CARD":
            base["cards"] += max(limit + min(balance, Decimal(0)), Decimal(0))
        elif balance > 0 and a["product"] == "CHECKING" and not sme:
            insured = min(balance, P["deposit_insurance_limit_pen"])
            base["stable"] += insured
            base["less_stable"] += balance - insured
        elif balance > 0 and not sme:
            base["less_stable"] += balance
        elif balance > 0 and a["product"] == "CHECKING":
            base["operational"] += balance
        elif balance > 0:
            base["non_operational"] += balance
    out["outflow_retail_stable_pen"] = cents(base["stable"] * P["run_off_retail_stable"])
    out["outflow_retail_less_stable_pen"] = cents(base["less_stable"] * P["run_off_retail_less_stable"])
    out["outflow_operational_pen"] = cents(base["operational"] * P["run_off_operational"])
    out["outflow_non_operational_pen"] = cents(base["non_operational"] * P["run_off_non_operational"])
    out["outflow_undrawn_cards_pen"] = cents(base["cards"] * P["draw_down_undrawn_cards"])
    total = sum((v for k, v in out.items() if k.startswith("outflow_")), Decimal(0))
    due = sum(
        (
            pen(p["amount_due"], p["due_date"], p["currency"])
            for p in rows(landing, "loan_payments", month)
            if int(p["days_past_due"] or 0) < 90
        ),
        Decimal(0),
    )
    inflows = cents(due * P["inflow_rate_performing_loans"])
    capped = cents(min(inflows, total * P["inflow_cap"]))
    out |= {"total_outflows_pen": total, "inflows_pen": inflows, "capped_inflows_pen": capped}
    out["net_cash_outflows_pen"] = total - capped
    out["lcr"] = (out["hqla_pen"] / out["net_cash_outflows_pen"]).quantize(MICRO, ROUND_HALF_UP)
    return out


def test_the_planted_half_year_equities_make_the_level_2b_cap_bind_then_and_only_then():
    from bank_assets.synthetic import World
    from bank_assets.synthetic.months import parse_month
    from bank_assets.synthetic.params import GeneratorConfig, Scale

    world = World(GeneratorConfig(seed=42, scale=Scale.named("tiny")))
    adjustments = {}
    for month in ("2024-05", "2024-06", "2024-07"):
        t = world.table("treasury_positions", parse_month(month)).to_pylist()
        usd = [r for r in world.table("fx_rates", parse_month(month)).to_pylist() if r["currency"] == "USD"][-1]
        positions = [
            (
                r["hqla_level"],
                r["encumbered"] == "YES",
                Decimal(r["market_value"])
                if r["currency"] == "PEN"
                else cents(Decimal(r["market_value"]) * Decimal(usd["rate_to_pen"])),
            )
            for r in t
        ]
        adjustments[month] = hqla(positions)["cap_adjustment_15_pen"]
    assert adjustments["2024-06"] > 0 and adjustments["2024-05"] == 0 and adjustments["2024-07"] == 0


@pytest.mark.slow
def test_lcr_in_gold_equals_an_independent_recomputation_from_the_landing_files(tmp_path, monkeypatch):
    from dagster import instance_for_test

    from bank_assets.run import run_steps
    from bank_assets.synthetic import GeneratorConfig, Scale, generate
    from bank_assets.synthetic.months import parse_month
    from bank_assets.synthetic.params import DefectRates
    from benchmarks.harness import _landing_to_gold_jobs
    from tests.pipeline import resources

    months = ["2024-01", "2024-02"]
    cfg = GeneratorConfig(seed=11, scale=Scale.named("tiny"), defects=DefectRates.clean())
    generate(cfg, [parse_month(m) for m in months], tmp_path / "landing")
    monkeypatch.setenv("BANK_SOURCE_PROFILE", "default")
    (tmp_path / "dagster_home").mkdir()
    through_gold, _ = _landing_to_gold_jobs()
    with instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        assert run_steps(months, instance, resources(tmp_path, mode="files"), job=through_gold)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM gold.lcr_monthly ORDER BY report_month")
        names = [d[0] for d in cur.description]
        gold = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]  # DECIMALs stay Decimal
    assert [str(g["report_month"])[:7] for g in gold] == months
    for g, month in zip(gold, months, strict=True):
        expected = recompute_lcr(tmp_path / "landing", month)
        got = {k: g[k] for k in expected}
        assert got == expected, month
        assert expected["hqla_pen"] > 0 and expected["total_outflows_pen"] > 0
    assert expected["inflows_pen"] > 0  # February has instalments due
