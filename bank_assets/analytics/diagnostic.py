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
