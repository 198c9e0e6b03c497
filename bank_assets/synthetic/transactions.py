"""A month of account movements, fully vectorized (no per-row Python)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bank_assets.contracts import CATEGORIES, CHANNELS, SEGMENTS, SPEND_CATEGORIES, TXN_TYPES
from bank_assets.synthetic import aml
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.loans import Instalments
from bank_assets.synthetic.months import days_in_month, month_start_days
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.population import EMPLOYMENTS, Snapshot, rng_for
from bank_assets.synthetic.reference import Merchants

STREAM_TXN = 31
DAY = 86_400


class _Parts:
    """Collects movement blocks; each block is a dict of equal-length arrays."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(
        self,
        account: np.ndarray,
        seconds: np.ndarray,
        cents: np.ndarray,
        *,
        currency: int = 0,
        direction: str,
        txn_type: str,
        category: str | np.ndarray,
        channel: str | np.ndarray,
        merchant: np.ndarray | None = None,
        counterparty: np.ndarray | None = None,
    ) -> None:
        n = len(account)
        if n == 0:
            return

        def code(values: tuple[str, ...], v: str | np.ndarray) -> np.ndarray:
            return np.full(n, values.index(v), np.int8) if isinstance(v, str) else v.astype(np.int8)

        self.blocks.append(
            {
                "account": account,
                "seconds": seconds,
                "cents": np.maximum(cents, 1),
                "currency": np.full(n, currency, dtype=np.int8),
                "direction": np.full(n, 0 if direction == "CREDIT" else 1, dtype=np.int8),
                "txn_type": code(TXN_TYPES, txn_type),
                "category": code(CATEGORIES, category),
                "channel": code(CHANNELS, channel),
                "merchant": merchant if merchant is not None else np.full(n, -1),
                "counterparty": counterparty if counterparty is not None else np.full(n, -1),
            }
        )

    def concat(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}


def generate(
    cfg: GeneratorConfig,
    snap: Snapshot,
    merchants: Merchants,
    due: Instalments,
    purchase_factor: np.ndarray | None = None,
) -> pa.Table:
    """The month's movements. `purchase_factor` (per customer of the snapshot) multiplies purchase
    rates: the campaign effects planted by bank_assets.synthetic.engagement."""
    m = snap.month
    b = cfg.behaviour
    rng = rng_for(cfg, STREAM_TXN, m)
    p = snap.people
    act = np.flatnonzero(snap.status == 0)
    n_days = days_in_month(m)
    t0 = int(month_start_days(np.array([m]))[0]) * DAY
    month_end_day = int(month_start_days(np.array([m + 1]))[0])
    checking = p.num[act] * 10
    has_card = p.has_slot[act, 2] & (p.slot_open_day[act, 2] < month_end_day)
    card = p.num[act] * 10 + 2
    income = p.income_cents[act].astype(float)
    emp = p.employment[act]
    seg = p.segment[act]
    upgraded = m >= p.upgrade_month[act]
    seg = np.where(upgraded, SEGMENTS.index("AFFLUENT"), seg)
    parts = _Parts()

    def when(n: int, first_day: int = 0, last_day: int | None = None) -> np.ndarray:
        last = n_days if last_day is None else last_day
        day = rng.integers(first_day, last, n)
        return t0 + day * DAY + rng.integers(7 * 3600, 22 * 3600, n)

    # income: salaries, pensions, self-employed deposits, help from family
    for kind, txn in (("EMPLOYED", "SALARY"), ("RETIRED", "PENSION")):
        who = np.flatnonzero(emp == EMPLOYMENTS.index(kind))
        amt = income[who] * rng.normal(1.0, 0.02, len(who))
        parts.add(
            checking[who],
            when(len(who), n_days - 3),
            np.round(amt).astype(np.int64),
            direction="CREDIT",
            txn_type=txn,
            category="INCOME",
            channel="TRANSFER",
        )
    se = np.flatnonzero(emp == EMPLOYMENTS.index("SELF_EMPLOYED"))
    k = rng.integers(2, 5, len(se))
    se_rows = np.repeat(se, k)
    amt = income[se_rows] / np.repeat(k, k) * rng.uniform(0.6, 1.4, len(se_rows))
    parts.add(
        checking[se_rows],
        when(len(se_rows)),
        np.round(amt).astype(np.int64),
        direction="CREDIT",
        txn_type="DEPOSIT",
        category="INCOME",
        channel="BRANCH",
    )
    others = np.flatnonzero(np.isin(emp, [EMPLOYMENTS.index("STUDENT"), EMPLOYMENTS.index("UNEMPLOYED")]))
    parts.add(
        checking[others],
        when(len(others)),
        np.round(income[others]).astype(np.int64),
        direction="CREDIT",
        txn_type="TRANSFER_IN",
        category="INCOME",
        channel="TRANSFER",
    )
    n_in = rng.poisson(b.transfer_in_rate, len(act))
    rows = np.repeat(np.arange(len(act)), n_in)
    parts.add(
        checking[rows],
        when(len(rows)),
        np.round(rng.gamma(2.0, b.transfer_in_mean * 50, len(rows))).astype(np.int64),
        direction="CREDIT",
        txn_type="TRANSFER_IN",
        category="TRANSFER",
        channel="TRANSFER",
    )
    usd = np.flatnonzero(p.savings_usd[act] & (p.slot_open_day[act, 1] < month_end_day))
    parts.add(
        p.num[act][usd] * 10 + 1,
        when(len(usd)),
        np.round(rng.gamma(2.0, 6_000, len(usd))).astype(np.int64),
        currency=1,
        direction="CREDIT",
        txn_type="DEPOSIT",
        category="TRANSFER",
        channel="BRANCH",
    )

    # fixed monthly payments: utilities and auto-debits, same amount every month
    for matrix, txn, cat, spread in (
        (p.bills_cents[act], "BILL_PAYMENT", "UTILITIES", 0.05),
        (p.auto_debits_cents[act], "AUTO_DEBIT", "SUBSCRIPTIONS", 0.0),
    ):
        who, slot = np.nonzero(matrix)
        amt = matrix[who, slot] * rng.uniform(1 - spread, 1 + spread, len(who))
        parts.add(
            checking[who],
            t0 + (4 + slot * 5) * DAY + rng.integers(0, DAY, len(who)),
            np.round(amt).astype(np.int64),
            direction="DEBIT",
            txn_type=txn,
            category=cat,
            channel="AUTO_DEBIT",
        )

    # loan instalments paid this month
    paid = np.flatnonzero(due.paid_day >= 0)
    cur = due.loan.currency[paid]
    parts.add(
        due.loan.customer_num[paid] * 10,
        due.paid_day[paid] * DAY + 9 * 3600,
        due.loan.instalment_cents[paid],
        currency=0,
        direction="DEBIT",
        txn_type="LOAN_PAYMENT",
        category="LOAN",
        channel="AUTO_DEBIT",
    )
    if cur.any():  # USD loans are paid in USD
        parts.blocks[-1]["currency"] = cur

    # card and debit purchases
    season = b.december_factor if m % 12 == 11 else 1.0
    lam = cfg.scale.purchases_per_customer * p.activity[act] * season
    if purchase_factor is not None:
        lam = lam * purchase_factor[act]
    n_buy = rng.poisson(lam)
    who = np.repeat(np.arange(len(act)), n_buy)
    n = len(who)
    shares = np.array([b.spend_mix[c][0] for c in SPEND_CATEGORIES])
    means = np.array([b.spend_mix[c][1] for c in SPEND_CATEGORIES])
    cat = rng.choice(len(shares), n, p=shares / shares.sum())
    seg_factor = np.array([b.segment_ticket_factor[s] for s in SEGMENTS])[seg[who]]
    amount = means[cat] * seg_factor * np.maximum(rng.normal(1.0, b.ticket_cv, n), 0.15)
    outlier = rng.random(n) < b.outlier_rate
    amount[outlier] *= rng.uniform(*b.outlier_factor, int(outlier.sum()))
    counts, offsets = merchants.by_category
    merchant = offsets[cat] + (rng.random(n) * counts[cat]).astype(np.int64)
    on_card = has_card[who] & (rng.random(n) < b.card_share_of_purchases)
    channel = np.where(rng.random(n) < 0.75, CHANNELS.index("POS"), CHANNELS.index("ONLINE"))
    parts.add(
        np.where(on_card, card[who], checking[who]),
        when(n),
        np.round(amount * 100).astype(np.int64),
        direction="DEBIT",
        txn_type="PURCHASE",
        category=np.array([CATEGORIES.index(c) for c in SPEND_CATEGORIES])[cat],
        channel=channel,
        merchant=merchant,
    )

    # cash and transfers out
    takers = np.flatnonzero(rng.random(len(act)) < b.withdrawal_share)
    k = rng.integers(1, 4, len(takers))
    rows = np.repeat(takers, k)
    steps = (
        rng.integers(1, 8, len(rows))
        * 50
        * np.sqrt(np.array([b.segment_ticket_factor[s] for s in SEGMENTS])[seg[rows]])
    )
    parts.add(
        checking[rows],
        when(len(rows)),
        np.round(steps / 10).astype(np.int64) * 1000,
        direction="DEBIT",
        txn_type="WITHDRAWAL",
        category="CASH",
        channel="ATM",
    )
    n_out = rng.poisson(b.transfer_out_rate, len(act))
    rows = np.repeat(np.arange(len(act)), n_out)
    mean_out = income[rows] * b.transfer_out_share_of_income / b.transfer_out_rate
    parts.add(
        checking[rows],
        when(len(rows)),
        np.round(rng.gamma(2.0, mean_out / 2)).astype(np.int64),
        direction="DEBIT",
        txn_type="TRANSFER_OUT",
        category="TRANSFER",
        channel="ONLINE",
    )

    aml.plant(cfg, snap, parts.add, t0, n_days)
    cols = parts.concat()
    transfer = np.isin(cols["txn_type"], [TXN_TYPES.index("TRANSFER_IN"), TXN_TYPES.index("TRANSFER_OUT")])
    regular = transfer & (cols["counterparty"] < 0)
    cols["counterparty"][regular] = aml.regular_counterparties(cfg, m, cols["account"][regular] // 10)
    order = np.argsort(cols["seconds"])  # deterministic; ties keep a fixed order
    cols = {k: v[order] for k, v in cols.items()}
    seq = np.arange(1, len(order) + 1)
    yyyymm = (m // 12) * 100 + m % 12 + 1
    merchant_ids = af.ids("M", cols["merchant"] + 1, 6)
    merchant_ids = pa.compute.if_else(pa.array(cols["merchant"] >= 0), merchant_ids, "")
    return pa.table(
        {
            "transaction_id": af.ids(f"T{yyyymm}", seq, 8),
            "account_id": af.ids("A", cols["account"], 11),
            "merchant_id": merchant_ids,
            "counterparty_id": aml.counterparty_ids(cols["counterparty"]),
            "transaction_ts": af.timestamps(cols["seconds"]),
            "amount": af.decimals(cols["cents"], 2),
            "currency": af.labels(("PEN", "USD", "EUR"), cols["currency"]),
            "direction": af.labels(("CREDIT", "DEBIT"), cols["direction"]),
            "txn_type": af.labels(TXN_TYPES, cols["txn_type"]),
            "category": af.labels(CATEGORIES, cols["category"]),
            "channel": af.labels(CHANNELS, cols["channel"]),
        }
    )
