"""Prescriptive: which retention action to take for whom, ranked by expected value.

Value at risk of a customer = 12 months of margin, margin = 1.5 % a year of the positive balance
/ 12 + 1 % of the month's spend (the bank's assumptions, in ACTIONS and MARGIN_*). The expected
value of an action = churn probability x value at risk x save rate - cost. Each customer gets the
action with the highest positive expected value; customers with none are left out."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, cents_half_away, frame
from bank_assets.analytics.estimable import Note
from bank_assets.analytics.panel import month_starts

#: action -> (cost in PEN cents, share of would-be churners it keeps)
ACTIONS = {"CALL": (800, 0.20), "FEE_WAIVER_OFFER": (3_000, 0.35)}
MARGIN_BALANCE_YEARLY = 0.015
MARGIN_SPEND = 0.01
HORIZON_MONTHS = 12
SCHEMA = {
    "as_of_month": DATE,
    "rank": "int64",
    "customer_id": "string",
    "segment": "string",
    "churn_probability": "float64",
    "value_at_risk_cents": "int64",
    "action": "string",
    "action_cost_cents": "int64",
    "expected_value_cents": "int64",
}


def retention_actions(scores: pd.DataFrame, summary: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    if scores.empty:
        return frame([], SCHEMA, [Note("retention actions", "no churn scores for the month", "history")])
    month = summary[month_starts(summary["summary_month"]) == as_of].set_index("customer_id")
    s = scores.join(month[["segment", "positive_balance_pen", "spend_pen"]], on="customer_id", how="inner")
    monthly = (
        s["positive_balance_pen"].astype(float) * MARGIN_BALANCE_YEARLY / 12
        + s["spend_pen"].astype(float) * MARGIN_SPEND
    )
    value_cents = cents_half_away(monthly * HORIZON_MONTHS)
    best_action = pd.Series("NONE", index=s.index)
    best_ev = pd.Series(0, index=s.index, dtype=np.int64)
    best_cost = pd.Series(0, index=s.index, dtype=np.int64)
    for action, (cost, save) in ACTIONS.items():
        ev = cents_half_away(s["churn_probability"] * value_cents * save / 100) - cost
        better = ev > best_ev
        best_action[better], best_ev[better], best_cost[better] = action, ev[better], cost
    out = s.assign(
        value_at_risk_cents=value_cents, action=best_action, action_cost_cents=best_cost, expected_value_cents=best_ev
    )
    out = out[out["action"] != "NONE"].sort_values(["expected_value_cents", "customer_id"], ascending=[False, True])
    out["rank"] = np.arange(1, len(out) + 1)
    out["as_of_month"] = as_of
    return frame(out.reset_index(drop=True), SCHEMA)
