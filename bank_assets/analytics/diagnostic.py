"""Diagnostic: what drives churn? A logistic regression of next month's churn on this month's
customer features (statsmodels Logit), reported as odds ratios with 95 % confidence intervals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.estimable import Note, NotEstimable, fit_logit, with_dropped
from bank_assets.analytics.panel import FEATURES

MIN_EVENTS = 10
METHOD = "logit of churn at t+1 on features at t, every month t before the partition; odds ratio = exp(coef)"
SCHEMA = {
    "as_of_month": DATE,
    "driver": "string",
    "odds_ratio": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "p_value": "float64",
    "significant": "bool",
    "n_obs": "int64",
    "n_events": "int64",
    "method": "string",
}


def usable_features(x: pd.DataFrame) -> list[str]:
    """Features that vary in the data (a tiny bank may have no SME customer yet)."""
    return [f for f in FEATURES if x[f].nunique() > 1]


def churn_drivers(panel: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    # labels known by as_of: month t's churn needs t + 1 <= as_of (a range run holds later months)
    labelled = panel[panel["churned"].notna() & (panel["month"] < as_of)]
    try:
        if labelled.empty:
            raise NotEstimable("no customer-month with a known next month yet", "history")
        fit, dropped = fit_logit(labelled, "churned", list(FEATURES), MIN_EVENTS)
    except NotEstimable as e:
        return frame([], SCHEMA, [Note("churn model", e.reason, e.kind)])
    ci = fit.conf_int()
    rows = [
        {
            "as_of_month": as_of,
            "driver": f,
            "odds_ratio": float(np.exp(fit.params[f])),
            "ci_low": float(np.exp(ci.loc[f, 0])),
            "ci_high": float(np.exp(ci.loc[f, 1])),
            "p_value": float(fit.pvalues[f]),
            "significant": bool(fit.pvalues[f] < 0.05),
            "n_obs": len(labelled),
            "n_events": int(labelled["churned"].sum()),
            "method": with_dropped(METHOD, dropped),
        }
        for f in FEATURES
        if f not in dropped
    ]
    # a segment the bank has no customer of yet is expected, not a warning
    notes = [Note(f, why, "history" if f.startswith("segment_") else "dropped") for f, why in dropped.items()]
    return frame(rows, SCHEMA, notes)


CLOSURE_SCHEMA = {
    "as_of_month": DATE,
    "segment": "string",
    "closure_reason": "string",
    "n_customers": "int64",
    "share": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "chi2_statistic": "float64",
    "chi2_p_value": "float64",
    "method": "string",
}
CLOSURE_METHOD = (
    "customers who closed their accounts up to the partition, by segment at closing and stated reason; share of "
    "the segment's closures with a Wilson 95 % interval; chi-square test of independence of reason and segment "
    "(scipy.stats.chi2_contingency) on the same table"
)


def closure_reasons(events: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Why do customers leave, and does it differ by segment? `events`: account events with
    customer_id, segment, event_type, closure_reason and event_month (one customer counts once)."""
    from scipy.stats import chi2_contingency
    from statsmodels.stats.proportion import proportion_confint

    closed = events[(events["event_type"] == "CLOSED") & events["closure_reason"].notna()]
    closed = closed[pd.to_datetime(closed["event_month"]) <= pd.Timestamp(as_of)]
    closed = closed.drop_duplicates("customer_id")
    if closed.empty:
        return frame([], CLOSURE_SCHEMA, [Note("closure reasons", f"no account closed by {as_of:%Y-%m}", "history")])
    table = pd.crosstab(closed["segment"], closed["closure_reason"])
    usable = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    chi2, p = (np.nan, np.nan)
    notes = []
    if usable.shape[0] > 1 and usable.shape[1] > 1:
        res = chi2_contingency(usable.to_numpy())
        chi2, p = float(res.statistic), float(res.pvalue)
    else:
        why = f"{usable.shape[0]} segment(s) x {usable.shape[1]} reason(s) with closures; the test needs 2 x 2"
        notes.append(Note("chi-square test of reason x segment", why, "history"))
    rows = []
    for seg, counts in table.iterrows():
        n = int(counts.sum())
        for reason, k in counts.items():
            lo, hi = proportion_confint(int(k), n, alpha=0.05, method="wilson")
            rows.append(
                {
                    "as_of_month": as_of,
                    "segment": seg,
                    "closure_reason": reason,
                    "n_customers": int(k),
                    "share": k / n,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "chi2_statistic": chi2,
                    "chi2_p_value": p,
                    "method": CLOSURE_METHOD,
                }
            )
    return frame(rows, CLOSURE_SCHEMA, notes)
