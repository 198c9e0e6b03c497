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


#: eleven months: the first two loan cohorts' 9-month outcome windows close by the last one
MONTHS = [f"2024-{m:02d}" for m in range(1, 12)]
#: the gold tables these tests read
READ = (
    "lcr_monthly",
    "ifrs9_pd_monthly",
    "ifrs9_loan_stage_monthly",
    "ifrs9_ecl_monthly",
    "ifrs9_stage_migration_monthly",
    "aml_alerts",
)
#: declared floors of the AML rules on the planted cases (tiny bank, 11 months)
AML_RECALL_FLOOR, AML_PRECISION_FLOOR = 0.95, 0.80


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """MONTHS of a clean tiny bank whose customers apply for credit five times as often (enough
    loans for the default rates), landing -> the gold tables read here (READ) and everything they
    are built from, with their checks; built once for this module."""
    from dagster import AssetKey, AssetSelection, define_asset_job

    from bank_assets.run import run_steps
    from bank_assets.synthetic import Behaviour, GeneratorConfig, Scale, generate
    from bank_assets.synthetic.months import parse_month
    from bank_assets.synthetic.params import DefectRates
    from tests.pipeline import project_instance, resources

    root = tmp_path_factory.mktemp("regulatory")
    cfg = GeneratorConfig(
        seed=11,
        scale=Scale.named("tiny"),
        defects=DefectRates.clean(),
        behaviour=Behaviour(credit_application_rate=0.5),
    )
    generate(cfg, [parse_month(m) for m in MONTHS], root / "landing")
    (root / "dagster_home").mkdir()
    selection = AssetSelection.assets(*(AssetKey(["gold", t]) for t in READ)).upstream()
    through_gold = define_asset_job("regulatory_marts", selection=selection)
    with pytest.MonkeyPatch.context() as mp, project_instance(temp_dir=str(root / "dagster_home")) as instance:
        mp.setenv("BANK_SOURCE_PROFILE", "default")
        assert run_steps(MONTHS, instance, resources(root, mode="files"), job=through_gold, per_run=len(MONTHS))
    return root, cfg


def gold_rows(root: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]  # DECIMALs stay Decimal


@pytest.mark.slow
def test_lcr_in_gold_equals_an_independent_recomputation_from_the_landing_files(built):
    root, _ = built
    gold = gold_rows(root, "SELECT * FROM gold.lcr_monthly ORDER BY report_month")
    assert [str(g["report_month"])[:7] for g in gold] == MONTHS
    for g, month in zip(gold, MONTHS, strict=True):
        expected = recompute_lcr(root / "landing", month)
        got = {k: g[k] for k in expected}
        assert got == expected, month
        assert expected["hqla_pen"] > 0 and expected["total_outflows_pen"] > 0
    assert expected["inflows_pen"] > 0  # the last month has instalments due


PD_COLUMNS = (
    "observed_default_rate",
    "observed_pd_12m",
    "credibility_weight",
    "pd_12m_ttc",
    "policy_rate_change_pp",
    "pd_12m",
)


@pytest.mark.slow
def test_ifrs9_pd_equals_an_independent_recomputation(built):
    from tests.recompute_ifrs9 import Landing, recompute_pd

    root, _ = built
    expected = recompute_pd(Landing(root / "landing", MONTHS))
    gold = gold_rows(root, "SELECT * FROM gold.ifrs9_pd_monthly")
    assert len(gold) == len(expected) == len(MONTHS) * 5
    for g in gold:
        e = expected[(str(g["report_month"])[:7], g["product"])]
        assert (g["n_loans_observed"], g["n_defaults_observed"]) == (e.n, e.d), g
        assert {c: g[c] for c in PD_COLUMNS} == {c: getattr(e, c) for c in PD_COLUMNS}, g
    last = {g["product"]: g for g in gold if str(g["report_month"])[:7] == MONTHS[-1]}
    assert last["PERSONAL"]["n_loans_observed"] > 20 and last["PERSONAL"]["n_defaults_observed"] > 0


@pytest.mark.slow
def test_ifrs9_stages_exposures_and_ecl_equal_an_independent_recomputation(built):
    from collections import Counter

    from tests.recompute_ifrs9 import Landing, recompute_stages

    root, _ = built
    expected = recompute_stages(Landing(root / "landing", MONTHS))
    gold = gold_rows(root, "SELECT * FROM gold.ifrs9_loan_stage_monthly")
    got = {(str(g["report_month"])[:7], g["exposure_id"]): g for g in gold}
    assert got.keys() == expected.keys()
    for key, e in expected.items():
        assert {c: got[key][c] for c in e} == e, key
    stages = Counter((g["exposure_type"], g["stage"], g["stage_reason"]) for g in gold)
    assert stages[("LOAN", 3, "DPD_90_PLUS")] > 0 and stages[("LOAN", 2, "DPD_30_PLUS")] > 0, stages
    assert stages[("LOAN", 1, "PERFORMING")] > 0 and stages[("CARD", 1, "PERFORMING")] > 0, stages

    # the allowance per group and its month-on-month charge
    groups: dict[tuple, Decimal] = defaultdict(Decimal)
    for (month, _), e in expected.items():
        groups[(month, e["segment"], e["product"], e["stage"])] += e["ecl_pen"]
    ecl = gold_rows(root, "SELECT * FROM gold.ifrs9_ecl_monthly")
    for g in ecl:
        month = str(g["report_month"])[:7]
        key = (g["segment"], g["product"], g["stage"])
        previous = MONTHS[MONTHS.index(month) - 1] if month != MONTHS[0] else None
        assert g["ecl_pen"] == groups.get((month, *key), Decimal(0)), g
        assert g["previous_ecl_pen"] == groups.get((previous, *key), Decimal(0)), g
    assert {
        (str(g["report_month"])[:7], g["segment"], g["product"], g["stage"]) for g in ecl if g["n_exposures"]
    } == set(groups)


@pytest.mark.slow
def test_ifrs9_migration_matrix_moves_every_loan_once(built):
    root, _ = built
    loans = gold_rows(
        root, "SELECT report_month, stage FROM gold.ifrs9_loan_stage_monthly WHERE exposure_type = 'LOAN'"
    )
    matrix = gold_rows(root, "SELECT * FROM gold.ifrs9_stage_migration_monthly")
    by_stage: dict[tuple[str, str], int] = defaultdict(int)
    for r in loans:
        by_stage[(str(r["report_month"])[:7], str(r["stage"]))] += 1
    into: dict[tuple[str, str], int] = defaultdict(int)
    out_of: dict[tuple[str, str], int] = defaultdict(int)
    for r in matrix:
        month = str(r["report_month"])[:7]
        into[(month, r["to_stage"])] += r["n_loans"]
        if r["from_stage"] != "NEW":
            out_of[(MONTHS[MONTHS.index(month) - 1], r["from_stage"])] += r["n_loans"]
    assert {k: v for k, v in into.items() if k[1] != "EXIT"} == dict(by_stage)
    assert dict(out_of) == {k: v for k, v in by_stage.items() if k[0] != MONTHS[-1]}
    assert any(r["to_stage"] == "EXIT" for r in matrix) and any(r["from_stage"] == "NEW" for r in matrix)


@pytest.mark.slow
def test_the_observed_default_rate_recovers_the_planted_one(built):
    """The generator's own default probability of each observed loan (params.DefaultModel), averaged
    per product, lies inside gold's 95 % Wilson interval of the observed rate."""
    import numpy as np
    from scipy.special import expit

    from bank_assets.contracts import LOAN_PRODUCTS
    from bank_assets.synthetic import World
    from bank_assets.synthetic.credit import rate_rise_pp
    from bank_assets.synthetic.months import parse_month

    root, cfg = built
    world, dm = World(cfg), cfg.behaviour.default_model
    last = parse_month(MONTHS[-1])
    planted: dict[str, list[float]] = defaultdict(list)
    for month in MONTHS:
        m = parse_month(month)
        if m + 9 > last:
            continue
        a = world.applications(m)
        logit = (
            dm.intercept
            + np.log(dm.score_per_100) * (a.score - 650) / 100
            + np.log(dm.burden_per_10pp) * (a.burden_ppm / 1e6 - 0.25) / 0.10
            + np.log(dm.rate_rise_per_pp) * rate_rise_pp(m)
            + np.log(dm.late_first_instalment) * a.late_first
            + np.log(dm.term_per_12m) * a.term / 12
        )
        for product, p in zip(a.product[a.approved], expit(logit)[a.approved], strict=True):
            planted[LOAN_PRODUCTS[product]].append(float(p))
    gold = {
        g["product"]: g
        for g in gold_rows(root, f"SELECT * FROM gold.ifrs9_pd_monthly WHERE report_month = '{MONTHS[-1]}-01'")
    }
    checked = 0
    for product, ps in planted.items():
        g = gold[product]
        assert g["n_loans_observed"] == len(ps), product
        truth = Decimal(str(round(sum(ps) / len(ps), 6)))
        interval = f"[{g['observed_ci_low']}, {g['observed_ci_high']}]"
        print(f"{product}: planted {truth}, observed {g['observed_default_rate']} {interval} of {len(ps)}")
        assert g["observed_ci_low"] <= truth <= g["observed_ci_high"], product
        checked += len(ps) >= 20
    assert checked >= 1


@pytest.mark.slow
def test_aml_rules_find_the_planted_cases_above_their_floors(built):
    from bank_assets.synthetic import World
    from bank_assets.synthetic.aml import TYPOLOGIES, truth
    from bank_assets.synthetic.months import parse_month

    root, cfg = built
    world = World(cfg)
    planted: set[tuple[str, str, str]] = set()
    near_miss: set[tuple[str, str, str]] = set()
    for month in MONTHS:
        t = truth(cfg, world.snapshot(parse_month(month))).to_pylist()
        planted |= {(month, r["account_id"], r["typology"]) for r in t if r["kind"] == "PLANTED"}
        near_miss |= {(month, r["account_id"], r["typology"]) for r in t if r["kind"] == "NEAR_MISS"}
    alerts = gold_rows(root, "SELECT alert_month, account_id, typology, evidence FROM gold.aml_alerts")
    flagged = {(str(a["alert_month"])[:7], a["account_id"], a["typology"]) for a in alerts}
    assert not flagged & near_miss, sorted(flagged & near_miss)
    for typology in TYPOLOGIES:
        p = {x for x in planted if x[2] == typology}
        f = {x for x in flagged if x[2] == typology}
        recall, precision = len(p & f) / len(p), len(p & f) / max(len(f), 1)
        print(f"{typology}: {len(f)} alerts, {len(p)} planted, precision {precision:.2f}, recall {recall:.2f}")
        assert len(p) >= 4, typology
        assert recall >= AML_RECALL_FLOOR and precision >= AML_PRECISION_FLOOR, (typology, sorted(f - p), sorted(p - f))
    assert all(a["evidence"] for a in alerts)
