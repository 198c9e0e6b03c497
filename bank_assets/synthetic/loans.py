"""Loans and the instalments falling due.

A month's loans are its approved credit applications (bank_assets.synthetic.credit); the
instalments due in month M use ``(seed, PAYMENTS, M)`` over the loans of every earlier month, so
any month can be regenerated alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bank_assets.contracts import LOAN_PRODUCTS
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.population import Snapshot, rng_for

STREAM_PAYMENTS = 22
PRODUCTS = LOAN_PRODUCTS
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
    late_first: np.ndarray  # bool: the first instalment is paid after its due date


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

    Defaulted loans stop paying at their default instalment. The first instalment is paid late
    when the loan says so (the planted timeliness effect); a share of the later ones is paid late,
    some after month end. Loans of a customer who closed the relationship were settled at
    closure: nothing falls due any more. Dormant customers keep paying (by direct debit).
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
    # customers who closed (this month or before) settled their loans
    still_customer = np.isin(rows.customer_num, snap.people.num[snap.status != 2])
    if not still_customer.all():
        rows = Loans(m, **{f: getattr(rows, f)[still_customer] for f in fields if f != "month"})
        inst_no, orig_month = inst_no[still_customer], orig_month[still_customer]
    offset = rows.origination_day - month_start_days(orig_month)
    first = month_start_days(np.array([m]))[0]
    due_day = first + offset
    month_end = month_start_days(np.array([m + 1]))[0] - 1

    defaulted = inst_no >= rows.default_no
    n = len(inst_no)
    late = ~defaulted & np.where(inst_no == 1, rows.late_first, rng.random(n) < b.loan_late_share)
    late_days = rng.integers(1, 40, n)
    crosses = late & (rng.random(n) < b.late_cross_month_share)
    paid_day = np.where(late, due_day + late_days, due_day - rng.integers(0, 4, n))
    paid_day = np.where(crosses, np.maximum(paid_day, month_end + 1), np.maximum(paid_day, first))
    unpaid = defaulted | (paid_day > month_end)
    paid_day = np.where(unpaid, -1, paid_day)
    # first unpaid instalment of a defaulted loan sets its days past due
    first_missed_due = np.where(
        defaulted,
        month_start_days(orig_month + rows.default_no.clip(max=10_000)) + offset,
        due_day,
    )
    dpd = np.where(unpaid, month_end - np.minimum(first_missed_due, due_day) + 1, 0)
    return Instalments(rows, inst_no, due_day, paid_day, np.maximum(dpd, 0))
