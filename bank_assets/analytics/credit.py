"""Credit: what drives loan defaults (diagnostic), what paying the first instalment late does to
default (causal), and which card limits to raise within a risk budget (prescriptive).

The loan panel has one row per disbursed loan whose outcome window has closed: a loan defaults
when any of its instalments due in the ``OUTCOME_MONTHS`` months after origination reaches
``DEFAULT_DPD`` days past due (a late payment never does; a missed one does within two months).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, cents_half_away, frame
from bank_assets.analytics.estimable import Note, NotEstimable, fit_logit, with_dropped
from bank_assets.analytics.native_output import native_output_logged
from bank_assets.analytics.panel import month_start

OUTCOME_MONTHS = 9
DEFAULT_DPD = 60
RATE_WINDOW = 6  # policy-rate rise measured over the months after origination
MIN_EVENTS = 10
#: driver -> how it is measured from the loan (the units the odds ratios are per)
DRIVERS = {
    "credit_score_per_100": "(credit_score - 650) / 100",
    "debt_burden_per_10pp": "(debt_to_income - 0.25) / 0.10",
    "policy_rate_rise_per_pp": "policy rate 6 months after origination - at origination, in points",
    "late_first_instalment": "1 if the first instalment was paid after its due date",
    "term_per_12_months": "term_months / 12",
}
CONFOUNDERS = [d for d in DRIVERS if d != "late_first_instalment"]
DRIVERS_METHOD = (
    f"logit of default (>= {DEFAULT_DPD} days past due within {OUTCOME_MONTHS} months of origination) on the "
    "drivers at origination, loans whose window closed by the partition; odds ratio = exp(coef)"
)
DRIVERS_SCHEMA = {
    "as_of_month": DATE,
    "driver": "string",
    "measured_as": "string",
    "odds_ratio": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "p_value": "float64",
    "significant": "bool",
    "n_loans": "int64",
    "n_defaults": "int64",
    "method": "string",
}
EFFECT_SCHEMA = {
    "as_of_month": DATE,
    "adjustment": "string",
    "odds_ratio": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "p_value": "float64",
    "n_late": "int64",
    "n_on_time": "int64",
    "default_rate_late": "float64",
    "default_rate_on_time": "float64",
    "adjusted_for": "string",
    "method": "string",
}
#: bank assumptions of the limit proposals
LIMIT_INCREASE = 0.5  # a proposal raises the limit by half
UTILISATION = 0.30  # expected share of the extra limit drawn
LOSS_GIVEN_DEFAULT = 0.60
RISK_BUDGET_SHARE = 0.002  # expected loss allowed: this share of the candidates' current limits
PROPOSALS_SCHEMA = {
    "as_of_month": DATE,
    "rank": "Int64",  # NULL when not proposed
    "customer_id": "string",
    "credit_score": "int64",
    "debt_to_income": "float64",
    "probability_of_default": "float64",
    "current_limit_cents": "int64",
    "proposed_limit_cents": "int64",
    "expected_margin_cents": "int64",
    "expected_loss_cents": "int64",
    "proposed": "bool",
    "risk_budget_cents": "int64",
    "method": "string",
}


def month_no(value: object) -> int:
    m = month_start(value)
    return m.year * 12 + m.month - 1


def loan_panel(applications: pd.DataFrame, payments: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per disbursed loan: drivers at origination, whether the first instalment was late,
    whether it defaulted within the window, and the last month that window needs."""
    loans = applications[applications["is_approved"].astype(bool) & applications["loan_id"].notna()].copy()
    loans["origination_no"] = loans["application_month"].map(month_no)
    rate = {
        month_no(m): float(r) for m, r in zip(indicators["indicator_month"], indicators["policy_rate"], strict=True)
    }
    rise = loans["origination_no"].map(lambda o: (rate.get(o + RATE_WINDOW, np.nan) - rate.get(o, np.nan)) * 100)
    pay = payments[payments["loan_id"].isin(loans["loan_id"])]
    first = pay[pay["instalment_no"] == 1].set_index("loan_id")
    paid = pd.to_datetime(first["paid_date"])
    late = (paid.isna() | (paid > pd.to_datetime(first["due_date"]))).astype(float)
    within = pay[pay["instalment_no"] <= OUTCOME_MONTHS]
    defaulted = within.groupby("loan_id")["days_past_due"].max() >= DEFAULT_DPD
    out = pd.DataFrame(
        {
            "loan_id": loans["loan_id"].to_numpy(),
            "customer_id": loans["customer_id"].to_numpy(),
            "origination_no": loans["origination_no"].to_numpy(),
            "credit_score": loans["credit_score"].astype(float).to_numpy(),
            "debt_to_income": loans["debt_to_income"].astype(float).to_numpy(),
            "credit_score_per_100": (loans["credit_score"].astype(float).to_numpy() - 650) / 100,
            "debt_burden_per_10pp": (loans["debt_to_income"].astype(float).to_numpy() - 0.25) / 0.10,
            "policy_rate_rise_per_pp": rise.to_numpy(dtype=float),
            "term_per_12_months": loans["term_months"].astype(float).to_numpy() / 12,
        }
    )
    out["late_first_instalment"] = out["loan_id"].map(late)
    out["defaulted"] = out["loan_id"].map(defaulted.astype(float)).fillna(0.0)
    out["window_closes_no"] = out["origination_no"] + OUTCOME_MONTHS
    return out


def observed(panel: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Loans whose outcome window closed by `as_of`, with every driver known."""
    closed = panel[panel["window_closes_no"] <= month_no(as_of)]
    return closed.dropna(subset=[*DRIVERS, "defaulted"])


def _no_window(data: pd.DataFrame, as_of: dt.date) -> None:
    if data.empty:
        raise NotEstimable(f"no loan's {OUTCOME_MONTHS}-month outcome window has closed by {as_of:%Y-%m}", "history")


def default_drivers(panel: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Odds ratio of default per driver. Drivers with no variation or collinear with others are
    dropped (named in ``method`` and in the notes); no estimable fit gives no rows and a note."""
    data = observed(panel, as_of)
    try:
        _no_window(data, as_of)
        fit, dropped = fit_logit(data, "defaulted", list(DRIVERS), MIN_EVENTS)
    except NotEstimable as e:
        return frame([], DRIVERS_SCHEMA, [Note("default model", e.reason, e.kind)])
    ci = fit.conf_int()
    kept = [d for d in DRIVERS if d not in dropped]
    rows = [
        {
            "as_of_month": as_of,
            "driver": d,
            "measured_as": DRIVERS[d],
            "odds_ratio": float(np.exp(fit.params[d])),
            "ci_low": float(np.exp(ci.loc[d, 0])),
            "ci_high": float(np.exp(ci.loc[d, 1])),
            "p_value": float(fit.pvalues[d]),
            "significant": bool(fit.pvalues[d] < 0.05),
            "n_loans": len(data),
            "n_defaults": int(data["defaulted"].sum()),
            "method": with_dropped(DRIVERS_METHOD, dropped),
        }
        for d in kept
    ]
    return frame(rows, DRIVERS_SCHEMA, [Note(d, why, "dropped") for d, why in dropped.items()])


TREATMENT = "late_first_instalment"


def timeliness_effect(panel: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The effect of paying the first instalment late on default, as an odds ratio: naive (late
    vs on time) and adjusted for the confounders that drive both (backdoor adjustment by logit).
    A confounder with no variation (e.g. the policy-rate rise while every closed window saw the
    same path) cannot bias the estimate and is dropped, named in ``adjusted_for`` and ``method``."""
    data = observed(panel, as_of)
    try:
        _no_window(data, as_of)
    except NotEstimable as e:
        return frame([], EFFECT_SCHEMA, [Note("payment timeliness effect", e.reason, e.kind)])
    late = data[TREATMENT] == 1
    common = {
        "as_of_month": as_of,
        "n_late": int(late.sum()),
        "n_on_time": int((~late).sum()),
        "default_rate_late": float(data.loc[late, "defaulted"].mean()) if late.any() else None,
        "default_rate_on_time": float(data.loc[~late, "defaulted"].mean()) if (~late).any() else None,
    }
    rows, notes = [], []
    for name, adjust in (("naive", []), ("adjusted", CONFOUNDERS)):
        try:
            fit, dropped = fit_logit(data, "defaulted", [TREATMENT, *adjust], MIN_EVENTS)
            if TREATMENT in dropped:
                raise NotEstimable(f"{TREATMENT}: {dropped[TREATMENT]}")
        except NotEstimable as e:
            notes.append(Note(f"{name} effect", e.reason, e.kind))
            continue
        notes += [Note(f"{name} effect: {c}", why, "dropped") for c, why in dropped.items()]
        used = [c for c in adjust if c not in dropped]
        ci = fit.conf_int().loc[TREATMENT]
        base = "logit of default on late first instalment" + (
            " and the confounders (backdoor adjustment)" if adjust else " alone (confounded)"
        )
        rows.append(
            {
                **common,
                "adjustment": name,
                "odds_ratio": float(np.exp(fit.params[TREATMENT])),
                "ci_low": float(np.exp(ci[0])),
                "ci_high": float(np.exp(ci[1])),
                "p_value": float(fit.pvalues[TREATMENT]),
                "adjusted_for": ", ".join(used) or "nothing",
                "method": with_dropped(base, dropped),
            }
        )
    return frame(rows, EFFECT_SCHEMA, notes)


def limit_proposals(
    panel: pd.DataFrame,
    applications: pd.DataFrame,
    cards: pd.DataFrame,
    card_rate: float,
    as_of: dt.date,
) -> pd.DataFrame:
    """Card limit raises that maximise expected margin minus expected loss, with the total expected
    loss within the risk budget: a 0/1 knapsack solved exactly by scipy's MILP (HiGHS).

    Candidates: customers with an active card at `as_of` who applied for credit in the 12 months
    up to it (their latest score and debt burden price the risk). PD from the default model fitted
    on the observed loans, for an on-time payer with no rate rise and a 24-month term."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    data = observed(panel, as_of)
    try:
        _no_window(data, as_of)
        fit, dropped = fit_logit(data, "defaulted", list(DRIVERS), MIN_EVENTS)
    except NotEstimable as e:
        return frame([], PROPOSALS_SCHEMA, [Note("default model for the proposals", e.reason, e.kind)])
    notes = [Note(f"default model: {c}", why, "dropped") for c, why in dropped.items()]
    apps = applications[applications["application_month"].map(month_no) > month_no(as_of) - 12]
    apps = apps[apps["application_month"].map(month_no) <= month_no(as_of)]
    latest = apps.sort_values(["application_month", "application_id"]).groupby("customer_id").tail(1)
    cand = cards.merge(latest[["customer_id", "credit_score", "debt_to_income"]], on="customer_id")
    if cand.empty:
        why = "no active card holder applied for credit in the last 12 months"
        return frame([], PROPOSALS_SCHEMA, [*notes, Note("proposals", why)])
    x = pd.DataFrame(
        {
            "const": 1.0,
            "credit_score_per_100": (cand["credit_score"].astype(float) - 650) / 100,
            "debt_burden_per_10pp": (cand["debt_to_income"].astype(float) - 0.25) / 0.10,
            "policy_rate_rise_per_pp": 0.0,
            "late_first_instalment": 0.0,
            "term_per_12_months": 2.0,
        }
    )[fit.params.index]
    pd_ = np.asarray(fit.predict(x), dtype=float)
    limit = cand["credit_limit_pen"].astype(float).to_numpy()
    extra = limit * LIMIT_INCREASE
    margin = extra * UTILISATION * card_rate
    loss = pd_ * extra * UTILISATION * LOSS_GIVEN_DEFAULT
    budget = RISK_BUDGET_SHARE * limit.sum()
    value = margin - loss
    n = len(cand)
    with native_output_logged("HiGHS (scipy.optimize.milp)"):
        res = milp(
            c=-value,
            constraints=LinearConstraint(loss.reshape(1, -1), -np.inf, budget),
            integrality=np.ones(n),
            bounds=Bounds(0, np.where(value > 0, 1, 0)),
        )
    if not res.success:
        notes.append(Note("proposals", f"the knapsack was not solved ({res.message}); nothing proposed"))
    chosen = np.round(res.x).astype(bool) if res.success else np.zeros(n, bool)
    order = np.lexsort((cand["customer_id"].to_numpy(), -value, ~chosen))
    rank = np.full(n, pd.NA, dtype=object)
    rank[order[chosen[order]]] = np.arange(1, int(chosen.sum()) + 1)
    out = pd.DataFrame(
        {
            "as_of_month": as_of,
            "rank": pd.array(rank, dtype="Int64"),
            "customer_id": cand["customer_id"].to_numpy(),
            "credit_score": cand["credit_score"].astype("int64").to_numpy(),
            "debt_to_income": cand["debt_to_income"].astype(float).to_numpy(),
            "probability_of_default": pd_,
            "current_limit_cents": cents_half_away(limit),
            "proposed_limit_cents": cents_half_away(np.where(chosen, limit + extra, limit)),
            "expected_margin_cents": cents_half_away(margin),
            "expected_loss_cents": cents_half_away(loss),
            "proposed": chosen,
            "risk_budget_cents": int(cents_half_away(np.array([budget]))[0]),
            "method": f"0/1 knapsack (scipy.optimize.milp): max sum(margin - loss) s.t. sum(loss) <= "
            f"{RISK_BUDGET_SHARE:.1%} of current limits; +{LIMIT_INCREASE:.0%} limit, {UTILISATION:.0%} drawn, "
            f"LGD {LOSS_GIVEN_DEFAULT:.0%}, margin = card rate",
        }
    )
    return frame(out.iloc[order].reset_index(drop=True), PROPOSALS_SCHEMA, notes)
