"""The analytics recover the effects the generator planted, within their stated 95 % intervals,
and find nothing where nothing was planted (placebos).

The inputs are recomputed independently from the generator's clean landing tables
(tests/planted.py) at the small scale (2,000 customers) over 2024: the statistical power the
tiny pipeline tests cannot have. Planted sizes come from ``Behaviour`` (never restated here).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.metrics import roc_auc_score
from statsmodels.stats.proportion import proportion_confint

from bank_assets.analytics import causal, credit, diagnostic, exploratory, inferential, predictive, prescriptive
from bank_assets.analytics.panel import churn_panel
from bank_assets.contracts import CLOSURE_REASONS
from bank_assets.synthetic.months import month_start
from bank_assets.synthetic.params import EPOCH, Behaviour

from . import planted

MONTHS = list(range(EPOCH, EPOCH + 24))
PLAN = {c.campaign_id: c for c in Behaviour().campaigns}


@pytest.fixture(scope="module")
def bank() -> dict[str, pd.DataFrame]:
    w = planted.world()
    summary = planted.summary(w, MONTHS)
    interactions = pd.concat(
        [w.table("customer_interactions", m).to_pandas().assign(interaction_month=month_start(m)) for m in MONTHS]
    )
    interactions["is_complaint"] = interactions["reason"] == "COMPLAINT"
    interactions["satisfaction_score"] = pd.to_numeric(interactions["satisfaction_score"].replace("", None))
    return {
        "summary": summary,
        "touches": planted.touches(w, MONTHS),
        "panel": churn_panel(summary),
        "interactions": interactions,
    }


def as_of(k: int) -> dt.date:
    return month_start(EPOCH + k)


def test_campaign_uplift_is_recovered_and_placebos_find_nothing(bank: dict) -> None:
    effects = causal.campaign_effects(bank["summary"], bank["touches"], as_of(23))
    assert set(effects["campaign_id"]) == set(PLAN)
    for row in effects.itertuples():
        planted_ratio = PLAN[row.campaign_id].purchase_rate_ratio if row.design == "campaign" else 1.0
        assert row.ci_low <= planted_ratio <= row.ci_high, row
        # a real effect is found, a null one is not
        assert row.significant == (planted_ratio != 1.0), row
    cmp001 = effects[(effects["campaign_id"] == "CMP001") & (effects["design"] == "campaign")].iloc[0]
    assert cmp001.campaign_status == "FINISHED" and cmp001.ci_high - cmp001.ci_low < 0.15  # precise, not just wide


def test_campaign_effect_is_a_difference_in_differences() -> None:
    """On a hand-made panel: control doubles after the start, treatment triples: ratio 1.5."""
    rows = []
    for c in range(40):
        treated = c < 20
        for k, month in enumerate([dt.date(2024, m, 1) for m in (1, 2, 3, 4)]):
            post = month.month >= 3
            rate = 10 * (2 if post else 1) * (1.5 if treated and post else 1)
            rows.append({"customer_id": f"C{c}", "summary_month": month, "n_purchases": int(rate + (c + k) % 3 - 1)})
    summary = pd.DataFrame(rows)
    touches = pd.DataFrame(
        {
            "campaign_id": "X",
            "customer_id": [f"C{c}" for c in range(40)],
            "arm": ["TREATMENT" if c < 20 else "CONTROL" for c in range(40)],
            "start_date": dt.date(2024, 3, 1),
            "end_date": dt.date(2024, 5, 1),
        }
    )
    r = causal.campaign_effects(summary, touches, dt.date(2024, 4, 1))
    effect = r[r["design"] == "campaign"].iloc[0]
    assert effect.purchase_rate_ratio == pytest.approx(1.5, rel=0.03)
    assert effect.n_treated == 20 and effect.n_control == 20


def test_churn_drivers_find_complaints_and_not_the_placebo(bank: dict) -> None:
    d = diagnostic.churn_drivers(bank["panel"], as_of(23)).set_index("driver")
    complaints, inquiries = d.loc["complained_2m"], d.loc["inquired_2m"]
    assert complaints.ci_low > 3 and complaints.significant  # planted: 10x complaint rate before dormancy
    assert inquiries.ci_low <= 1 <= inquiries.ci_high and not inquiries.significant  # never planted
    # the odds ratios are statsmodels' Logit, reproduced here on the same design
    x = sm.add_constant(bank["panel"].dropna(subset=["churned"])[list(d.index)].astype(float))
    y = bank["panel"].dropna(subset=["churned"])["churned"]
    fit = sm.Logit(y, x).fit(disp=0)
    assert np.exp(fit.params["complained_2m"]) == pytest.approx(complaints.odds_ratio, rel=1e-6)


def test_complaint_rate_ratio_before_churn_matches_the_planted_one(bank: dict) -> None:
    t = inferential.group_tests(bank["summary"], bank["panel"], bank["interactions"], as_of(23)).set_index("test")
    r = t.loc["complaint_rate_before_churn"]
    b = Behaviour()
    planted_ratio = b.complaint_rate_before_dormancy / b.complaint_rate
    assert r.ci_low <= planted_ratio <= r.ci_high, r
    assert r.p_value < 1e-6


def test_channel_ab_test_is_calibrated_on_a_null_effect(bank: dict) -> None:
    """Chat and phone were given the same satisfaction distribution: a month's 95 % interval should
    exclude 0 in about 1 month in 20, not more (P(>= 4 of 24) = 3 % for a calibrated test)."""
    rows = [
        inferential.group_tests(bank["summary"], bank["panel"], bank["interactions"], as_of(k))
        .set_index("test")
        .loc["satisfaction_by_channel"]
        for k in range(24)
    ]
    false_alarms = sum(not (r.ci_low <= 0 <= r.ci_high) for r in rows)
    assert false_alarms <= 3, false_alarms
    assert all((r.p_value < 0.05) == (not r.ci_low <= 0 <= r.ci_high) for r in rows)


def test_inferential_statistics_match_scipy_and_statsmodels(bank: dict) -> None:
    month = as_of(11)
    t = inferential.group_tests(bank["summary"], bank["panel"], bank["interactions"], month)
    s = bank["summary"]
    active = s[(s["summary_month"] == month) & (s["status"] == "ACTIVE")]
    a = active.loc[active["segment"] == "AFFLUENT", "spend_pen"].to_numpy(float)
    b = active.loc[active["segment"] == "MASS", "spend_pen"].to_numpy(float)
    ref = stats.ttest_ind(a, b, equal_var=False)
    row = t[(t["test"] == "spend_by_segment") & (t["group_a"] == "AFFLUENT")].iloc[0]
    assert row.statistic == pytest.approx(ref.statistic) and row.p_value == pytest.approx(ref.pvalue)
    assert row.estimate == pytest.approx(a.mean() - b.mean())
    assert row.ci_low < row.estimate < row.ci_high
    # months t before the partition: t's churn is known at t + 1 <= the partition (never a later month)
    labelled = bank["panel"][bank["panel"]["churned"].notna() & (bank["panel"]["month"] < month)]
    mass = labelled[labelled["segment"] == "MASS"]
    lo, hi = proportion_confint(int(mass["churned"].sum()), len(mass), method="wilson")
    churn = t[(t["test"] == "churn_rate") & (t["group_a"] == "MASS")].iloc[0]
    assert (churn.ci_low, churn.ci_high) == pytest.approx((lo, hi))
    # the planted dormancy hazard lies in the churn-rate interval of the whole bank
    k, n = int(labelled["churned"].sum()), len(labelled)
    lo_all, hi_all = proportion_confint(k, n, method="wilson")
    assert lo_all <= Behaviour().dormancy_hazard <= hi_all


def test_churn_model_is_judged_out_of_time_and_beats_chance(bank: dict) -> None:
    scores, ev = predictive.churn_model(bank["panel"], as_of(23))
    e = ev.iloc[0]
    assert pd.Timestamp(e.test_month) == pd.Timestamp(as_of(22))
    assert pd.Timestamp(e.train_last_month) < pd.Timestamp(e.test_month)  # never trained on the test month
    assert e.auc_out_of_time > 0.6  # complaints carry signal; chance is 0.5
    # the reported AUC is sklearn's on the month the model never saw
    test = bank["panel"][(bank["panel"]["month"] == as_of(22)) & bank["panel"]["churned"].notna()]
    assert e.n_test == len(test) and e.test_events == int(test["churned"].sum())
    assert len(scores) == (bank["panel"]["month"] == as_of(23)).sum()
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["risk_decile"]) == set(range(1, 11))
    # the decile with the highest probabilities churns more than the rest (checked on the test month)
    assert roc_auc_score(test["churned"], test["complained_2m"]) > 0.55


def test_churn_model_is_fit_once_for_its_two_tables(bank: dict, monkeypatch) -> None:
    """churn_scores and churn_model_evaluation come from one fit per panel and month; each caller
    gets its own copy (changing it changes nothing the other reads)."""
    fits: list[dt.date] = []
    fit = predictive._fit_churn_model
    monkeypatch.setattr(predictive, "_fit_churn_model", lambda panel, m: fits.append(m) or fit(panel, m))
    monkeypatch.setattr(predictive, "_FITS", {})
    scores, ev = predictive.churn_model(bank["panel"], as_of(23))
    scores["churn_probability"] = -1.0
    again, ev_again = predictive.churn_model(bank["panel"].copy(), as_of(23))
    assert fits == [as_of(23)]
    assert again["churn_probability"].between(0, 1).all()
    pd.testing.assert_frame_equal(ev, ev_again)
    predictive.churn_model(bank["panel"], as_of(22))
    assert fits == [as_of(23), as_of(22)]  # another month is another fit


def test_forecast_interval_covers_the_next_months(bank: dict) -> None:
    f = predictive.volume_forecast(bank["summary"], as_of(17))
    actual = bank["summary"].groupby("summary_month")["n_transactions"].sum()
    assert list(f["horizon"]) == [1, 2, 3]
    for row in f.itertuples():
        assert row.pi_low < row.predicted_transactions < row.pi_high
        assert row.pi_low <= actual[pd.Timestamp(row.forecast_month).date()] <= row.pi_high, row
    assert predictive.volume_forecast(bank["summary"], as_of(3)).empty  # too little history: no forecast


def test_retention_actions_rank_by_expected_value(bank: dict) -> None:
    scores, _ = predictive.churn_model(bank["panel"], as_of(23))
    a = prescriptive.retention_actions(scores, bank["summary"], as_of(23))
    assert len(a) and (a["expected_value_cents"] > 0).all()
    assert list(a["rank"]) == list(range(1, len(a) + 1))
    assert a["expected_value_cents"].is_monotonic_decreasing
    r = a.iloc[0]
    cost, save = prescriptive.ACTIONS[r.action]
    ev = r.churn_probability * r.value_at_risk_cents * save  # cents, rounded half away from zero
    assert r.expected_value_cents == int(np.floor(ev + 0.5)) - cost


@pytest.fixture(scope="module")
def loans() -> dict[str, pd.DataFrame]:
    w = planted.world()
    apps, pays, ind = planted.credit(w, MONTHS)
    acc = w.table("accounts", MONTHS[-1]).to_pandas()
    cards = acc[(acc["product"] == "CREDIT_CARD") & (acc["status"] == "ACTIVE")]
    return {
        "apps": apps,
        "panel": credit.loan_panel(apps, pays, ind),
        "cards": cards.assign(credit_limit_pen=cards["credit_limit"].astype(float)),
        "alerts": planted.fraud_alerts(w, MONTHS),
    }


def test_default_drivers_are_recovered_and_the_term_placebo_is_null(loans: dict) -> None:
    dm = Behaviour().default_model
    planted_or = {
        "credit_score_per_100": dm.score_per_100,
        "debt_burden_per_10pp": dm.burden_per_10pp,
        "policy_rate_rise_per_pp": dm.rate_rise_per_pp,
        "late_first_instalment": dm.late_first_instalment,
        "term_per_12_months": dm.term_per_12m,
    }
    d = credit.default_drivers(loans["panel"], as_of(23)).set_index("driver")
    assert set(d.index) == set(planted_or)
    for driver, planted_ratio in planted_or.items():
        r = d.loc[driver]
        assert r.ci_low <= planted_ratio <= r.ci_high, (driver, r)
        assert bool(r.significant) == (planted_ratio != 1.0), (driver, r)
    # only loans whose 9-month window closed: originated by 2025-03
    assert d["n_loans"].iloc[0] == (loans["panel"]["window_closes_no"] <= EPOCH + 23).sum()


def test_timeliness_effect_naive_is_confounded_adjusted_recovers_it(loans: dict) -> None:
    planted_or = Behaviour().default_model.late_first_instalment
    e = credit.timeliness_effect(loans["panel"], as_of(23)).set_index("adjustment")
    adjusted, naive = e.loc["adjusted"], e.loc["naive"]
    assert adjusted.ci_low <= planted_or <= adjusted.ci_high, adjusted
    # low scores and heavy burdens pay late and default: the naive estimate overstates the effect
    assert naive.ci_low > planted_or and naive.odds_ratio > adjusted.odds_ratio, naive


def test_default_label_counts_60_days_past_due_within_9_months() -> None:
    apps = pd.DataFrame(
        {
            "application_id": ["A1", "A2", "A3"],
            "customer_id": ["C1", "C2", "C3"],
            "loan_id": ["L1", "L2", "L3"],
            "is_approved": True,
            "application_month": pd.Timestamp("2024-01-01"),
            "credit_score": 650,
            "debt_to_income": 0.25,
            "term_months": 24,
        }
    )
    rows = []
    for loan, dpd_at in (("L1", {3: 61}), ("L2", {10: 90}), ("L3", {2: 35})):
        for k in range(1, 12):
            rows.append(
                {
                    "loan_id": loan,
                    "instalment_no": k,
                    "due_date": pd.Timestamp(2024, 1 + k, 5) if k < 12 else pd.Timestamp(2025, 1, 5),
                    "paid_date": pd.Timestamp(2024, 1 + k, 9) if (loan == "L3" and k == 1) else pd.NaT,
                    "days_past_due": dpd_at.get(k, 0),
                }
            )
    ind = pd.DataFrame({"indicator_month": pd.date_range("2024-01-01", periods=12, freq="MS"), "policy_rate": 0.05})
    p = credit.loan_panel(apps, pd.DataFrame(rows), ind).set_index("loan_id")
    # L1 reaches 61 days in its window; L2's 90 days come after it; L3's late payment never counts
    assert p["defaulted"].to_dict() == {"L1": 1.0, "L2": 0.0, "L3": 0.0}
    assert p["late_first_instalment"].to_dict() == {"L1": 1.0, "L2": 1.0, "L3": 1.0}  # unpaid or paid after due
    assert p["window_closes_no"].eq(EPOCH + 9).all()


def test_fraud_pattern_is_recovered_and_high_amounts_are_a_null_rule(loans: dict) -> None:
    plan = Behaviour().fraud
    t = inferential.fraud_rule_tests(loans["alerts"], as_of(23))
    ratio = t[t["test"] == "fraud_rate_vs_audit"].set_index("group_a")
    pattern, high = ratio.loc["EVENING_ONLINE_TE"], ratio.loc["HIGH_AMOUNT"]
    planted_ratio = plan.fraud_rate_pattern / plan.fraud_rate_other
    assert pattern.ci_low <= planted_ratio <= pattern.ci_high and pattern.p_value < 1e-6, pattern
    assert high.ci_low <= 1.0 <= high.ci_high and high.p_value > 0.05, high
    rates = t[t["test"] == "fraud_confirmed_rate"].set_index("group_a")
    audit = rates.loc["RANDOM_AUDIT"]
    assert audit.ci_low <= plan.fraud_rate_other <= audit.ci_high, audit
    # the Wilson interval is statsmodels' own
    k = round(audit.estimate * audit.n_a)
    assert (audit.ci_low, audit.ci_high) == pytest.approx(proportion_confint(k, audit.n_a, method="wilson"))


def test_limit_proposals_stay_within_the_risk_budget_and_beat_greedy(loans: dict) -> None:
    p = credit.limit_proposals(loans["panel"], loans["apps"], loans["cards"], 0.50, as_of(23))
    chosen = p[p["proposed"]]
    assert len(chosen) > 0 and (~p["proposed"]).any()
    budget = int(p["risk_budget_cents"].iloc[0])
    assert chosen["expected_loss_cents"].sum() <= budget + len(p)
    assert (chosen["proposed_limit_cents"] > chosen["current_limit_cents"]).all()
    assert (p.loc[~p["proposed"], "proposed_limit_cents"] == p.loc[~p["proposed"], "current_limit_cents"]).all()
    assert chosen["rank"].tolist() == list(range(1, len(chosen) + 1))
    # the exact knapsack is at least as good as the greedy value-per-loss heuristic
    value = p["expected_margin_cents"] - p["expected_loss_cents"]
    order = (value / p["expected_loss_cents"].clip(lower=1)).sort_values(ascending=False).index
    spent, greedy = 0, 0
    for i in order:
        if value[i] > 0 and spent + p.loc[i, "expected_loss_cents"] <= budget:
            spent += p.loc[i, "expected_loss_cents"]
            greedy += value[i]
    assert value[p["proposed"]].sum() >= greedy - len(p)


def test_closure_reasons_match_the_planted_mix_per_segment() -> None:
    w = planted.world()
    reasons = diagnostic.closure_reasons(planted.account_events(w, MONTHS), as_of(23))
    mix = Behaviour().closure_reasons
    misses = 0
    for segment, g in reasons.groupby("segment"):
        observed = np.array([int(g.loc[g["closure_reason"] == r, "n_customers"].sum()) for r in CLOSURE_REASONS])
        expected = np.array(mix[segment]) * observed.sum()
        assert stats.chisquare(observed, expected).pvalue > 0.01, (segment, observed, expected)
        for r in g.itertuples():
            misses += not (r.ci_low <= mix[segment][CLOSURE_REASONS.index(r.closure_reason)] <= r.ci_high)
    assert len(reasons) == len(mix) * len(CLOSURE_REASONS)
    assert misses <= 3, misses  # 20 intervals at 95 %: about 1 misses by chance (2 with seed 42)
    # the mix differs by segment (planted): the test of independence sees it
    assert reasons["chi2_p_value"].iloc[0] < 1e-6


def test_every_analytics_table_is_well_formed_at_small_scale(bank: dict, loans: dict) -> None:
    """The blocking check the assets run, on what each function returns with real volumes (the
    pipeline tests' tiny bank leaves the credit tables empty): a month that would fail it in the
    quickstart fails here first."""
    from bank_assets.assets.analytics import SCHEMAS, well_formed_problems

    m = as_of(23)
    w = planted.world()
    summary = bank["summary"].copy()
    summary["district"] = summary["customer_id"].map(
        w.table("customers", MONTHS[-1]).to_pandas().set_index("customer_id")["district"]
    )
    branches = w.table("branches").to_pandas().assign(valid_from=pd.Timestamp("2024-01-01"))
    tables = {
        "loan_default_drivers": credit.default_drivers(loans["panel"], m),
        "payment_timeliness_effect": credit.timeliness_effect(loans["panel"], m),
        "credit_limit_proposals": credit.limit_proposals(loans["panel"], loans["apps"], loans["cards"], 0.5, m),
        "group_tests": pd.concat(
            [
                inferential.group_tests(bank["summary"], bank["panel"], bank["interactions"], m),
                inferential.fraud_rule_tests(loans["alerts"], m),
            ],
            ignore_index=True,
        ),
        "account_closure_reasons": diagnostic.closure_reasons(planted.account_events(w, MONTHS), m),
        "geographic_clusters": exploratory.geographic_clusters(summary, branches, m),
    }
    for name, df in tables.items():
        assert len(df) > 0, name
        assert list(df.columns) == list(SCHEMAS[name]), name
        assert well_formed_problems(df, m) == [], name
