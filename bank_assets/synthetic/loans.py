"""Loans originated each month and the instalments falling due.

A month's originations use the stream ``(seed, LOANS, month)``; the instalments due in month M
use ``(seed, PAYMENTS, M)`` over the loans of every earlier month, so any month can be
regenerated alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bank_assets.contracts import SEGMENTS
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.population import NEVER, Snapshot, rng_for

STREAM_LOANS = 21
STREAM_PAYMENTS = 22
PRODUCTS = ("PERSONAL", "AUTO", "MORTGAGE", "SME")
#: product -> (principal median PEN, term range months, annual rate range)
TERMS = {
    "PERSONAL": (9_000, (12, 36), (0.18, 0.42)),
    "AUTO": (45_000, (24, 60), (0.10, 0.16)),
    "MORTGAGE": (280_000, (120, 240), (0.07, 0.10)),
    "SME": (60_000, (12, 48), (0.14, 0.28)),
}


@dataclass
class Loans:
    month: int
    num: np.ndarray  # loan id = L + YYYYMM + 6 digits -> month * 1e6 + seq
    customer_num: np.ndarray
    product: np.ndarray
    principal_cents: np.ndarray
    currency: np.ndarray  # 0 PEN, 1 USD
    rate_bp: np.ndarray  # annual rate in 1e-6
    term: np.ndarray
    instalment_cents: np.ndarray
    origination_day: np.ndarray
    default_no: np.ndarray  # first instalment never paid (NEVER = performs)


def originate(cfg: GeneratorConfig, snap: Snapshot) -> Loans:
    """Active customers take loans at a small monthly rate."""
    m = snap.month
    rng = rng_for(cfg, STREAM_LOANS, m)
    b = cfg.behaviour
    active = np.flatnonzero(snap.status == 0)
    takers = active[rng.random(len(active)) < b.loan_origination_rate]
    n = len(takers)
    seg = snap.people.segment[takers]
    product = rng.choice(3, n, p=[0.72, 0.17, 0.11])
    product[seg == SEGMENTS.index("SME")] = PRODUCTS.index("SME")
    median = np.array([TERMS[p][0] for p in PRODUCTS])[product]
    principal = np.round(median * rng.lognormal(0, 0.4, n), -2)
    lo_t = np.array([TERMS[p][1][0] for p in PRODUCTS])[product]
    hi_t = np.array([TERMS[p][1][1] for p in PRODUCTS])[product]
    steps = (hi_t - lo_t) // 12 + 1
    term = lo_t + (rng.random(n) * steps).astype(np.int64) * 12
    lo_r = np.array([TERMS[p][2][0] for p in PRODUCTS])[product]
    hi_r = np.array([TERMS[p][2][1] for p in PRODUCTS])[product]
    rate = np.round(rng.uniform(lo_r, hi_r), 4)
    r = rate / 12
    instalment = principal * r / (1 - (1 + r) ** -term)
    currency = ((product == PRODUCTS.index("MORTGAGE")) & (rng.random(n) < 0.3)).astype(np.int64)
    first = month_start_days(np.array([m]))[0]
    origination_day = first + rng.integers(0, 28, n)
    defaults = rng.random(n) < b.loan_default_share
    default_no = np.where(defaults, 1 + (rng.random(n) * np.minimum(term, 24)).astype(np.int64), NEVER)
    return Loans(
        month=m,
        num=(m // 12 * 100 + m % 12 + 1) * 1_000_000 + np.arange(n, dtype=np.int64),
        customer_num=snap.people.num[takers],
        product=product,
        principal_cents=(principal * 100).astype(np.int64),
        currency=currency,
        rate_bp=np.round(rate * 1e6).astype(np.int64),
        term=term,
        instalment_cents=np.round(instalment * 100).astype(np.int64),
        origination_day=origination_day,
        default_no=default_no,
    )


@dataclass
class Instalments:
    """Instalments due in one month."""

    loan: Loans  # loans concatenated over origination months (the rows due)
    instalment_no: np.ndarray
    due_day: np.ndarray
    paid_day: np.ndarray  # -1 = unpaid at month end
    days_past_due: np.ndarray


def instalments_due(cfg: GeneratorConfig, m: int, book: list[Loans], snap: Snapshot) -> Instalments:
    """Instalment k of a loan originated in month o falls due in month o + k.

    Defaulted loans stop paying at their default instalment; customers who are not active this
    month miss their payment; a share of the rest pay late, some after month end.
    """
    rng = rng_for(cfg, STREAM_PAYMENTS, m)
    b = cfg.behaviour
    parts = []
    for loans in book:
        k = m - loans.month
        due = (k >= 1) & (k <= loans.term)
        if due.any():
            parts.append((loans, np.flatnonzero(due), k))
    fields = Loans.__dataclass_fields__
    if not parts:
        empty = Loans(m, *[np.zeros(0, np.int64) for _ in range(len(fields) - 1)])
        z = np.zeros(0, np.int64)
        return Instalments(empty, z, z, z, z)
    rows = Loans(m, **{f: np.concatenate([getattr(p[0], f)[p[1]] for p in parts]) for f in fields if f != "month"})
    inst_no = np.concatenate([np.full(len(p[1]), p[2]) for p in parts])
    orig_month = np.concatenate([np.full(len(p[1]), p[0].month) for p in parts])
    offset = rows.origination_day - month_start_days(orig_month)
    first = month_start_days(np.array([m]))[0]
    due_day = first + offset
    month_end = month_start_days(np.array([m + 1]))[0] - 1

    status_by_customer = dict(zip(snap.people.num.tolist(), snap.status.tolist(), strict=True))
    status = np.array([status_by_customer.get(c, 2) for c in rows.customer_num.tolist()], np.int64)
    defaulted = inst_no >= rows.default_no
    missed = defaulted | (status != 0)
    n = len(inst_no)
    late = ~missed & (rng.random(n) < b.loan_late_share)
    late_days = rng.integers(1, 40, n)
    crosses = late & (rng.random(n) < b.late_cross_month_share)
    paid_day = np.where(late, due_day + late_days, due_day - rng.integers(0, 4, n))
    paid_day = np.where(crosses, np.maximum(paid_day, month_end + 1), np.maximum(paid_day, first))
    unpaid = missed | (paid_day > month_end)
    paid_day = np.where(unpaid, -1, paid_day)
    # first unpaid instalment of a defaulted loan sets its days past due
    first_missed_due = np.where(
        defaulted,
        month_start_days(orig_month + rows.default_no.clip(max=10_000)) + offset,
        due_day,
    )
    dpd = np.where(unpaid, month_end - np.minimum(first_missed_due, due_day) + 1, 0)
    return Instalments(rows, inst_no, due_day, paid_day, np.maximum(dpd, 0))
