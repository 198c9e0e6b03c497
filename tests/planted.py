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


def credit(w: World, months: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """gold.fct_credit_applications, fct_loan_payments and dim_economic_indicators' columns the
    credit analytics read."""
    apps, pays, ind = [], [], []
    for m in months:
        a = w.table("credit_applications", m).to_pandas()
        a["application_month"] = pd.Timestamp(month_start(m))
        a["is_approved"] = a["decision"] == "APPROVED"
        a["loan_id"] = a["loan_id"].replace("", None)
        a["credit_score"] = a["credit_score"].astype(int)
        a["debt_to_income"] = a["debt_to_income"].astype(float)
        a["term_months"] = a["term_months"].astype(int)
        apps.append(a)
        p = w.table("loan_payments", m).to_pandas()
        p["instalment_no"] = p["instalment_no"].astype(int)
        p["days_past_due"] = p["days_past_due"].astype(int)
        p["paid_date"] = pd.to_datetime(p["paid_date"].replace("", None))
        p["due_date"] = pd.to_datetime(p["due_date"])
        pays.append(p)
        i = w.table("economic_indicators", m).to_pandas()
        ind.append(pd.DataFrame({"indicator_month": [pd.Timestamp(month_start(m))], "policy_rate": i["policy_rate"]}))
    return pd.concat(apps, ignore_index=True), pd.concat(pays, ignore_index=True), pd.concat(ind, ignore_index=True)


def fraud_alerts(w: World, months: list[int]) -> pd.DataFrame:
    """gold.fct_fraud_alerts' columns the fraud tests read: one row per closed alert, from the
    CLOSED milestones of the landing files (rule and timestamp included)."""
    rows = [w.table("fraud_alerts", m).to_pandas() for m in months]
    t = pd.concat(rows, ignore_index=True)
    closed = t[t["milestone"] == "CLOSED"]
    return pd.DataFrame(
        {
            "alert_id": closed["alert_id"],
            "rule_code": closed["rule_code"],
            "closed_ts": pd.to_datetime(closed["milestone_ts"]),
            "outcome": closed["outcome"],
        }
    )


def account_events(w: World, months: list[int]) -> pd.DataFrame:
    """gold.fct_account_events' columns the closure analytics read: every event with the
    customer and the customer's segment in the event's month."""
    frames = []
    for m in months:
        e = w.table("account_events", m).to_pandas()
        acc = w.table("accounts", m).to_pandas().set_index("account_id")["customer_id"]
        cust = w.table("customers", m).to_pandas().set_index("customer_id")["segment"]
        e["customer_id"] = e["account_id"].map(acc)
        e["segment"] = e["customer_id"].map(cust)
        e["closure_reason"] = e["closure_reason"].replace("", None)
        e["event_month"] = pd.Timestamp(month_start(m))
        frames.append(e)
    return pd.concat(frames, ignore_index=True)


def interactions(w: World, months: list[int]) -> pd.DataFrame:
    """gold.fct_customer_interactions' columns the analytics read."""
    t = pd.concat(
        [w.table("customer_interactions", m).to_pandas().assign(interaction_month=month_start(m)) for m in months]
    )
    t["is_complaint"] = t["reason"] == "COMPLAINT"
    t["satisfaction_score"] = pd.to_numeric(t["satisfaction_score"].replace("", None))
    return t


def gold_inputs(w: World, months: list[int]) -> dict[str, pd.DataFrame]:
    """Every gold table the analytics read (bank_assets.analytics.tables), recomputed from the
    landing tables, with the columns the analytics use."""
    s = summary(w, months)
    customers = pd.concat([w.table("customers", m).to_pandas() for m in months])
    district = customers.drop_duplicates("customer_id", keep="last").set_index("customer_id")["district"]
    s["district"] = s["customer_id"].map(district)
    apps, pays, ind = credit(w, months)
    accounts = []
    for m in months:
        a = w.table("accounts", m).to_pandas()
        accounts.append(
            a.assign(snapshot_month=pd.Timestamp(month_start(m)), credit_limit_pen=a["credit_limit"].astype(float))
        )
    products = pd.concat(
        [w.table("products", m).to_pandas().assign(valid_from=pd.Timestamp(month_start(m))) for m in months]
    )
    products["annual_rate"] = products["annual_rate"].astype(float)
    branches = w.table("branches").to_pandas().assign(valid_from=pd.Timestamp(month_start(months[0])))
    branches[["latitude", "longitude"]] = branches[["latitude", "longitude"]].astype(float)
    return {
        "fct_customer_monthly_summary": s,
        "fct_marketing_touches": touches(w, months),
        "fct_customer_interactions": interactions(w, months),
        "fct_fraud_alerts": fraud_alerts(w, months),
        "fct_credit_applications": apps,
        "fct_loan_payments": pays,
        "dim_economic_indicators": ind,
        "fct_account_balance_monthly": pd.concat(accounts, ignore_index=True),
        "dim_product": products,
        "fct_account_events": account_events(w, months),
        "dim_branch": branches,
    }


def report(customers: int = 2_000, n_months: int = 24) -> str:
    """Planted vs recovered, as a markdown table (`python -m tests.planted`)."""
    import warnings

    from bank_assets.analytics import causal, diagnostic, inferential, predictive
    from bank_assets.analytics import credit as credit_analytics
    from bank_assets.analytics.panel import churn_panel
    from bank_assets.contracts import CLOSURE_REASONS
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
    apps, pays, ind = credit(w, months)
    loans = credit_analytics.loan_panel(apps, pays, ind)
    dm = b.default_model
    planted_or = {
        "credit_score_per_100": dm.score_per_100,
        "debt_burden_per_10pp": dm.burden_per_10pp,
        "policy_rate_rise_per_pp": dm.rate_rise_per_pp,
        "late_first_instalment": dm.late_first_instalment,
        "term_per_12_months": dm.term_per_12m,
    }
    for r in credit_analytics.default_drivers(loans, as_of).itertuples():
        row(f"default odds ratio: {r.driver}", planted_or[r.driver], r.odds_ratio, r.ci_low, r.ci_high)
    for r in credit_analytics.timeliness_effect(loans, as_of).itertuples():
        row(
            "late first instalment -> default "
            + ("(naive: confounded, expected to miss)" if r.adjustment == "naive" else "(adjusted, causal)"),
            dm.late_first_instalment,
            r.odds_ratio,
            r.ci_low,
            r.ci_high,
        )
    fr = inferential.fraud_rule_tests(fraud_alerts(w, months), as_of)
    fp = b.fraud
    for r in fr[fr["test"] == "fraud_rate_vs_audit"].itertuples():
        planted = fp.fraud_rate_pattern / fp.fraud_rate_other if r.group_a == "EVENING_ONLINE_TE" else 1.0
        row(f"fraud rate {r.group_a} / random audit", planted, r.estimate, r.ci_low, r.ci_high)
    mixes = b.closure_reasons
    reasons = diagnostic.closure_reasons(account_events(w, months), as_of)
    for r in reasons[reasons["segment"].isin(["MASS", "PREMIUM"])].itertuples():
        planted = mixes[r.segment][CLOSURE_REASONS.index(r.closure_reason)]
        row(f"closure reason share {r.segment} {r.closure_reason}", planted, r.share, r.ci_low, r.ci_high)
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
