"""IFRS 9 staging, PD, EAD and ECL recomputed from the landing files and the documented parameters
(dbt_project.yml vars.ifrs9, docs/ifrs9.md), independently of the project's SQL.

Reads the CSV files with the standard library (clean files: every row valid). Exact amounts are
``decimal`` (half away from zero where docs/ifrs9.md says each is formed); the quantities the
docs say are formed in DOUBLE (the annuity balance, the probabilities) use Python floats with the
same operations, rounded as DuckDB rounds a DOUBLE: the scaled value to the nearest integer, half
away from zero.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml

from bank_assets.settings import DBT_PROJECT_DIR

P = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["ifrs9"]
CENT, MICRO = Decimal("0.01"), Decimal("0.000001")


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


def micro(x: Decimal) -> Decimal:
    return x.quantize(MICRO, ROUND_HALF_UP)


def double_round(x: float, places: int) -> Decimal:
    """DuckDB's round(DOUBLE, places): round(x * 10^places) half away from zero, / 10^places."""
    scaled = Decimal(x * 10**places).quantize(Decimal(1), ROUND_HALF_UP)
    return scaled.scaleb(-places)


def month_add(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def month_end(m: dt.date) -> dt.date:
    return m.replace(day=calendar.monthrange(m.year, m.month)[1])


def date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


class Landing:
    """The landing files of the months up to the last one asked for."""

    def __init__(self, root: Path, months: list[str]) -> None:
        self.root, self.months = root, months

    def rows(self, table: str, month: str) -> list[dict[str, str]]:
        with (self.root / table / month / f"{table}.csv").open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def all(self, table: str, upto: str) -> list[dict[str, str]]:
        return [r for m in self.months if m <= upto for r in self.rows(table, m)]


@dataclass
class Pd:
    n: int
    d: int
    observed_default_rate: Decimal | None
    observed_pd_12m: Decimal | None
    credibility_weight: Decimal
    pd_12m_ttc: Decimal
    policy_rate_change_pp: Decimal
    pd_12m: Decimal


def recompute_pd(land: Landing) -> dict[tuple[str, str], Pd]:
    """(month, product) -> the PD of ifrs9_pd_monthly."""
    out = {}
    rate = {
        r["indicator_date"][:7]: Decimal(r["policy_rate"])
        for m in land.months
        for r in land.rows("economic_indicators", m)
    }
    window, k, om = P["macro_window_months"], P["credibility_loans"], P["outcome_months"]
    for month in land.months:
        first = date(month + "-01")
        loans = land.all("loans", month)
        defaulted = {
            p["loan_id"]
            for p in land.all("loan_payments", month)
            if int(p["instalment_no"]) <= om and int(p["days_past_due"]) >= P["default_dpd"]
        }
        closed = [loan for loan in loans if date(loan["origination_date"][:7] + "-01") <= month_add(first, -om)]
        back = month_add(first, -window).isoformat()[:7]
        change = micro((rate[month] - rate[back]) * 100) if back in rate else Decimal(0)
        for product, q in P["products"].items():
            cohort = [loan for loan in closed if loan["product"] == product]
            n, d = len(cohort), sum(loan["loan_id"] in defaulted for loan in cohort)
            prior = Decimal(q["prior_pd_12m"])
            z = micro(Decimal(n) / Decimal(n + k))
            obs = None if n == 0 else double_round(1 - (1 - d / n) ** (12.0 / om), 6)
            ttc = micro(z * (obs or 0) + (1 - z) * prior)
            t = float(ttc)
            pit = double_round(
                1
                / (
                    1
                    + math.exp(-(math.log(t / (1 - t)) + math.log(float(P["macro_odds_ratio_per_pp"])) * float(change)))
                ),
                6,
            )
            out[(month, product)] = Pd(
                n, d, None if n == 0 else micro(Decimal(d) / Decimal(n)), obs, z, ttc, change, pit
            )
    return out


def recompute_stages(land: Landing) -> dict[tuple[str, str], dict[str, object]]:
    """(month, exposure_id) -> the columns of ifrs9_loan_stage_monthly that carry the method."""
    pd = recompute_pd(land)
    loans = {r["loan_id"]: r for r in land.all("loans", land.months[-1])}
    dpd: dict[tuple[str, str], tuple[int, int, dt.date]] = {}  # (month, loan) -> instalment, dpd, due
    for m in land.months:
        for p in land.rows("loan_payments", m):
            dpd[(m, p["loan_id"])] = (int(p["instalment_no"]), int(p["days_past_due"]), date(p["due_date"]))
        for loan in land.rows("loans", m):
            dpd[(m, loan["loan_id"])] = (0, 0, date(loan["origination_date"]))
    fx: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for m in land.months:
        for r in land.rows("fx_rates", m):
            fx[r["currency"]].append((date(r["rate_date"]), Decimal(r["rate_to_pen"])))

    def rate_at(currency: str, day: dt.date) -> Decimal:
        return max((d, r) for d, r in fx[currency] if d <= day)[1]

    def stage_of(month: str, loan_id: str) -> tuple[int, str, int | None]:
        first = date(month + "-01")
        _, now, _ = dpd[(month, loan_id)]
        earlier = [
            dpd[(month_add(first, -i).isoformat()[:7], loan_id)][1]
            for i in range(1, P["cure_months"] + 1)
            if (month_add(first, -i).isoformat()[:7], loan_id) in dpd
        ]
        window = max(earlier) if earlier else None
        loan = loans[loan_id]
        p_now = pd[(month, loan["product"])].pd_12m
        p_orig = pd.get((loan["origination_date"][:7], loan["product"]))
        s3, s2 = P["stage_3_dpd"], P["stage_2_dpd"]
        if now >= s3:
            return 3, f"DPD_{s3}_PLUS", window
        if (window or 0) >= s3:
            return 3, "CURE_PERIOD", window
        if now >= s2:
            return 2, f"DPD_{s2}_PLUS", window
        if (window or 0) >= s2:
            return 2, "PROBATION", window
        if p_orig is not None and p_now >= Decimal(P["sicr_pd_ratio"]) * p_orig.pd_12m:
            return 2, "PD_INCREASE", window
        return 1, "PERFORMING", window

    def pd_applied(stage: int, pd12: Decimal, remaining: int) -> Decimal:
        if stage == 3:
            return Decimal(1)
        horizon = max(remaining, 1) if stage == 2 else min(max(remaining, 1), 12)
        return double_round(1 - (1 - float(pd12)) ** (horizon / 12.0), 6)

    segment_of: dict[str, str] = {}
    out: dict[tuple[str, str], dict[str, object]] = {}
    for month in land.months:
        first, end = date(month + "-01"), month_end(date(month + "-01"))
        segment_of |= {c["customer_id"]: c["segment"] for c in land.rows("customers", month)}
        worst: dict[str, int] = {}
        for (m, loan_id), (k, now, due) in dpd.items():
            if m != month:
                continue
            loan = loans[loan_id]
            stage, reason, window = stage_of(month, loan_id)
            previous_month = month_add(first, -1).isoformat()[:7]
            previous = stage_of(previous_month, loan_id)[0] if (previous_month, loan_id) in dpd else None
            if now > 0:
                missed = month_end(first) - dt.timedelta(days=now - 1)
                unpaid = min(max(due.year * 12 + due.month - (missed.year * 12 + missed.month) + 1, 0), k)
            else:
                unpaid = 0
            paid = k - unpaid
            r = float(Decimal(loan["annual_rate"])) / 12
            grow = (1 + r) ** paid
            balance = double_round(
                max(float(Decimal(loan["principal"])) * grow - float(Decimal(loan["instalment"])) * (grow - 1) / r, 0),
                2,
            )
            days = (end - month_add(date(loan["origination_date"]), paid)).days
            accrued = cents(balance * Decimal(loan["annual_rate"]) * days / 360)
            if loan["currency"] != "PEN":
                fxr = rate_at(loan["currency"], end)
                balance, accrued = cents(balance * fxr), cents(accrued * fxr)
            product = loan["product"]
            remaining = int(loan["term_months"]) - paid
            pd12 = pd[(month, product)].pd_12m
            applied = pd_applied(stage, pd12, remaining)
            ead = balance + accrued
            lgd = Decimal(P["products"][product]["lgd"])
            worst[loan["customer_id"]] = max(worst.get(loan["customer_id"], 1), stage)
            out[(month, loan_id)] = {
                "segment": segment_of.get(loan["customer_id"], "UNKNOWN"),
                "product": product,
                "instalments_paid": paid,
                "remaining_months": remaining,
                "max_dpd_cure_window": window,
                "previous_stage": previous,
                "stage": stage,
                "stage_reason": reason,
                "pd_12m": pd12,
                "pd_applied": applied,
                "outstanding_principal_pen": balance,
                "accrued_interest_pen": accrued,
                "ead_pen": ead,
                "ecl_pen": cents(ead * applied * lgd),
            }
        for a in land.rows("accounts", month):
            if a["product"] != "CREDIT_CARD":
                continue

            fxr = Decimal(1) if a["currency"] == "PEN" else rate_at(a["currency"], date(a["snapshot_date"]))
            balance, limit = (cents(Decimal(a[c] or "0") * fxr) for c in ("balance", "credit_limit"))
            drawn = max(-balance, Decimal(0))
            undrawn = max(limit - drawn, Decimal(0))
            stage = worst.get(a["customer_id"], 1)
            pd12 = pd[(month, "CREDIT_CARD")].pd_12m
            applied = pd_applied(stage, pd12, P["card_lifetime_months"])
            ead = drawn + cents(undrawn * Decimal(P["ccf_cards"]))
            out[(month, a["account_id"])] = {
                "segment": segment_of.get(a["customer_id"], "UNKNOWN"),
                "product": "CREDIT_CARD",
                "stage": stage,
                "pd_12m": pd12,
                "pd_applied": applied,
                "ead_pen": ead,
                "ecl_pen": cents(ead * applied * Decimal(P["products"]["CREDIT_CARD"]["lgd"])),
            }
    return out
