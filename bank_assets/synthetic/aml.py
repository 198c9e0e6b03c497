"""PLANTED money-laundering typologies, and the counterparties of transfers.

Every month ``AmlPlan.count`` customers per typology act out one of four patterns on their
checking account, and as many near-miss look-alikes act out a harmless variant that a good rule
must not flag (sizes in ``params.AmlPlan``; the rules are gold.aml_alerts, their parameters
dbt_project.yml vars.aml):

* STRUCTURING: 3-4 cash deposits in [90 %, 100 %) of the cash threshold within 6 days.
  Near miss: 3 such deposits 9 days apart.
* RAPID_IN_OUT: a large transfer in, then two transfers out taking 92-99 % of it within 6-40
  hours. Near miss: the same, but leaving 60-90 hours later.
* ROUND_NEW_COUNTERPARTY: 2-3 transfers out of whole thousands (5,000-20,000 PEN), each to a
  counterparty the account never paid before. Near miss: the round transfers go to a payee the
  account paid earlier in the month.
* DORMANT_REACTIVATION: an account dormant since last month receives a large transfer and pays it
  out 3-9 days later. Near miss: a dormant account with small flows (under 8,000 PEN).

Chosen customers are disjoint; each month uses the stream ``(seed, AML, month)`` only, so the rest
of the bank's movements are unchanged. Regular transfers (TRANSFER_IN, TRANSFER_OUT) carry one of
the customer's four regular counterparties, drawn from ``(seed, COUNTERPARTY, month)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.population import Snapshot, rng_for

STREAM_AML = 101
STREAM_COUNTERPARTY = 102
TYPOLOGIES = ("STRUCTURING", "RAPID_IN_OUT", "ROUND_NEW_COUNTERPARTY", "DORMANT_REACTIVATION")
KINDS = ("PLANTED", "NEAR_MISS")
DAY, HOUR = 86_400, 3_600
#: planted counterparties are numbered from here (regular ones are customer number x 4 + slot)
NEW_COUNTERPARTY_BASE = 90_000_000_000
REGULAR_PAYEES = 4


def counterparty_ids(nums: np.ndarray) -> pa.Array:
    """Counterparty numbers -> ids ('P' + 11 digits); -1 -> empty."""
    nums = np.asarray(nums, dtype=np.int64)
    ids = af.ids("P", np.maximum(nums, 0), 11)
    return pa.compute.if_else(pa.array(nums >= 0), ids, "")


def regular_counterparties(cfg: GeneratorConfig, m: int, customer_num: np.ndarray) -> np.ndarray:
    """One of each customer's regular counterparties per transfer."""
    rng = rng_for(cfg, STREAM_COUNTERPARTY, m)
    return customer_num.astype(np.int64) * REGULAR_PAYEES + rng.integers(0, REGULAR_PAYEES, len(customer_num))


def choose(cfg: GeneratorConfig, snap: Snapshot, rng: np.random.Generator) -> dict[tuple[str, str], np.ndarray]:
    """Customer rows of the snapshot per (typology, kind): disjoint, active ones for the first three
    typologies, dormant since last month (or earlier) for the fourth."""
    k = cfg.behaviour.aml.count(cfg.scale.customers)
    m = snap.month
    active = rng.permutation(np.flatnonzero(snap.status == 0))
    dormant = rng.permutation(np.flatnonzero((snap.status == 1) & (snap.people.dormant_month <= m - 1)))
    out: dict[tuple[str, str], np.ndarray] = {}
    for i, (typology, kind) in enumerate((t, kd) for t in TYPOLOGIES[:3] for kd in KINDS):
        out[(typology, kind)] = active[i * k : (i + 1) * k]
    half = min(k, len(dormant) // 2)
    out[("DORMANT_REACTIVATION", "PLANTED")] = dormant[:half]
    out[("DORMANT_REACTIVATION", "NEAR_MISS")] = dormant[half : 2 * half]
    return out


def truth(cfg: GeneratorConfig, snap: Snapshot) -> pa.Table:
    """Who acts out which typology in the month: account_id, typology, kind (PLANTED, NEAR_MISS)."""
    chosen = choose(cfg, snap, rng_for(cfg, STREAM_AML, snap.month))
    rows = [(snap.people.num[r] * 10, t, kd) for (t, kd), who in chosen.items() for r in who]
    return pa.table(
        {
            "account_id": af.ids("A", np.array([r[0] for r in rows], np.int64), 11),
            "typology": pa.array([r[1] for r in rows], pa.string()),
            "kind": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def plant(cfg: GeneratorConfig, snap: Snapshot, add: Callable[..., None], t0: int, n_days: int) -> None:
    """Add the month's planted movements through `add` (transactions._Parts.add); who got which
    is :func:`truth`."""
    plan = cfg.behaviour.aml
    m = snap.month
    rng = rng_for(cfg, STREAM_AML, m)
    chosen = choose(cfg, snap, rng)
    account = snap.people.num * 10  # checking
    next_cp = iter(range(NEW_COUNTERPARTY_BASE + m * 100_000, NEW_COUNTERPARTY_BASE + (m + 1) * 100_000))

    def at(day: np.ndarray | int, hours: np.ndarray | int) -> np.ndarray:
        day, hours = np.asarray(day), np.asarray(hours)
        jitter = rng.integers(0, HOUR, np.broadcast(day, hours).shape)
        return np.atleast_1d(np.asarray(t0 + day * DAY + hours * HOUR + jitter, np.int64))

    def move(acc: int, seconds: np.ndarray, cents: np.ndarray, txn: str, cps: np.ndarray | None = None) -> None:
        credit = txn in ("DEPOSIT", "TRANSFER_IN")
        cash = txn in ("DEPOSIT", "WITHDRAWAL")
        n = len(seconds)
        add(
            np.full(n, acc),
            seconds,
            np.asarray(cents, np.int64),
            direction="CREDIT" if credit else "DEBIT",
            txn_type=txn,
            category="CASH" if cash else "TRANSFER",
            channel={"DEPOSIT": "BRANCH", "WITHDRAWAL": "BRANCH"}.get(txn, "TRANSFER" if credit else "ONLINE"),
            counterparty=None if cash else (cps if cps is not None else np.array([next(next_cp) for _ in range(n)])),
        )

    band_lo, band_hi = plan.cash_threshold_pen * 90, plan.cash_threshold_pen * 100  # cents
    for row in chosen[("STRUCTURING", "PLANTED")]:
        n = int(rng.integers(3, 5))
        d0 = int(rng.integers(0, n_days - 7))
        days = d0 + np.sort(rng.choice(6, n, replace=False))
        move(account[row], at(days, rng.integers(9, 17, n)), rng.integers(band_lo, band_hi - 5_000, n), "DEPOSIT")
    for row in chosen[("STRUCTURING", "NEAR_MISS")]:
        d0 = int(rng.integers(0, n_days - 19))
        days = d0 + np.array([0, 9, 18])
        move(account[row], at(days, rng.integers(9, 17, 3)), rng.integers(band_lo, band_hi - 5_000, 3), "DEPOSIT")

    for kind, (lo_h, hi_h) in (("PLANTED", (6, 40)), ("NEAR_MISS", (60, 90))):
        for row in chosen[("RAPID_IN_OUT", kind)]:
            amount = int(rng.integers(plan.pass_through_pen[0], plan.pass_through_pen[1])) * 100 + int(
                rng.integers(0, 100)
            )
            d0 = int(rng.integers(0, n_days - 5))
            arrive = at(d0, 10)
            move(account[row], arrive, np.array([amount]), "TRANSFER_IN")
            out = round(amount * rng.uniform(0.92, 0.99))
            first = round(out * rng.uniform(0.4, 0.6))
            leave = arrive[0] + np.sort(rng.integers(lo_h, hi_h, 2)) * HOUR
            move(account[row], leave, np.array([first, out - first]), "TRANSFER_OUT")

    lo_k, hi_k = plan.round_transfer_pen
    for row in chosen[("ROUND_NEW_COUNTERPARTY", "PLANTED")]:
        n = int(rng.integers(2, 4))
        days = np.sort(rng.integers(0, n_days, n))
        move(account[row], at(days, rng.integers(9, 20, n)), rng.integers(lo_k, hi_k + 1, n) * 100_000, "TRANSFER_OUT")
    for row in chosen[("ROUND_NEW_COUNTERPARTY", "NEAR_MISS")]:
        payee = np.array([next(next_cp)])
        move(account[row], at(int(rng.integers(0, 6)), 10), rng.integers(20_000, 200_000, 1), "TRANSFER_OUT", payee)
        n = int(rng.integers(2, 4))
        days = np.sort(rng.integers(10, n_days, n))
        cents = rng.integers(lo_k, hi_k + 1, n) * 100_000
        move(account[row], at(days, rng.integers(9, 20, n)), cents, "TRANSFER_OUT", np.repeat(payee, n))

    lo_d, hi_d = plan.dormant_flow_pen
    for kind in KINDS:
        for row in chosen[("DORMANT_REACTIVATION", kind)]:
            if kind == "PLANTED":
                amount = int(rng.integers(lo_d, hi_d)) * 100 + int(rng.integers(0, 100))
            else:
                amount = int(rng.integers(2_000, 4_000)) * 100 + int(rng.integers(0, 100))
            d0 = int(rng.integers(0, n_days - 10))
            move(account[row], at(d0, 10), np.array([amount]), "TRANSFER_IN")
            leave = at(d0 + int(rng.integers(3, 10)), 11)
            move(account[row], leave, np.array([round(amount * rng.uniform(0.85, 0.98))]), "TRANSFER_OUT")
