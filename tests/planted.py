"""The synthetic bank's months as the customer-month summary gold builds, recomputed
independently in pandas from the generator's clean landing tables (no warehouse, no dbt).

Used by tests/test_planted_effects.py to check that the analytics recover the effects the
generator planted, at a size (small scale, many months) the pipeline tests cannot afford."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bank_assets.synthetic.months import month_start
from bank_assets.synthetic.params import DefectRates, GeneratorConfig, Scale
from bank_assets.synthetic.tables import World


def world(customers: int = 2_000, seed: int = 42) -> World:
    return World(
        GeneratorConfig(seed=seed, scale=Scale(customers=customers, merchants=300), defects=DefectRates.clean())
    )


def summary(w: World, months: list[int]) -> pd.DataFrame:
    """gold.fct_customer_monthly_summary's columns the analytics read, month by month."""
    frames = []
    for m in months:
        first = month_start(m)
        cust = w.table("customers", m).to_pandas()
        acc = w.table("accounts", m).to_pandas()
        txn = w.table("transactions", m).to_pandas()
        inter = w.table("customer_interactions", m).to_pandas()
        owner = acc.set_index("account_id")["customer_id"]
        txn["customer_id"] = txn["account_id"].map(owner)
        buys = txn[txn["txn_type"] == "PURCHASE"].groupby("customer_id").size()
        spend = txn[txn["txn_type"].isin(["PURCHASE", "WITHDRAWAL"])].assign(a=lambda d: d["amount"].astype(float))
        spend = spend.groupby("customer_id")["a"].sum()
        acc["bal"] = acc["balance"].astype(float).clip(lower=0)  # fx ignored: independent, approximate
        bal = acc.groupby("customer_id")["bal"].sum()
        held = acc[acc["status"] != "CLOSED"].groupby("customer_id")["product"].nunique()
        complaints = inter[inter["reason"] == "COMPLAINT"].groupby("customer_id").size()
        inquiries = inter[inter["reason"] == "INQUIRY"].groupby("customer_id").size()
        signup = pd.to_datetime(cust["signup_date"])
        tenure = (first.year - signup.dt.year) * 12 + (first.month - signup.dt.month)
        ids = cust["customer_id"]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": ids,
                    "summary_month": first,
                    "segment": cust["segment"],
                    "status": cust["status"],
                    "tenure_months": tenure.clip(lower=0),
                    "n_transactions": ids.map(txn.groupby("customer_id").size()).fillna(0).astype(int),
                    "n_purchases": ids.map(buys).fillna(0).astype(int),
                    "spend_pen": ids.map(spend).fillna(0.0),
                    "positive_balance_pen": ids.map(bal).fillna(0.0),
                    "products_held": ids.map(held).fillna(0).astype(int),
                    "n_complaints": ids.map(complaints).fillna(0).astype(int),
                    "n_inquiries": ids.map(inquiries).fillna(0).astype(int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def touches(w: World, months: list[int]) -> pd.DataFrame:
    """gold.fct_marketing_touches' columns the analytics read."""
    camp = {}
    rows = []
    for m in months:
        c = w.table("campaigns", m).to_pandas()
        camp.update({r.campaign_id: (r.start_date, r.end_date) for r in c.itertuples()})
        rows.append(w.table("campaign_targets", m).to_pandas())
    t = pd.concat(rows, ignore_index=True)
    t["start_date"] = t["campaign_id"].map(lambda c: dt.date.fromisoformat(camp[c][0]))
    t["end_date"] = t["campaign_id"].map(lambda c: dt.date.fromisoformat(camp[c][1]))
    return t
