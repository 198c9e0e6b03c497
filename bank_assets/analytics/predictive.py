"""Predictive: who churns next month (scikit-learn logistic regression trained on past months,
judged out of time), and how many transactions the next months bring (statsmodels ETS with
prediction intervals)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.diagnostic import usable_features
from bank_assets.analytics.estimable import Note
from bank_assets.analytics.panel import FEATURES, add_months, month_starts

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
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


#: churn_model's recent results by (as_of, panel content): churn_scores and churn_model_evaluation
#: are two tables of one fit, so a run fits the model once per month
_FITS: dict[tuple[dt.date, int, tuple[int, ...]], tuple[pd.DataFrame, pd.DataFrame]] = {}
_FITS_KEPT = 4


def churn_model(panel: pd.DataFrame, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores of the customers active at `as_of`, the out-of-time evaluation). The model is judged
    on the latest labelled month after training on the months before it, then refit on every
    labelled month to score the partition's month. The same panel and month give the same fit,
    computed once in a process (the second caller gets copies of the first result)."""
    key = (as_of, int(pd.util.hash_pandas_object(panel, index=True).sum()), panel.shape)
    if key not in _FITS:
        if len(_FITS) >= _FITS_KEPT:
            _FITS.pop(next(iter(_FITS)))
        _FITS[key] = _fit_churn_model(panel, as_of)
    scores, evaluation = _FITS[key]
    return scores.copy(), evaluation.copy()


def _fit_churn_model(panel: pd.DataFrame, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.metrics import roc_auc_score

    complete = panel.dropna(subset=[f for f in FEATURES if f in panel.columns])  # complete cases only
    labelled = complete[complete["churned"].notna() & (complete["month"] < as_of)]
    months = sorted(labelled["month"].unique())

    def empty(reason: str, kind: str = "not_estimable") -> tuple[pd.DataFrame, pd.DataFrame]:
        notes = [Note("churn model", reason, kind)]
        return frame([], SCORE_SCHEMA, notes), frame([], EVAL_SCHEMA, notes)

    if len(months) < 3:
        return empty(f"{len(months)} labelled month(s) before {as_of:%Y-%m}; the model needs 3", "history")
    test_month = months[-1]
    train, test = labelled[labelled["month"] < test_month], labelled[labelled["month"] == test_month]
    events = int(train["churned"].sum())
    if min(events, len(train) - events) < MIN_EVENTS:
        return empty(f"{events} churn events in {len(train)} training rows; the model needs {MIN_EVENTS} of each")
    if test["churned"].nunique() < 2:
        return empty(f"the test month {test_month:%Y-%m} has one outcome only: no AUC")
    features = usable_features(train)
    if not features:
        return empty("no feature varies in the training months")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is checked below, on the fitted model
        model = _model().fit(train[features], train["churned"].astype(int))
        final = _model().fit(labelled[features], labelled["churned"].astype(int))
    if max(model[-1].n_iter_.max(), final[-1].n_iter_.max()) >= model[-1].max_iter:
        return empty("logistic regression did not converge")
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
    now = complete[complete["month"] == as_of]
    if now.empty:
        note = Note("churn scores", f"no active customer in {as_of:%Y-%m} to score")
        return frame([], SCORE_SCHEMA, [note]), frame(evaluation, EVAL_SCHEMA)
    prob = final.predict_proba(now[features])[:, 1]
    scores = pd.DataFrame(
        {"as_of_month": as_of, "customer_id": now["customer_id"].to_numpy(), "churn_probability": prob}
    )
    scores["risk_decile"] = 10 - decile(scores["churn_probability"])
    scores = scores.sort_values("churn_probability", ascending=False, kind="stable")
    return frame(scores, SCORE_SCHEMA), frame(evaluation, EVAL_SCHEMA)


def decile(values: pd.Series) -> np.ndarray:
    """0 (lowest) .. 9 (highest): equal-count bins of the ranks (ties broken by order)."""
    rank = values.rank(method="first")
    if len(values) >= 10:
        return pd.qcut(rank, 10, labels=False).to_numpy()
    return np.floor((rank.to_numpy() - 1) * 10 / len(values)).astype(int)  # fewer rows than bins


def volume_forecast(summary: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Transactions of the next FORECAST_HORIZON months with 95 % prediction intervals: ETS with
    additive error and damped additive trend, fitted on every month up to the partition."""
    s = summary.assign(month=month_starts(summary["summary_month"]))
    series = s[s["month"] <= as_of].groupby("month")["n_transactions"].sum().sort_index().astype(float)
    if len(series) < MIN_FORECAST_MONTHS:
        why = f"{len(series)} month(s) of history; the forecast needs {MIN_FORECAST_MONTHS}"
        return frame([], FORECAST_SCHEMA, [Note("volume forecast", why, "history")])
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = pd.Series(series.to_numpy(), index=pd.period_range(series.index[0], periods=len(series), freq="M"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optimizer chatter; a fit that is not usable is judged below
            fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
            pred = fit.get_prediction(start=len(y), end=len(y) + FORECAST_HORIZON - 1).summary_frame(alpha=0.05)
    except (ValueError, np.linalg.LinAlgError) as e:
        return frame([], FORECAST_SCHEMA, [Note("volume forecast", f"ETS fit failed ({e})")])
    if not fit.mle_retvals.get("converged", True):
        return frame([], FORECAST_SCHEMA, [Note("volume forecast", "the ETS fit did not converge")])
    if not np.isfinite(pred[["mean", "pi_lower", "pi_upper"]].to_numpy()).all():
        return frame([], FORECAST_SCHEMA, [Note("volume forecast", "non-finite forecast or interval")])
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
