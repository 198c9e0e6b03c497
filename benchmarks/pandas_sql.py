"""Naive baseline: pandas + ``DataFrame.to_sql``, the way seed projects do it: one month of landing
files -> silver -> gold, into SQLite or PostgreSQL (the seeds' real stack).

Each file is read with ``pandas.read_csv`` (all text), cleaned with vectorized pandas (trim,
upper-case codes, lower-case emails, coerce casts, quarantine with the same reason codes and rule
order as the project, last-wins dedupe on the business key, PEN conversion with the day's fx rate)
and written with ``DataFrame.to_sql`` (``if_exists="replace"``, ``index=False``, pandas' defaults
otherwise) into tables ``silver_<table>`` / ``silver_<table>_rejects``. The gold aggregates are
computed in pandas and written the same way as ``gold_<mart>``. The target is a SQLite file (a
``sqlite3`` connection) or a SQLAlchemy URL or engine (PostgreSQL: psycopg2, SQLAlchemy's default
batched executemany); the cleaning code is the same for both.

Money is float64 (rounded to cents), as a naive project would have it, so sums can differ from the
DECIMAL(18,2) warehouse by a cent or so. Loan payments may point at loans of earlier months: with
``prior_months`` (default) earlier months' loan files in the landing zone are processed first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bank_assets.layout import landing_file

CUR = ("PEN", "USD", "EUR")
STATUS = ("ACTIVE", "DORMANT", "CLOSED")
SPEND = ("RETAIL", "ENTERTAINMENT", "GROCERIES", "RESTAURANTS", "TRANSPORT", "HEALTH", "TRAVEL", "EDUCATION", "OTHER")
CATEGORIES = (*SPEND, "CASH", "UTILITIES", "SUBSCRIPTIONS", "LOAN", "TRANSFER", "INCOME")
TXN_TYPES = (
    *("PURCHASE", "WITHDRAWAL", "BILL_PAYMENT", "AUTO_DEBIT", "LOAN_PAYMENT"),
    *("TRANSFER_OUT", "SALARY", "PENSION", "DEPOSIT", "TRANSFER_IN"),
)

# Per table: column -> kind (id/text are just trimmed), optional columns (the rest are required), non-negative money,
# accepted values, event column (monthly tables), business key, foreign keys -> parent.
TABLES: dict[str, dict] = {
    "fx_rates": {
        "cols": {"rate_date": "date", "currency": "code", "rate_to_pen": "decimal"},
        "accepted": {"currency": CUR},
        "event": "rate_date",
        "key": ["rate_date", "currency"],
    },
    "branches": {
        "cols": {"branch_id": "id", "branch_name": "text", "branch_type": "code", "district": "text", "zone": "text"}
        | {"latitude": "decimal", "longitude": "decimal"},
        "accepted": {"branch_type": ("BRANCH", "ATM")},
        "key": ["branch_id"],
    },
    "merchants": {
        "cols": {"merchant_id": "id", "merchant_name": "text", "category": "code", "mcc": "code", "district": "text"},
        "accepted": {"category": SPEND},
        "key": ["merchant_id"],
    },
    "customers": {
        "cols": {"customer_id": "id", "first_name": "text", "last_name": "text", "email": "email"}
        | {"national_id": "id", "phone": "text", "birth_date": "date", "street": "text", "district": "text"}
        | {"city": "text", "segment": "code", "income_band": "code", "employment_status": "code"}
        | {"signup_date": "date", "status": "code", "snapshot_date": "date"},
        "optional": ["email", "phone", "street"],
        "accepted": {
            "segment": ("MASS", "AFFLUENT", "PREMIUM", "SME"),
            "income_band": ("LOW", "MID", "HIGH", "VERY_HIGH"),
            "employment_status": ("EMPLOYED", "SELF_EMPLOYED", "RETIRED", "STUDENT", "UNEMPLOYED"),
            "status": STATUS,
        },
        "event": "snapshot_date",
        "key": ["customer_id"],
    },
    "accounts": {
        "cols": {"account_id": "id", "customer_id": "id", "branch_id": "id", "product": "code", "currency": "code"}
        | {"opened_date": "date", "closed_date": "date", "credit_limit": "money", "balance": "money"}
        | {"status": "code", "snapshot_date": "date"},
        "optional": ["closed_date", "credit_limit"],
        "nonneg": ["credit_limit"],
        "accepted": {
            "product": ("CHECKING", "SAVINGS", "CREDIT_CARD", "TERM_DEPOSIT"),
            "currency": CUR,
            "status": STATUS,
        },
        "event": "snapshot_date",
        "key": ["account_id"],
        "fks": {"customer_id": "customers", "branch_id": "branches"},
        "money": ["credit_limit", "balance"],
    },
    "transactions": {
        "cols": {"transaction_id": "id", "account_id": "id", "merchant_id": "id", "counterparty_id": "id"}
        | {
            "transaction_ts": "timestamp",
            "amount": "money",
            "currency": "code",
            "direction": "code",
            "txn_type": "code",
            "category": "code",
        }
        | {"channel": "code"},
        "optional": ["merchant_id", "counterparty_id"],
        "nonneg": ["amount"],
        "accepted": {
            "currency": CUR,
            "direction": ("CREDIT", "DEBIT"),
            "txn_type": TXN_TYPES,
            "category": CATEGORIES,
            "channel": ("POS", "ONLINE", "ATM", "BRANCH", "TRANSFER", "AUTO_DEBIT"),
        },
        "event": "transaction_ts",
        "key": ["transaction_id"],
        "fks": {"account_id": "accounts", "merchant_id": "merchants"},
        "money": ["amount"],
    },
    "loans": {
        "cols": {"loan_id": "id", "customer_id": "id", "product": "code", "principal": "money", "currency": "code"}
        | {"annual_rate": "decimal", "term_months": "int", "instalment": "money", "origination_date": "date"},
        "nonneg": ["principal", "instalment"],
        "accepted": {"product": ("PERSONAL", "AUTO", "MORTGAGE", "SME"), "currency": CUR},
        "event": "origination_date",
        "key": ["loan_id"],
        "fks": {"customer_id": "customers"},
        "money": ["principal", "instalment"],
    },
    "loan_payments": {
        "cols": {"payment_id": "id", "loan_id": "id", "instalment_no": "int", "due_date": "date", "paid_date": "date"}
        | {"amount_due": "money", "amount_paid": "money", "currency": "code", "days_past_due": "int"},
        "optional": ["paid_date"],
        "nonneg": ["amount_due", "amount_paid"],
        "accepted": {"currency": CUR},
        "event": "due_date",
        "key": ["payment_id"],
        "fks": {"loan_id": "loans"},
        "money": ["amount_due", "amount_paid"],
    },
}
ORDER = ("fx_rates", "branches", "merchants", "customers", "accounts", "transactions", "loans", "loan_payments")
INVALID = {"date": "INVALID_DATE", "timestamp": "INVALID_TIMESTAMP"}


def _bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = dt.date.fromisoformat(f"{month}-01")
    end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return pd.Timestamp(start), pd.Timestamp(end)


def _cast(s: pd.Series, kind: str) -> pd.Series:
    if kind == "date":
        return pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    if kind == "timestamp":
        return pd.to_datetime(s, format="ISO8601", errors="coerce")
    num = pd.to_numeric(s, errors="coerce")
    return num.round({"money": 2, "decimal": 6, "int": 0}[kind])


def silver(
    table: str, path: Path, month: str | None, parents: dict[str, pd.DataFrame], fx: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean one landing file: (silver rows, rejects). `parents` holds the parent tables' silver rows."""
    spec = TABLES[table]
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda s: s.str.strip())
    raw = raw.where(raw != "")
    df = pd.DataFrame({"_source_row": np.arange(1, len(raw) + 1)})
    for col, kind in spec["cols"].items():
        if kind == "code":
            df[col] = raw[col].str.upper()
        elif kind == "email":
            df[col] = raw[col].str.lower()
        elif kind in ("id", "text"):
            df[col] = raw[col]
        else:
            df[col] = _cast(raw[col], kind)
    rules: list[tuple[pd.Series, str]] = [
        (raw[c].isna(), f"NULL_REQUIRED|{c}") for c in spec["cols"] if c not in spec.get("optional", ())
    ]
    for col, kind in spec["cols"].items():
        if kind in ("date", "timestamp", "money", "decimal", "int"):
            rules.append((raw[col].notna() & df[col].isna(), f"{INVALID.get(kind, 'INVALID_NUMBER')}|{col}"))
    rules += [(df[c] < 0, f"NEGATIVE_AMOUNT|{c}") for c in spec.get("nonneg", [])]
    for col, values in spec["accepted"].items():
        code = "UNKNOWN_CURRENCY" if values == CUR else "NOT_ACCEPTED"
        rules.append((df[col].notna() & ~df[col].isin(values), f"{code}|{col}"))
    if month and "event" in spec:
        start, end = _bounds(month)
        e = df[spec["event"]]
        rules.append((e.notna() & ~((e >= start) & (e < end)), f"OUT_OF_PARTITION|{spec['event']}"))
    for col, parent in spec.get("fks", {}).items():
        # the project's rule: a parent key seen in the parent's file (valid or quarantined) counts
        keys = parents.get(f"{parent}__seen", parents[parent][TABLES[parent]["key"][0]])
        rules.append((df[col].notna() & ~df[col].isin(keys), f"ORPHAN_FK|{col}"))
    if spec.get("money"):
        day = df[spec["event"]].dt.normalize()
        rates = df[["currency"]].assign(rate_date=day).merge(fx, how="left", on=["rate_date", "currency"])
        rate = rates["rate_to_pen"].where(df["currency"] != "PEN", 1.0).to_numpy()
        rules.append((df["currency"].ne("PEN") & np.isnan(rate), "NO_FX_RATE|currency"))
        for col in spec["money"]:
            df[f"{col}_pen"] = (df[col] * rate).round(2)
    reason = pd.Series(
        np.select([c.fillna(False).to_numpy(bool) for c, _ in rules], [r for _, r in rules], default=""),
        index=df.index,
    )
    partition = pd.Timestamp(f"{month}-01") if month else pd.NaT
    ok = df[reason == ""].drop_duplicates(subset=spec["key"], keep="last").assign(_partition_month=partition)
    for col, kind in spec["cols"].items():
        if kind == "int":
            ok[col] = ok[col].astype("Int64")
    rejected = reason != ""
    bad = raw[rejected].assign(_source_row=df.loc[rejected, "_source_row"], _partition_month=partition)
    parts = reason[rejected].str.split("|", n=1, expand=True).reindex(columns=[0, 1])
    bad = bad.assign(reason_code=parts[0], reason_column=parts[1])
    return ok, bad


def _ntile(order: pd.Series, n: int = 5) -> np.ndarray:
    """ntile(n) of rows already in rank order `order` (0..len-1), as SQL assigns it."""
    size, extra = divmod(len(order), n)
    pos = order.to_numpy()
    big = extra * (size + 1)
    return np.where(pos < big, pos // max(size + 1, 1), extra + (pos - big) // max(size, 1)) + 1


def gold(s: dict[str, pd.DataFrame], month: str) -> dict[str, pd.DataFrame]:
    """The dbt marts for the month, in pandas (float money)."""
    start, end = _bounds(month)
    m = lambda df, col: df[(df[col] >= start) & (df[col] < end)]  # noqa: E731
    zones = s["branches"].groupby("district", as_index=False)["zone"].min()
    acc = m(s["accounts"], "snapshot_date")
    cus = m(s["customers"], "snapshot_date")
    tx = m(s["transactions"], "transaction_ts")
    # an account quarantined this month: its customer from the quarantined row (see reference_duckdb)
    seen = s["accounts__seen"].drop_duplicates("account_id", keep="last")
    acc_any = pd.concat(
        [acc[["account_id", "customer_id", "product", "branch_id"]], seen[["account_id", "customer_id"]]]
    )
    fct = (
        tx.drop(columns=["_source_row", "_partition_month"])
        .merge(acc_any.drop_duplicates("account_id", keep="first"), on="account_id", how="left")
        .rename(columns={"product": "account_product"})
        .merge(cus[["customer_id", "segment", "district", "status"]], on="customer_id", how="left")
        .rename(columns={"status": "customer_status"})
        .merge(zones, on="district", how="left")
        .merge(
            s["merchants"][["merchant_id", "category", "district"]].rename(
                columns={"category": "merchant_category", "district": "merchant_district"}
            ),
            on="merchant_id",
            how="left",
        )
        .merge(
            s["branches"][["branch_id", "district", "zone"]].rename(
                columns={"district": "branch_district", "zone": "branch_zone"}
            ),
            on="branch_id",
            how="left",
        )
        .drop(columns=["branch_id"])
    )
    credit = fct["direction"] == "CREDIT"
    fct["signed_amount_pen"] = fct["amount_pen"].where(credit, -fct["amount_pen"])
    fct["transaction_date"] = fct["transaction_ts"].dt.normalize()
    fct["transaction_month"] = fct["transaction_ts"].dt.to_period("M").dt.to_timestamp()
    fct["inflow"] = fct["amount_pen"].where(credit, 0.0)
    fct["outflow"] = fct["amount_pen"].where(~credit, 0.0)
    fct["is_credit"] = credit

    out: dict[str, pd.DataFrame] = {}
    g = fct.groupby("transaction_month")
    cash = g.agg(
        inflow_pen=("inflow", "sum"),
        outflow_pen=("outflow", "sum"),
        n_transactions=("transaction_id", "size"),
        n_credits=("is_credit", "sum"),
    ).reset_index()
    cash["net_pen"] = cash["inflow_pen"] - cash["outflow_pen"]
    cash["n_debits"] = cash["n_transactions"] - cash["n_credits"]
    out["cashflow_monthly"] = cash.rename(columns={"transaction_month": "report_month"}).round(2)
    bycat = fct.groupby(["transaction_month", "category"]).agg(
        inflow_pen=("inflow", "sum"), outflow_pen=("outflow", "sum"), n_transactions=("transaction_id", "size")
    )
    bycat["net_pen"] = bycat["inflow_pen"] - bycat["outflow_pen"]
    out["cashflow_by_category_monthly"] = bycat.reset_index().rename(columns={"transaction_month": "report_month"})

    pur = fct[fct["txn_type"] == "PURCHASE"]
    spend = pur.groupby(["transaction_month", "category"]).agg(
        spend_pen=("amount_pen", "sum"), n_purchases=("transaction_id", "size")
    )
    spend["share_of_month"] = (spend["spend_pen"] / spend.groupby(level=0)["spend_pen"].transform("sum")).round(6)
    out["spend_by_category_monthly"] = spend.reset_index().rename(columns={"transaction_month": "report_month"})

    seg = pur.groupby(["transaction_month", "segment"])["amount_pen"]
    iqr = pd.DataFrame({"n_purchases": seg.size(), "q1": seg.quantile(0.25), "q3": seg.quantile(0.75)})
    iqr = iqr[iqr["n_purchases"] >= 30].round(6)
    iqr["threshold"] = (iqr["q3"] + 1.5 * (iqr["q3"] - iqr["q1"])).round(6)
    iqr = iqr.reset_index()
    thr = iqr[["transaction_month", "segment", "q1", "q3", "threshold"]]
    anom = pur.merge(thr, on=["transaction_month", "segment"])
    anom = anom[anom["amount_pen"] > anom["threshold"]]
    cols = "transaction_id customer_id account_id merchant_id category segment district zone amount_pen q1 q3"
    out["transaction_anomalies"] = anom[[*cols.split(), "threshold", "transaction_ts", "transaction_month"]]
    keys = ["transaction_month", "segment"]
    rate = pur.groupby(keys, dropna=False).agg(
        n_purchases=("transaction_id", "size"), purchase_amount_pen=("amount_pen", "sum")
    )
    acnt = anom.groupby(keys).agg(n_anomalies=("transaction_id", "size"), anomalous_amount_pen=("amount_pen", "sum"))
    rate = rate.join(acnt).fillna({"n_anomalies": 0, "anomalous_amount_pen": 0.0}).reset_index()
    rate = rate.merge(thr, on=keys, how="left")
    rate["is_evaluated"] = rate["threshold"].notna()
    rate["anomaly_rate"] = (rate["n_anomalies"] / rate["n_purchases"]).round(6).where(rate["is_evaluated"])
    out["anomaly_rate_monthly"] = rate.rename(columns={"transaction_month": "report_month"})

    bal = acc.drop(columns=["_source_row", "_partition_month"]).merge(
        s["branches"][["branch_id", "district", "zone"]].rename(
            columns={"district": "branch_district", "zone": "branch_zone"}
        ),
        on="branch_id",
        how="left",
    )
    bal["snapshot_month"] = bal["snapshot_date"].dt.to_period("M").dt.to_timestamp()
    dep = bal[bal["product"].isin(("CHECKING", "SAVINGS", "TERM_DEPOSIT")) & (bal["balance_pen"] > 0)]
    dep = dep.groupby(["snapshot_month", "branch_district", "branch_zone"], dropna=False)["balance_pen"]
    out["deposits_by_region"] = (
        pd.DataFrame({"n_accounts": dep.size(), "total_balance_pen": dep.sum(), "avg_balance_pen": dep.mean()})
        .round(2)
        .reset_index()
    )
    liquid = bal[bal["product"].isin(("CHECKING", "SAVINGS")) & (bal["balance_pen"] > 0)]
    liq = pd.concat(
        [
            liquid.groupby("snapshot_month")["balance_pen"].sum().rename("liquid_balances_pen"),
            fct[~credit].groupby("transaction_month")["amount_pen"].sum().rename("outflow_pen"),
        ],
        axis=1,
    ).fillna(0.0)
    liq["coverage_ratio"] = (liq["liquid_balances_pen"] / liq["outflow_pen"].replace(0.0, np.nan)).round(6)
    out["liquidity_monthly"] = liq.round({"liquid_balances_pen": 2, "outflow_pen": 2}).rename_axis("report_month")
    out["liquidity_monthly"] = out["liquidity_monthly"].reset_index()

    pay = m(s["loan_payments"], "due_date").drop(columns=["_source_row", "_partition_month"])
    loans = s["loans"][["loan_id", "customer_id", "product", "term_months", "principal_pen", "origination_date"]]
    flp = pay.merge(
        loans.rename(columns={"product": "loan_product", "principal_pen": "loan_principal_pen"}), how="left"
    )
    flp["is_paid"] = flp["paid_date"].notna()
    dpd = flp["days_past_due"].astype(float)
    flp["delinquency_bucket"] = np.select(
        [dpd <= 0, dpd <= 30, dpd <= 60, dpd <= 90], ["CURRENT", "1-30", "31-60", "61-90"], default="90+"
    )
    flp["due_month"] = flp["due_date"].dt.to_period("M").dt.to_timestamp()
    out["fct_loan_payments"] = flp
    lm = (
        flp.assign(unpaid=~flp["is_paid"])
        .sort_values("days_past_due")
        .groupby(["due_month", "loan_id"])
        .agg(
            bucket=("delinquency_bucket", "last"),
            principal_pen=("loan_principal_pen", "first"),
            n_instalments=("payment_id", "size"),
            n_unpaid=("unpaid", "sum"),
            amount_due_pen=("amount_due_pen", "sum"),
            amount_paid_pen=("amount_paid_pen", "sum"),
        )
        .reset_index()
    )
    buckets = {
        "current": "CURRENT",
        "dpd_1_30": "1-30",
        "dpd_31_60": "31-60",
        "dpd_61_90": "61-90",
        "dpd_90_plus": "90+",
    }
    for name, b in buckets.items():
        lm[f"n_loans_{name}"] = lm["bucket"] == b
        lm[f"principal_{name}_pen"] = lm["principal_pen"].where(lm["bucket"] == b, 0.0)
    port = lm.drop(columns=["loan_id", "bucket"]).groupby("due_month").sum()
    port = port.rename(
        columns={
            "principal_pen": "outstanding_principal_pen",
            "n_instalments": "n_instalments_due",
            "n_unpaid": "n_instalments_unpaid",
        }
    )
    port.insert(0, "n_loans", lm.groupby("due_month").size())
    port["non_performing_ratio"] = (port["principal_dpd_90_plus_pen"] / port["outstanding_principal_pen"]).round(6)
    out["loan_portfolio_monthly"] = port.round(2).reset_index().rename(columns={"due_month": "report_month"})

    t = fct.assign(
        purchases=fct["amount_pen"].where(fct["txn_type"] == "PURCHASE", 0.0),
        spend=fct["amount_pen"].where(fct["txn_type"].isin(("PURCHASE", "WITHDRAWAL")), 0.0),
        income=fct["amount_pen"].where(fct["txn_type"].isin(("SALARY", "PENSION", "DEPOSIT")), 0.0),
        fixed=fct["amount_pen"].where(fct["txn_type"].isin(("BILL_PAYMENT", "AUTO_DEBIT", "LOAN_PAYMENT")), 0.0),
    )
    tt = t.groupby("customer_id").agg(
        n_transactions=("transaction_id", "size"),
        last_transaction_date=("transaction_date", "max"),
        purchases=("purchases", "sum"),
        spend=("spend", "sum"),
        income=("income", "sum"),
        fixed=("fixed", "sum"),
        monetary=("outflow", "sum"),
    )
    pb = pd.DataFrame(
        {
            "positive_balance": bal.assign(p=bal["balance_pen"].clip(lower=0)).groupby("customer_id")["p"].sum(),
            "products_held": bal[bal["status"] != "CLOSED"].groupby("customer_id")["product"].nunique(),
        }
    )
    c = cus[["customer_id", "segment", "district", "status", "signup_date"]].copy()
    c["as_of_month"], c["as_of_date"] = start, cus["snapshot_date"].max()
    c = c.join(tt, on="customer_id").join(pb, on="customer_id")
    zero = ["n_transactions", "purchases", "spend", "income", "fixed", "monetary", "positive_balance", "products_held"]
    c[zero] = c[zero].fillna(0)
    c360 = c.assign(
        churn_flag=c["status"].isin(("DORMANT", "CLOSED")),
        months_present=1,
        tenure_months=(c["as_of_date"].dt.year - c["signup_date"].dt.year) * 12
        + (c["as_of_date"].dt.month - c["signup_date"].dt.month),
        purchases_pen=c["purchases"].round(2),
        avg_monthly_spend_pen=c["spend"].round(2),
        est_monthly_income_pen=c["income"].round(2),
        fixed_payments_pen=c["fixed"].round(2),
        debt_burden_ratio=(c["fixed"] / c["income"].replace(0.0, np.nan)).round(6),
        avg_positive_balance_pen=c["positive_balance"].round(2),
        lifetime_value_pen=(0.015 * c["purchases"] + 0.02 / 12 * c["positive_balance"]).round(2),
        first_month_in_window=start,
    )
    out["customer_360"] = c360.drop(columns=["purchases", "spend", "income", "fixed", "monetary", "positive_balance"])

    r = c[["customer_id", "segment", "status", "as_of_month", "as_of_date", "last_transaction_date"]].copy()
    r["recency_days"] = (r["as_of_date"] - r["last_transaction_date"]).dt.days
    r["frequency"], r["monetary_pen"] = c["n_transactions"], c["monetary"].round(2)
    ranks = {
        "r_score": (["recency_days", "customer_id"], [False, True], "first"),
        "f_score": (["frequency", "customer_id"], [True, True], "last"),
        "m_score": (["monetary_pen", "customer_id"], [True, True], "last"),
    }
    for name, (by, asc, na) in ranks.items():
        order = r.sort_values(by, ascending=asc, na_position=na).index
        r[name] = pd.Series(_ntile(pd.Series(np.arange(len(order)))), index=order)
    r["rfm_score"] = r["r_score"] + r["f_score"] + r["m_score"]
    high = r["status"].isin(("DORMANT", "CLOSED")) | (r["frequency"] == 0) | (r["rfm_score"] <= 6)
    r["risk_band"] = np.select([high, r["rfm_score"] <= 9], ["HIGH", "MEDIUM"], default="LOW")
    out["churn_risk"] = r

    fct = fct.drop(columns=["inflow", "outflow", "is_credit"])
    out["fct_account_balance_monthly"] = bal
    out["fct_transactions"] = fct
    for name in ("cashflow_by_category_monthly", "spend_by_category_monthly", "anomaly_rate_monthly"):
        out[name] = out[name].round({c: 2 for c in out[name].columns if c.endswith("_pen")})
    return out


def _earlier_months(landing: Path, month: str) -> list[str]:
    loans = Path(landing) / "loans"
    return sorted(p.name for p in loans.glob("*") if p.name < month and (p / "loans.csv").exists())


@contextlib.contextmanager
def _connect(target: Path | str | Any) -> Iterator[Any]:
    """A connection for ``to_sql``: sqlite3 for a file path (a fresh file), SQLAlchemy otherwise
    (one transaction, committed at the end)."""
    if isinstance(target, Path) or (isinstance(target, str) and "://" not in target):
        path = Path(target)
        path.unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as con, con:
            yield con
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import Engine

    engine = target if isinstance(target, Engine) else create_engine(target)
    try:
        with engine.begin() as con:
            yield con
    finally:
        if engine is not target:
            engine.dispose()


def run_pandas_sql(landing: Path, target: Path | str | Any, month: str, prior_months: bool = True) -> dict[str, int]:
    """Build silver and gold for `month` into `target` (a SQLite file path, recreated, or a
    SQLAlchemy URL/engine); return row counts per output table."""
    silvers: dict[str, list[pd.DataFrame]] = {}
    rejects: dict[str, list[pd.DataFrame]] = {}
    seen: dict[str, list[pd.Series]] = {}
    for mon in [*(_earlier_months(landing, month) if prior_months else []), month]:
        parents: dict[str, pd.DataFrame] = {}
        for table in ORDER if mon == month else ("fx_rates", "customers", "loans"):
            monthly = table not in ("branches", "merchants")
            if table == "loan_payments":
                parents["loans"] = pd.concat(silvers["loans"])  # loans of this month or earlier
            fx = parents["fx_rates"][["rate_date", "currency", "rate_to_pen"]] if "fx_rates" in parents else None
            path = landing_file(landing, table, mon)
            ok, bad = silver(table, path, mon if monthly else None, parents, fx)
            parents[table] = ok
            key = TABLES[table]["key"][0]
            seen.setdefault(table, []).extend([ok[key], bad[key]])
            # snapshots: this month's file; events (loans): every file so far
            parents[f"{table}__seen"] = pd.concat(seen[table] if table == "loans" else [ok[key], bad[key]])
            if table == "accounts" and mon == month:
                silvers["accounts__seen"] = [bad[["account_id", "customer_id"]]]
            silvers.setdefault(table, []).append(ok)
            rejects.setdefault(table, []).append(bad)
    counts: dict[str, int] = {}
    with _connect(target) as con:
        for table in ORDER:
            for name, frames in ((table, silvers), (f"{table}_rejects", rejects)):
                df = pd.concat(frames[table], ignore_index=True)
                df.to_sql(f"silver_{name}", con, if_exists="replace", index=False)
                counts[f"silver.{name}"] = len(frames[table][-1])
        everything = {t: pd.concat(silvers[t], ignore_index=True) for t in ORDER}
        everything["accounts__seen"] = silvers["accounts__seen"][0]
        for name, df in gold(everything, month).items():
            df.to_sql(f"gold_{name}", con, if_exists="replace", index=False)
            counts[f"gold.{name}"] = len(df)
    return counts


def stored_gold_counts(target: Path | str | Any, counts: dict[str, int]) -> dict[str, int]:
    """Rows actually stored in each ``gold_<mart>`` table of `counts` (read back, not timed)."""
    names = [k.removeprefix("gold.") for k in counts if k.startswith("gold.")]
    sql = {n: f'SELECT count(*) FROM "gold_{n}"' for n in names}
    if isinstance(target, Path) or (isinstance(target, str) and "://" not in target):
        with contextlib.closing(sqlite3.connect(Path(target))) as con:
            return {f"gold.{n}": con.execute(q).fetchone()[0] for n, q in sql.items()}
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import Engine

    engine = target if isinstance(target, Engine) else create_engine(target)
    try:
        with engine.connect() as con:
            return {f"gold.{n}": con.execute(text(q)).scalar_one() for n, q in sql.items()}
    finally:
        if engine is not target:
            engine.dispose()
