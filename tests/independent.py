"""An independent computation of gold figures straight from the landing files, in pandas.

It shares no code with the pipeline (no contracts, no SQL): it is the yardstick the tests hold
the dbt marts against. It assumes clean landing files (no injected defects).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import numpy as np
import pandas as pd


def read(root: Path, table: str, months: list[str]) -> pd.DataFrame:
    frames = [
        pd.read_csv(root / table / m / f"{table}.csv", dtype=str, keep_default_na=False).assign(month=m) for m in months
    ]
    return pd.concat(frames, ignore_index=True)


def money(values: pd.Series) -> pd.Series:
    return values.map(lambda v: Decimal(v) if v != "" else Decimal(0))


def transactions_pen(root: Path, months: list[str]) -> pd.DataFrame:
    """Transactions with amount_pen = round(amount * that day's rate, 2) (PEN rate 1)."""
    t = read(root, "transactions", months)
    fx = read(root, "fx_rates", months)
    rates = {(r.rate_date, r.currency): Decimal(r.rate_to_pen) for r in fx.itertuples()}
    amount = money(t["amount"])
    rate = [
        Decimal(1) if c == "PEN" else rates[(ts[:10], c)]
        for ts, c in zip(t["transaction_ts"], t["currency"], strict=True)
    ]
    t["amount_pen"] = [
        (a * r).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for a, r in zip(amount, rate, strict=True)
    ]
    return t


def cashflow_monthly(root: Path, months: list[str]) -> dict[str, tuple[Decimal, Decimal]]:
    t = transactions_pen(root, months)
    out = {}
    for m, g in t.groupby("month"):
        out[m] = (
            sum(g.loc[g.direction == "CREDIT", "amount_pen"], Decimal(0)),
            sum(g.loc[g.direction == "DEBIT", "amount_pen"], Decimal(0)),
        )
    return out


def purchases_with_segment(root: Path, months: list[str]) -> pd.DataFrame:
    t = transactions_pen(root, months)
    a = read(root, "accounts", months)[["account_id", "customer_id", "month"]]
    c = read(root, "customers", months)[["customer_id", "segment", "month"]]
    p = t[t.txn_type == "PURCHASE"].merge(a, on=["account_id", "month"]).merge(c, on=["customer_id", "month"])
    p["amt"] = p["amount_pen"].astype(float)
    return p


def iqr_anomalies(root: Path, months: list[str], min_rows: int = 30) -> int:
    """Purchases above Q3 + 1.5 IQR of their (month, segment), groups of at least 30."""
    p = purchases_with_segment(root, months)
    total = 0
    for _, g in p.groupby(["month", "segment"]):
        if len(g) < min_rows:
            continue
        q1, q3 = np.quantile(g["amt"], [0.25, 0.75])  # linear interpolation = quantile_cont
        total += int((g["amt"] > q3 + 1.5 * (q3 - q1)).sum())
    return total


def div_half_up(numerator: Decimal, denominator: Decimal, places: int) -> Decimal | None:
    """The gold rounding rule: the exact quotient rounded half away from zero (ROUND_HALF_UP) to
    `places` decimals; None when the denominator is 0. Divided at 60 significant digits first,
    far more than any tie needs."""
    if denominator == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        return (numerator / denominator).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def customer_360(root: Path, months: list[str]) -> pd.DataFrame:
    """Per customer of the last snapshot, over all `months` (at most 12): monthly spend, income and
    fixed payments, debt burden, positive balance and lifetime value by the gold rounding rule
    (div_half_up), products, tenure and churn flag."""
    t = transactions_pen(root, months)
    a = read(root, "accounts", months)
    c = read(root, "customers", months)
    fx = read(root, "fx_rates", months)
    last = months[-1]
    t = t.merge(a[["account_id", "customer_id", "month"]], on=["account_id", "month"])
    present = c.groupby("customer_id")["month"].nunique().rename("months_present")

    def total(types: tuple[str, ...]) -> pd.Series:
        sel = t[t.txn_type.isin(types)]
        return sel.groupby("customer_id")["amount_pen"].apply(lambda s: sum(s, Decimal(0)))

    out = c[c.month == last].set_index("customer_id")[["segment", "status", "signup_date", "snapshot_date"]]
    out = out.join(present)
    months_present = out["months_present"]
    sums = {}
    for name, types in (
        ("purchases", ("PURCHASE",)),
        ("spend", ("PURCHASE", "WITHDRAWAL")),
        ("income", ("SALARY", "PENSION", "DEPOSIT")),
        ("fixed", ("BILL_PAYMENT", "AUTO_DEBIT", "LOAN_PAYMENT")),
    ):
        sums[name] = total(types).reindex(out.index).fillna(Decimal(0))
    for name in ("spend", "income", "fixed"):
        out[name] = [div_half_up(v, Decimal(int(n)), 2) for v, n in zip(sums[name], months_present, strict=True)]
    # ratio of the unrounded sums, not of the rounded monthly columns
    out["burden"] = [div_half_up(f, i, 6) for f, i in zip(sums["fixed"], sums["income"], strict=True)]

    # month-end balance_pen = round(balance * the snapshot date's rate, 2); positive part summed
    # over the customer's accounts and months
    rates = {(r.rate_date, r.currency): Decimal(r.rate_to_pen) for r in fx.itertuples()}
    balance_pen = [
        (Decimal(b) * (Decimal(1) if cur == "PEN" else rates[(day, cur)])).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        for b, cur, day in zip(a["balance"], a["currency"], a["snapshot_date"], strict=True)
    ]
    positive = pd.Series([max(b, Decimal(0)) for b in balance_pen], index=a.index)
    positive_sum = positive.groupby(a["customer_id"]).apply(lambda s: sum(s, Decimal(0)))
    positive_sum = positive_sum.reindex(out.index).fillna(Decimal(0))
    out["avg_positive_balance"] = [
        div_half_up(v, Decimal(int(n)), 2) for v, n in zip(positive_sum, months_present, strict=True)
    ]
    # 0.015 * purchases + 0.02 / 12 * positive balances = (0.18 * purchases + 0.02 * balances) / 12
    out["lifetime_value"] = [
        div_half_up(Decimal("0.18") * p + Decimal("0.02") * b, Decimal(12), 2)
        for p, b in zip(sums["purchases"], positive_sum, strict=True)
    ]

    open_accounts = a[(a.month == last) & (a.status != "CLOSED")]
    out["products_held"] = open_accounts.groupby("customer_id")["product"].nunique().reindex(out.index).fillna(0)
    snap = pd.to_datetime(out["snapshot_date"])
    signup = pd.to_datetime(out["signup_date"])
    out["tenure_months"] = (snap.dt.year - signup.dt.year) * 12 + (snap.dt.month - signup.dt.month)
    out["churn_flag"] = out["status"].isin(["DORMANT", "CLOSED"])
    return out
