"""Every analytics estimator is total: it returns a documented outcome for any data, never an
exception that fails a month (bank_assets.analytics.estimable).

1. The class of bug: every analytics table (``bank_assets.analytics.tables``, the glue the assets
   run) computed for every as-of month of the default range, 2024-01..2025-12, on the small-scale
   synthetic bank recomputed from its landing tables (pure functions, no Dagster). Each month's
   result must be well formed (the assets' blocking check) and of its schema.
2. Each degenerate input, for each estimator: an empty panel, a covariate with no variation,
   collinear covariates, perfect separation, too few events, a fit that cannot converge.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bank_assets.analytics import causal, credit, diagnostic, exploratory, inferential, predictive, prescriptive
from bank_assets.analytics.estimable import Note, NotEstimable, estimable_columns, fit_logit, notes_of
from bank_assets.analytics.panel import FEATURES, churn_panel
from bank_assets.analytics.tables import TABLES
from bank_assets.assets.analytics import SCHEMAS, well_formed_problems
from bank_assets.synthetic.months import month_start
from bank_assets.synthetic.params import EPOCH

from . import planted

MONTHS = list(range(EPOCH, EPOCH + 24))  # the default range of the quickstart


@pytest.fixture(scope="module")
def gold() -> dict[str, pd.DataFrame]:
    return planted.gold_inputs(planted.world(), MONTHS)


def test_every_analytics_table_is_total_and_well_formed_in_every_month(gold: dict) -> None:
    """What `bash scripts/run.sh` computes month by month, minus Dagster: no month raises."""
    inputs = dict(gold)
    computes = {}
    outcomes: dict[str, list[tuple[dt.date, int, list[Note]]]] = {name: [] for name in TABLES}
    for name, table in TABLES.items():  # churn_scores precedes retention_actions, which reads it
        if name == "retention_actions":
            inputs["churn_scores"] = pd.concat(
                [computes["churn_scores"](month_start(m)) for m in MONTHS], ignore_index=True
            )
        computes[name] = table.build(inputs)
        for m in MONTHS:
            month = month_start(m)
            df = computes[name](month)
            assert list(df.columns) == list(SCHEMAS[name]), (name, month)
            assert well_formed_problems(df, month) == [], (name, month)
            assert all(isinstance(n, Note) and n.reason for n in notes_of(df)), (name, month)
            outcomes[name].append((month, len(df), notes_of(df)))
    # every table has results once the bank has enough history, and says why where it has none
    for name, per_month in outcomes.items():
        assert per_month[-1][1] > 0, (name, per_month[-1])
        assert all(rows or notes for _, rows, notes in per_month), name
    # the issue's month: 2025-01's adjusted effect drops the constant policy-rate rise, by name
    jan = dict((m, (rows, notes)) for m, rows, notes in outcomes["payment_timeliness_effect"])[dt.date(2025, 1, 1)]
    assert jan[0] == 2 and any("policy_rate_rise_per_pp" in str(n) for n in jan[1]), jan


# ---- degenerate inputs, estimator by estimator ------------------------------------------------


def loan_panel(n: int = 400, seed: int = 0, **overrides: np.ndarray) -> pd.DataFrame:
    """A synthetic loan panel in loan_panel's shape, every window closed by 2025-12."""
    rng = np.random.default_rng(seed)
    p = pd.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(n)],
            "customer_id": [f"C{i}" for i in range(n)],
            "origination_no": 2024 * 12,
            "credit_score": rng.normal(650, 60, n),
            "debt_to_income": rng.uniform(0.1, 0.5, n),
            "credit_score_per_100": rng.normal(0, 0.6, n),
            "debt_burden_per_10pp": rng.normal(0, 1, n),
            "policy_rate_rise_per_pp": rng.choice([-0.5, 0.0, 0.5], n),
            "term_per_12_months": rng.choice([1.0, 2.0, 3.0], n),
            "late_first_instalment": rng.binomial(1, 0.3, n).astype(float),
        }
    )
    logit = -2 + 0.9 * p["late_first_instalment"] - 0.9 * p["credit_score_per_100"]
    p["defaulted"] = rng.binomial(1, 1 / (1 + np.exp(-logit))).astype(float)
    for column, values in overrides.items():
        p[column] = values
    p["window_closes_no"] = p["origination_no"] + credit.OUTCOME_MONTHS
    return p


AS_OF = dt.date(2025, 12, 1)


def kinds(df: pd.DataFrame) -> set[str]:
    return {n.kind for n in notes_of(df)}


def test_estimable_columns_drops_constant_and_collinear_columns_by_name() -> None:
    x = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [5.0, 5, 5, 5], "c": [2.0, 4, 6, 8], "d": [1.0, 0, 1, 1]})
    kept, dropped = estimable_columns(x, ["a", "b", "c", "d"])
    assert kept == ["a", "d"]
    assert "no variation" in dropped["b"] and "collinear" in dropped["c"]
    assert estimable_columns(x.iloc[:0], ["a"]) == ([], {"a": "no rows"})


@pytest.mark.parametrize(
    ("case", "overrides", "expect"),
    [
        ("constant covariate", {"policy_rate_rise_per_pp": -0.5}, "dropped"),
        ("collinear covariates", {"term_per_12_months": None}, "dropped"),
        ("too few events", {"defaulted": np.r_[np.ones(3), np.zeros(397)]}, "not_estimable"),
        ("no event at all", {"defaulted": 0.0}, "not_estimable"),
        ("perfect separation", {"defaulted": None}, "not_estimable"),
    ],
)
def test_credit_estimators_are_total(case: str, overrides: dict, expect: str) -> None:
    p = loan_panel()
    if case == "collinear covariates":
        overrides = {"term_per_12_months": 2 * p["debt_burden_per_10pp"] + 1}
    if case == "perfect separation":
        overrides = {"defaulted": (p["credit_score_per_100"] < 0).astype(float)}
    p = loan_panel(**overrides)
    drivers = credit.default_drivers(p, AS_OF)
    effect = credit.timeliness_effect(p, AS_OF)
    cards = pd.DataFrame({"customer_id": ["C1", "C2"], "credit_limit_pen": [1000.0, 2000.0]})
    apps = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "application_month": pd.Timestamp("2025-06-01"),
            "application_id": ["A1", "A2"],
            "credit_score": [700, 600],
            "debt_to_income": [0.2, 0.4],
        }
    )
    proposals = credit.limit_proposals(p, apps, cards, 0.4, AS_OF)
    for df, name in ((drivers, "loan_default_drivers"), (effect, "payment_timeliness_effect")):
        assert expect in kinds(df), (case, name, notes_of(df))
        assert well_formed_problems(df, AS_OF) == [], (case, name)
    assert well_formed_problems(proposals, AS_OF) == [], case
    if expect == "dropped":  # the fit goes on without the dropped covariate, named in the output
        assert len(drivers) == len(credit.DRIVERS) - 1
        assert drivers["method"].str.contains("dropped").all()
        assert set(effect["adjustment"]) == {"naive", "adjusted"}
    else:
        assert drivers.empty and proposals.empty


def test_credit_estimators_on_an_empty_panel() -> None:
    empty = loan_panel().iloc[:0]
    for df in (credit.default_drivers(empty, AS_OF), credit.timeliness_effect(empty, AS_OF)):
        assert df.empty and kinds(df) == {"history"}


def test_a_constant_treatment_makes_the_effect_not_estimable() -> None:
    effect = credit.timeliness_effect(loan_panel(late_first_instalment=1.0), AS_OF)
    assert effect.empty and "late_first_instalment" in " ".join(map(str, notes_of(effect)))


def test_fit_logit_reports_non_convergence() -> None:
    # a tiny, nearly separated sample: Newton's method runs out of iterations or of finite numbers
    d = pd.DataFrame({"y": [0.0] * 10 + [1.0] * 10, "x": [*range(10), 9.0, *range(11, 20)]})
    with pytest.raises(NotEstimable, match=r"separation|converge|non-finite"):
        fit_logit(d, "y", ["x"], min_events=1)


def churn_panel_of(n_customers: int, months: int, seed: int = 0, **overrides) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(months):
        month = dt.date(2024 + m // 12, m % 12 + 1, 1)
        for c in range(n_customers):
            rows.append(
                {
                    "customer_id": f"C{c}",
                    "summary_month": pd.Timestamp(month),
                    "segment": "MASS",
                    "status": "ACTIVE" if rng.random() > 0.05 or m == 0 else "DORMANT",
                    "tenure_months": 12 + m,
                    "n_transactions": int(rng.poisson(20)),
                    "n_purchases": int(rng.poisson(10)),
                    "spend_pen": float(rng.gamma(2, 300)),
                    "positive_balance_pen": float(rng.gamma(2, 2000)),
                    "products_held": int(rng.integers(1, 4)),
                    "n_complaints": int(rng.random() < 0.05),
                    "n_inquiries": int(rng.random() < 0.2),
                    "district": f"D{c % 7}",
                }
            )
    s = pd.DataFrame(rows)
    for column, value in overrides.items():
        s[column] = value
    return s


def test_churn_estimators_are_total_on_degenerate_panels() -> None:
    month = dt.date(2024, 6, 1)
    for summary in (
        churn_panel_of(0, 6).iloc[:0],  # empty
        churn_panel_of(30, 6, status="ACTIVE"),  # no churn at all: too few events
        churn_panel_of(300, 6, n_complaints=0, n_inquiries=0, products_held=2),  # constant features
        churn_panel_of(3, 2),  # a handful of customers, two months
    ):
        panel = churn_panel(summary) if len(summary) else pd.DataFrame(columns=["churned", "month", *FEATURES])
        drivers = diagnostic.churn_drivers(panel, month)
        scores, evaluation = predictive.churn_model(panel, month) if len(summary) else (drivers, drivers)
        for df in (drivers, scores, evaluation):
            assert well_formed_problems(df, month) == []
            assert len(df) or notes_of(df), notes_of(df)
        actions = prescriptive.retention_actions(scores.iloc[:0], summary, month)
        assert actions.empty and notes_of(actions)


def test_constant_features_are_dropped_and_named() -> None:
    summary = churn_panel_of(400, 8, n_inquiries=0)
    drivers = diagnostic.churn_drivers(churn_panel(summary), dt.date(2024, 8, 1))
    assert "inquired_2m" not in set(drivers["driver"]) and len(drivers)
    assert drivers["method"].str.contains("dropped inquired_2m").all()


def test_forecast_clusters_and_tests_are_total_on_degenerate_series() -> None:
    month = dt.date(2024, 8, 1)
    flat = churn_panel_of(20, 8, n_transactions=5)  # a constant series: nothing to fit a trend on
    f = predictive.volume_forecast(flat, month)
    assert well_formed_problems(f, month) == [] and (len(f) or notes_of(f))
    short = predictive.volume_forecast(churn_panel_of(5, 3), dt.date(2024, 3, 1))
    assert short.empty and kinds(short) == {"history"}
    same = churn_panel_of(40, 2, spend_pen=100.0, positive_balance_pen=10.0, n_complaints=0)
    branches = pd.DataFrame({"branch_id": ["B1"], "district": ["D1"], "valid_from": pd.Timestamp("2024-01-01")})
    branches = branches.assign(latitude=-12.0, longitude=-77.0)
    clusters = exploratory.geographic_clusters(same, branches, dt.date(2024, 2, 1))
    assert clusters.empty and "distinct district" in str(notes_of(clusters)[-1])
    interactions = pd.DataFrame(
        {
            "interaction_month": pd.Timestamp("2024-02-01"),
            "is_complaint": False,
            "satisfaction_score": 4.0,  # no variation in either channel
            "channel": ["APP_CHAT", "APP_CHAT", "PHONE", "PHONE"],
            "customer_id": ["C1", "C2", "C3", "C4"],
        }
    )
    tests = inferential.group_tests(same, churn_panel(same), interactions, dt.date(2024, 2, 1))
    assert well_formed_problems(tests, dt.date(2024, 2, 1)) == []
    assert any("no variation" in str(n) for n in notes_of(tests))
    alerts = pd.DataFrame(
        {"alert_id": ["1", "2"], "rule_code": ["HIGH_AMOUNT", "RANDOM_AUDIT"], "outcome": "FALSE_POSITIVE"}
    ).assign(closed_ts=pd.Timestamp("2024-02-10"))
    rules = inferential.fraud_rule_tests(alerts, dt.date(2024, 2, 1))
    assert well_formed_problems(rules, dt.date(2024, 2, 1)) == [] and "not_estimable" in kinds(rules)


def test_campaign_effect_without_variation_is_not_estimable() -> None:
    summary = churn_panel_of(20, 6, n_purchases=0)
    touches = pd.DataFrame(
        {
            "campaign_id": "CMP9",
            "customer_id": [f"C{c}" for c in range(20)],
            "arm": ["TREATMENT", "CONTROL"] * 10,
            "start_date": dt.date(2024, 4, 1),
            "end_date": dt.date(2024, 6, 1),
        }
    )
    effects = causal.campaign_effects(summary, touches, dt.date(2024, 5, 1))
    assert effects.empty and any("no purchases" in str(n) for n in notes_of(effects))
