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


def add_months(month: dt.date, k: int) -> dt.date:
    n = month.year * 12 + month.month - 1 + k
    return dt.date(n // 12, n % 12 + 1, 1)


def churn_panel(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per customer active at month t, with FEATURES and `churned` (1 if not active at t + 1,
    NaN when t + 1 is not in the data yet). `summary` is gold.fct_customer_monthly_summary."""
    df = summary.copy()
    df["month"] = df["summary_month"].map(month_start)
    df = df.sort_values(["customer_id", "month"])
    g = df.groupby("customer_id", sort=False)
    prev = g.shift(1)
    nxt = g.shift(-1)
    prev_is_last_month = prev["month"].map(lambda m: m if pd.notna(m) else None)
    consecutive_prev = prev_is_last_month.notna() & (
        prev_is_last_month.map(lambda m: add_months(m, 1) if m else None) == df["month"]
    )
    complaints_prev = np.where(consecutive_prev, prev["n_complaints"].fillna(0), 0)
    inquiries_prev = np.where(consecutive_prev, prev["n_inquiries"].fillna(0), 0)
    balance_prev = np.where(consecutive_prev, prev["positive_balance_pen"].astype(float), np.nan)
    balance = df["positive_balance_pen"].astype(float)
    out = pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "month": df["month"],
            "segment": df["segment"],
            "status": df["status"],
            "complained_2m": ((df["n_complaints"].fillna(0) + complaints_prev) > 0).astype(int),
            "inquired_2m": ((df["n_inquiries"].fillna(0) + inquiries_prev) > 0).astype(int),
            "log_purchases": np.log1p(df["n_purchases"].astype(float)),
            "balance_trend": np.log1p(balance) - np.log1p(np.where(np.isnan(balance_prev), balance, balance_prev)),
            "products_held": df["products_held"].astype(float),
            "tenure_years": df["tenure_months"].astype(float) / 12.0,
            "segment_affluent": (df["segment"] == "AFFLUENT").astype(int),
            "segment_premium": (df["segment"] == "PREMIUM").astype(int),
            "segment_sme": (df["segment"] == "SME").astype(int),
            "spend_pen": df["spend_pen"].astype(float),
        }
    )
    next_known = nxt["month"].map(lambda m: m if pd.notna(m) else None)
    has_next = next_known.notna() & (next_known == df["month"].map(lambda m: add_months(m, 1)))
    # no row next month: not known yet (the last month), or the row was quarantined: unknown
    out["churned"] = np.where(has_next, (nxt["status"] != "ACTIVE").astype(float), np.nan)
    return out[out["status"] == "ACTIVE"].reset_index(drop=True)
