"""The synthetic bank's months as the customer-month summary gold builds, recomputed
independently in pandas from the generator's clean landing tables (no warehouse, no dbt).

Used by tests/test_planted_effects.py to check that the analytics recover the effects the
generator planted, at a size (small scale, many months) the pipeline tests cannot afford."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bank_assets.synthetic.months import month_label, month_start
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


def report(customers: int = 2_000, n_months: int = 24) -> str:
    """Planted vs recovered, as a markdown table (`python -m tests.planted`)."""
    import warnings

    from bank_assets.analytics import causal, diagnostic, inferential, predictive
    from bank_assets.analytics.panel import churn_panel
    from bank_assets.synthetic.params import EPOCH, Behaviour

    warnings.simplefilter("ignore")
    w = world(customers)
    months = list(range(EPOCH, EPOCH + n_months))
    s, t = summary(w, months), touches(w, months)
    inter = pd.concat(
        [w.table("customer_interactions", m).to_pandas().assign(interaction_month=month_start(m)) for m in months]
    )
    inter["is_complaint"] = inter["reason"] == "COMPLAINT"
    inter["satisfaction_score"] = pd.to_numeric(inter["satisfaction_score"].replace("", None))
    as_of, panel, b = month_start(months[-1]), churn_panel(s), Behaviour()
    plan = {c.campaign_id: c.purchase_rate_ratio for c in b.campaigns}
    rows = []

    def row(what: str, planted: float, est: float, lo: float, hi: float) -> None:
        rows.append(
            f"| {what} | {planted:g} | {est:.3f} | [{lo:.3f}, {hi:.3f}] | {'yes' if lo <= planted <= hi else 'NO'} |"
        )

    for r in causal.campaign_effects(s, t, as_of).itertuples():
        planted = plan[r.campaign_id] if r.design == "campaign" else 1.0
        row(f"{r.campaign_id} {r.design}: purchase rate ratio", planted, r.purchase_rate_ratio, r.ci_low, r.ci_high)
    g = inferential.group_tests(s, panel, inter, as_of).set_index("test")
    c = g.loc["complaint_rate_before_churn"]
    row(
        "complaint rate before churn / otherwise",
        b.complaint_rate_before_dormancy / b.complaint_rate,
        c.estimate,
        c.ci_low,
        c.ci_high,
    )
    d = diagnostic.churn_drivers(panel, as_of).set_index("driver")
    i = d.loc["inquired_2m"]
    row("inquiries (placebo driver): churn odds ratio", 1.0, i.odds_ratio, i.ci_low, i.ci_high)
    k = d.loc["complained_2m"]
    rows.append(
        f"| complaints: churn odds ratio (planted as a rate, x10) | > 1 | {k.odds_ratio:.3f} | "
        f"[{k.ci_low:.3f}, {k.ci_high:.3f}] | {'yes' if k.ci_low > 1 else 'NO'} |"
    )
    e = predictive.churn_model(panel, as_of)[1].iloc[0]
    head = f"{customers:,} customers, {month_label(months[0])}..{month_label(months[-1])}, as of {as_of:%Y-%m}"
    return "\n".join(
        [
            head,
            "",
            "| effect | planted | estimate | 95 % CI | planted inside |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"churn model: out-of-time AUC {e.auc_out_of_time:.3f} on {pd.Timestamp(e.test_month):%Y-%m} "
            f"({int(e.n_test):,} customers, {int(e.test_events)} churned)",
        ]
    )


if __name__ == "__main__":
    print(report())
