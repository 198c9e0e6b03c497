"""Predictive: who churns next month (scikit-learn logistic regression trained on past months,
judged out of time), and how many transactions the next months bring (statsmodels ETS with
prediction intervals)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.diagnostic import usable_features
from bank_assets.analytics.panel import add_months, month_start

SCORE_SCHEMA = {"as_of_month": DATE, "customer_id": "string", "churn_probability": "float64", "risk_decile": "int64"}
EVAL_SCHEMA = {
    "as_of_month": DATE,
    "train_first_month": DATE,
    "train_last_month": DATE,
    "test_month": DATE,
    "n_train": "int64",
    "n_test": "int64",
    "test_events": "int64",
    "base_rate": "float64",
    "auc_out_of_time": "float64",
    "method": "string",
}
FORECAST_SCHEMA = {
    "as_of_month": DATE,
    "forecast_month": DATE,
    "horizon": "int64",
    "predicted_transactions": "float64",
    "pi_low": "float64",
    "pi_high": "float64",
    "method": "string",
}
MIN_EVENTS = 5
FORECAST_HORIZON = 3
MIN_FORECAST_MONTHS = 6


def _model() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def churn_model(panel: pd.DataFrame, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores of the customers active at `as_of`, the out-of-time evaluation). The model is judged
    on the latest labelled month after training on the months before it, then refit on every
    labelled month to score the partition's month."""
    labelled = panel[panel["churned"].notna() & (panel["month"] < as_of)]
    months = sorted(labelled["month"].unique())
    empty = frame([], SCORE_SCHEMA), frame([], EVAL_SCHEMA)
    if len(months) < 3:
        return empty
    test_month = months[-1]
    train, test = labelled[labelled["month"] < test_month], labelled[labelled["month"] == test_month]
    if train["churned"].sum() < MIN_EVENTS or test["churned"].nunique() < 2:
        return empty
    features = usable_features(train)
    model = _model().fit(train[features], train["churned"].astype(int))
    auc = roc_auc_score(test["churned"].astype(int), model.predict_proba(test[features])[:, 1])
    evaluation = pd.DataFrame(
        [
            {
                "as_of_month": as_of,
                "train_first_month": months[0],
                "train_last_month": months[-2],
                "test_month": test_month,
                "n_train": len(train),
                "n_test": len(test),
                "test_events": int(test["churned"].sum()),
                "base_rate": float(test["churned"].mean()),
                "auc_out_of_time": float(auc),
                "method": "scikit-learn LogisticRegression on standardised features; AUC on the latest labelled month, "
                "trained on the months before it",
            }
        ],
        columns=list(EVAL_SCHEMA),
    )
    final = _model().fit(labelled[features], labelled["churned"].astype(int))
    now = panel[panel["month"] == as_of]
    prob = final.predict_proba(now[features])[:, 1]
    scores = pd.DataFrame(
        {"as_of_month": as_of, "customer_id": now["customer_id"].to_numpy(), "churn_probability": prob}
    )
    scores["risk_decile"] = 10 - pd.qcut(scores["churn_probability"].rank(method="first"), 10, labels=False)
    scores = scores.sort_values("churn_probability", ascending=False, kind="stable")
    return frame(scores, SCORE_SCHEMA), frame(evaluation, EVAL_SCHEMA)


def volume_forecast(summary: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Transactions of the next FORECAST_HORIZON months with 95 % prediction intervals: ETS with
    additive error and damped additive trend, fitted on every month up to the partition."""
    s = summary.assign(month=summary["summary_month"].map(month_start))
    series = s[s["month"] <= as_of].groupby("month")["n_transactions"].sum().sort_index().astype(float)
    if len(series) < MIN_FORECAST_MONTHS:
        return frame([], FORECAST_SCHEMA)
    y = pd.Series(series.to_numpy(), index=pd.period_range(series.index[0], periods=len(series), freq="M"))
    fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
    pred = fit.get_prediction(start=len(y), end=len(y) + FORECAST_HORIZON - 1).summary_frame(alpha=0.05)
    out = pd.DataFrame(
        {
            "as_of_month": as_of,
            "forecast_month": [add_months(as_of, h) for h in range(1, FORECAST_HORIZON + 1)],
            "horizon": np.arange(1, FORECAST_HORIZON + 1),
            "predicted_transactions": pred["mean"].to_numpy(),
            "pi_low": pred["pi_lower"].to_numpy(),
            "pi_high": pred["pi_upper"].to_numpy(),
            "method": "statsmodels ETSModel(error=add, trend=add, damped) on monthly totals; 95 % prediction interval",
        },
        columns=list(FORECAST_SCHEMA),
    )
    return frame(out, FORECAST_SCHEMA)
