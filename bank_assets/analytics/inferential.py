"""Inferential: differences between groups with confidence intervals (scipy Welch tests,
statsmodels Wilson intervals and ratio of two proportions)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.estimable import Note
from bank_assets.analytics.panel import add_months, month_starts

SCHEMA = {
    "as_of_month": DATE,
    "test": "string",
    "group_a": "string",
    "group_b": "string",
    "estimate": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "statistic": "float64",
    "p_value": "float64",
    "n_a": "int64",
    "n_b": "Int64",  # NULL for one-group intervals
    "method": "string",
}
SEGMENT_PAIRS = (("AFFLUENT", "MASS"), ("PREMIUM", "AFFLUENT"), ("SME", "MASS"))
WELCH = "Welch two-sample t-test (scipy.stats.ttest_ind, equal_var=False); estimate = mean(a) - mean(b)"


def _welch(test: str, a_name: str, b_name: str, a: np.ndarray, b: np.ndarray, as_of: dt.date) -> dict | Note:
    what = f"{test} {a_name} vs {b_name}"
    if len(a) < 2 or len(b) < 2:
        return Note(what, f"groups of {len(a)} and {len(b)}; the test needs 2 in each", "history")
    if np.var(a) == 0 and np.var(b) == 0:
        return Note(what, "no variation in either group")
    from scipy import stats  # statistics load in the step that uses them, not at import

    r = stats.ttest_ind(a, b, equal_var=False)
    ci = r.confidence_interval(0.95)
    if not np.isfinite([r.statistic, r.pvalue, ci.low, ci.high]).all():
        return Note(what, "non-finite test statistic or interval")
    return {
        "as_of_month": as_of,
        "test": test,
        "group_a": a_name,
        "group_b": b_name,
        "estimate": float(np.mean(a) - np.mean(b)),
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "statistic": float(r.statistic),
        "p_value": float(r.pvalue),
        "n_a": len(a),
        "n_b": len(b),
        "method": WELCH,
    }


def _wilson(test: str, group: str, k: int, n: int, as_of: dt.date, method: str) -> dict | Note:
    """A one-group rate k / n with its Wilson 95 % interval (statsmodels)."""
    if n == 0:
        return Note(f"{test} {group}", "no observations", "history")
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return {
        "as_of_month": as_of,
        "test": test,
        "group_a": group,
        "group_b": None,
        "estimate": k / n,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "statistic": None,
        "p_value": None,
        "n_a": n,
        "n_b": None,
        "method": method,
    }


def group_tests(summary: pd.DataFrame, panel: pd.DataFrame, interactions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    rows: list[dict | Note] = []
    month = summary[month_starts(summary["summary_month"]) == as_of]
    active = month[month["status"] == "ACTIVE"]
    for a, b in SEGMENT_PAIRS:
        rows.append(
            _welch(
                "spend_by_segment",
                a,
                b,
                active.loc[active["segment"] == a, "spend_pen"].astype(float).to_numpy(),
                active.loc[active["segment"] == b, "spend_pen"].astype(float).to_numpy(),
                as_of,
            )
        )

    # churn rate per segment, every month t before the partition (t + 1 known by as_of): Wilson interval
    labelled = panel[panel["churned"].notna() & (panel["month"] < as_of)]
    for seg, g in labelled.groupby("segment", sort=True):
        rows.append(
            _wilson(
                "churn_rate",
                seg,
                int(g["churned"].sum()),
                len(g),
                as_of,
                "monthly churn rate (active at t, not active at t+1), Wilson 95 % interval",
            )
        )

    # complaint rate of customers about to churn (not active two months later) vs the others
    p = panel[panel["month"] <= add_months(as_of, -2)].copy()
    status = summary.assign(month=month_starts(summary["summary_month"])).set_index(["customer_id", "month"])["status"]
    later = pd.MultiIndex.from_arrays([p["customer_id"], p["month"].map(lambda m: add_months(m, 2))])
    p["status_t2"] = status.reindex(later).to_numpy()
    p = p[p["status_t2"].notna()]
    leaving = p[p["status_t2"] != "ACTIVE"]
    staying = p[p["status_t2"] == "ACTIVE"]
    complained = "complained_now"
    if len(leaving) and len(staying):
        p[complained] = 0
        c = summary.assign(month=month_starts(summary["summary_month"])).set_index(["customer_id", "month"])
        now = pd.MultiIndex.from_arrays([p["customer_id"], p["month"]])
        p[complained] = (c["n_complaints"].reindex(now).fillna(0).to_numpy() > 0).astype(int)
        k1, n1 = int(p.loc[p["status_t2"] != "ACTIVE", complained].sum()), len(leaving)
        k0, n0 = int(p.loc[p["status_t2"] == "ACTIVE", complained].sum()), len(staying)
        rows.append(
            _ratio(
                "complaint_rate_before_churn",
                ("churn within 2 months", k1, n1),
                ("still active", k0, n0),
                as_of,
                "ratio of the monthly complaint rates, log interval (statsmodels confint_proportions_2indep)",
            )
        )
    else:
        why = "no customer-month two months before a known status"
        rows.append(Note("complaint_rate_before_churn", why, "history"))

    # A/B of service channels: satisfaction of non-complaint contacts, chat vs phone
    it = interactions[(month_starts(interactions["interaction_month"]) == as_of) & ~interactions["is_complaint"]]
    it = it[it["satisfaction_score"].notna()]
    rows.append(
        _welch(
            "satisfaction_by_channel",
            "APP_CHAT",
            "PHONE",
            it.loc[it["channel"] == "APP_CHAT", "satisfaction_score"].astype(float).to_numpy(),
            it.loc[it["channel"] == "PHONE", "satisfaction_score"].astype(float).to_numpy(),
            as_of,
        )
    )
    return _frame(rows)


def _frame(rows: list[dict | Note]) -> pd.DataFrame:
    return frame([r for r in rows if isinstance(r, dict)], SCHEMA, [r for r in rows if isinstance(r, Note)])


#: the fraud rule every other rule is compared with: a random sample of purchases
AUDIT_RULE = "RANDOM_AUDIT"


def fraud_rule_tests(alerts: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """How often each fraud rule's alerts are confirmed fraud (Wilson interval), and how many times
    the random audit's rate that is (ratio of two proportions, log interval): every alert closed
    by the end of the partition month, once."""
    end = pd.Timestamp(add_months(as_of, 1))
    closed = alerts[alerts["outcome"].notna() & (pd.to_datetime(alerts["closed_ts"]) < end)]
    closed = closed.drop_duplicates("alert_id")
    rows: list[dict | Note] = []
    counts = {rule: (int((g["outcome"] == "CONFIRMED_FRAUD").sum()), len(g)) for rule, g in closed.groupby("rule_code")}
    for rule, (k, n) in sorted(counts.items()):
        method = "share of the rule's closed alerts confirmed as fraud, Wilson 95 % interval"
        rows.append(_wilson("fraud_confirmed_rate", rule, k, n, as_of, method))
    k0, n0 = counts.get(AUDIT_RULE, (0, 0))
    for rule, (k1, n1) in sorted(counts.items()):
        if rule != AUDIT_RULE:
            method = (
                "ratio of confirmed-fraud rates, rule vs random audit (the base rate), log interval "
                "(statsmodels confint_proportions_2indep)"
            )
            rows.append(_ratio("fraud_rate_vs_audit", (rule, k1, n1), (AUDIT_RULE, k0, n0), as_of, method))
    return _frame(rows)


def _ratio(test: str, a: tuple[str, int, int], b: tuple[str, int, int], as_of: dt.date, method: str) -> dict | Note:
    """The ratio of two proportions k/n with its log interval and test (statsmodels)."""
    (a_name, k1, n1), (b_name, k0, n0) = a, b
    if not (k1 and k0):
        why = f"{k1} of {n1} in {a_name} and {k0} of {n0} in {b_name}: a ratio needs events in both"
        return Note(f"{test} {a_name} vs {b_name}", why, "history" if not (n1 and n0) else "not_estimable")
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, compare="ratio", method="log")
    t = test_proportions_2indep(k1, n1, k0, n0, compare="ratio", method="log")
    return {
        "as_of_month": as_of,
        "test": test,
        "group_a": a_name,
        "group_b": b_name,
        "estimate": (k1 / n1) / (k0 / n0),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "statistic": float(t.statistic),
        "p_value": float(t.pvalue),
        "n_a": n1,
        "n_b": n0,
        "method": method,
    }
