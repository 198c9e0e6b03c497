"""Diagnostic: what drives churn? A logistic regression of next month's churn on this month's
customer features (statsmodels Logit), reported as odds ratios with 95 % confidence intervals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import statsmodels.api as sm

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.panel import FEATURES

MIN_EVENTS = 10
METHOD = "logit of churn at t+1 on features at t, all labelled months up to the partition; odds ratio = exp(coef)"
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
    labelled = panel[panel["churned"].notna() & (panel["month"] <= as_of)]
    events = int(labelled["churned"].sum())
    if events < MIN_EVENTS:
        return frame([], SCHEMA)
    features = usable_features(labelled)
    x = sm.add_constant(labelled[features].astype(float))
    fit = sm.Logit(labelled["churned"].astype(float), x).fit(disp=0, maxiter=200)
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
            "n_events": events,
            "method": METHOD,
        }
        for f in features
    ]
    return frame(rows, SCHEMA)


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
        return frame([], CLOSURE_SCHEMA)
    table = pd.crosstab(closed["segment"], closed["closure_reason"])
    usable = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    chi2, p = (np.nan, np.nan)
    if usable.shape[0] > 1 and usable.shape[1] > 1:
        res = chi2_contingency(usable.to_numpy())
        chi2, p = float(res.statistic), float(res.pvalue)
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
    return frame(rows, CLOSURE_SCHEMA)
