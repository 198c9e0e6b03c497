"""The customer-month panel the churn analytics share: features at month t, label at t + 1."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: features of the churn models, in order; inquiries are the placebo (not planted)
FEATURES = (
    "complained_2m",
    "inquired_2m",
    "log_purchases",
    "balance_trend",
    "products_held",
    "tenure_years",
    "segment_affluent",
    "segment_premium",
    "segment_sme",
)


def month_start(value: object) -> dt.date:
    ts = pd.Timestamp(value)
    return dt.date(ts.year, ts.month, 1)


def month_starts(values: pd.Series) -> pd.Series:
    """month_start of every value, computed once per distinct value (a column holds few months)."""
    return values.map({v: month_start(v) for v in values.unique()})


def add_months(month: dt.date, k: int) -> dt.date:
    n = month.year * 12 + month.month - 1 + k
    return dt.date(n // 12, n % 12 + 1, 1)


def churn_panel(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per customer active at month t, with FEATURES and `churned` (1 if not active at t + 1,
    NaN when t + 1 is not in the data yet). `summary` is gold.fct_customer_monthly_summary."""
    df = summary.copy()
    df["month"] = month_starts(df["summary_month"])
    df["month_no"] = df["month"].map(lambda m: m.year * 12 + m.month)
    df = df.sort_values(["customer_id", "month_no"])
    g = df.groupby("customer_id", sort=False)
    prev, nxt = g.shift(1), g.shift(-1)
    has_prev = (prev["month_no"] == df["month_no"] - 1).to_numpy()
    has_next = (nxt["month_no"] == df["month_no"] + 1).to_numpy()
    complaints_prev = np.where(has_prev, prev["n_complaints"].fillna(0), 0)
    inquiries_prev = np.where(has_prev, prev["n_inquiries"].fillna(0), 0)
    balance = df["positive_balance_pen"].astype(float).to_numpy()
    balance_prev = np.where(has_prev, prev["positive_balance_pen"].astype(float), balance)
    out = pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "month": df["month"],
            "segment": df["segment"],
            "status": df["status"],
            "complained_2m": ((df["n_complaints"].fillna(0) + complaints_prev) > 0).astype(int),
            "inquired_2m": ((df["n_inquiries"].fillna(0) + inquiries_prev) > 0).astype(int),
            "log_purchases": np.log1p(df["n_purchases"].astype(float)),
            "balance_trend": np.log1p(balance) - np.log1p(balance_prev),
            "products_held": df["products_held"].astype(float),
            "tenure_years": df["tenure_months"].astype(float) / 12.0,
            "segment_affluent": (df["segment"] == "AFFLUENT").astype(int),
            "segment_premium": (df["segment"] == "PREMIUM").astype(int),
            "segment_sme": (df["segment"] == "SME").astype(int),
            "spend_pen": df["spend_pen"].astype(float),
        }
    )
    # no row next month: not known yet (the last month), or the row was quarantined: unknown
    out["churned"] = np.where(has_next, (nxt["status"] != "ACTIVE").astype(float), np.nan)
    return out[out["status"] == "ACTIVE"].reset_index(drop=True)
