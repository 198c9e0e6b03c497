"""Fraud alerts raised on card purchases, their review and their closing.

Three rules raise alerts on a month's purchases (first match wins):

* EVENING_ONLINE_TE: online purchases from ``pattern_from_hour`` at travel and entertainment
  merchants (the planted pattern);
* HIGH_AMOUNT: an amount of at least ``high_amount_multiple`` times the category's mean ticket;
* RANDOM_AUDIT: a random ``audit_share`` of the other purchases.

PLANTED (``params.FraudPlan``): a purchase of the pattern is fraudulent with probability
``fraud_rate_pattern``, any other with ``fraud_rate_other``; a high amount is NOT a fraud signal
(the placebo rule). Investigators find the truth, so an alert closes CONFIRMED_FRAUD exactly
when its purchase was fraud. Each alert lands as up to three milestone rows (RAISED, REVIEWED,
CLOSED), each in the month its timestamp falls in: a month's file also carries the milestones
of the previous month's alerts that were still open at its end (every alert closes within
``MAX_DAYS`` days).

The alerts of month m use the stream ``(seed, FRAUD, m)`` and the month's purchases only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bank_assets.contracts import FRAUD_MILESTONES, FRAUD_OUTCOMES, FRAUD_RULES
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.population import rng_for

STREAM_FRAUD = 71
DAY = 86_400
ANALYSTS = 8  # fraud analysts AN01..AN08
MAX_DAYS = 20  # an alert is closed at most this many days after it is raised


def alerts(cfg: GeneratorConfig, m: int, transactions: pa.Table) -> dict[str, np.ndarray]:
    """The alerts raised on month m's purchases, with every milestone's time (epoch seconds)."""
    plan = cfg.behaviour.fraud
    means = cfg.behaviour.spend_mix
    rng = rng_for(cfg, STREAM_FRAUD, m)
    buys = transactions.filter(pc.equal(transactions["txn_type"], "PURCHASE"))
    n = buys.num_rows
    category = buys["category"].to_numpy(zero_copy_only=False).astype(object)
    channel = buys["channel"].to_numpy(zero_copy_only=False).astype(object)
    ts = pc.strptime(buys["transaction_ts"], format="%Y-%m-%d %H:%M:%S", unit="s")
    seconds = ts.cast(pa.int64()).to_numpy()
    hour = seconds % DAY // 3600
    amount = buys["amount"].cast(pa.float64()).to_numpy()
    mean_ticket = np.array([means.get(c, (0.0, np.inf))[1] for c in category])
    pattern = np.isin(category, plan.pattern_categories) & (channel == plan.pattern_channel)
    pattern &= hour >= plan.pattern_from_hour
    fraud = rng.random(n) < np.where(pattern, plan.fraud_rate_pattern, plan.fraud_rate_other)
    high = amount >= plan.high_amount_multiple * mean_ticket
    audit = rng.random(n) < plan.audit_share
    rule = np.select([pattern, high, audit], [0, 1, 2], default=-1)
    hit = np.flatnonzero(rule >= 0)
    k = len(hit)
    raised = seconds[hit] + rng.integers(60, 1800, k)
    reviewed = raised + np.round(rng.gamma(2.0, 6.0, k) * 3600).astype(np.int64)
    confirmed = fraud[hit]
    close_hours = np.where(confirmed, rng.gamma(2.0, 40.0, k), rng.gamma(1.5, 8.0, k))
    closed = np.minimum(reviewed + np.round(close_hours * 3600).astype(np.int64), raised + MAX_DAYS * DAY)
    reviewed = np.minimum(reviewed, closed)
    yyyymm = m // 12 * 100 + m % 12 + 1
    return {
        "alert_num": yyyymm * 1_000_000 + np.arange(1, k + 1),
        "transaction_id": buys["transaction_id"].take(pa.array(hit)).to_numpy(zero_copy_only=False),
        "rule": rule[hit],
        "raised": raised,
        "reviewed": reviewed,
        "closed": closed,
        "analyst": rng.integers(1, ANALYSTS + 1, k),
        "outcome": np.where(confirmed, 0, 1),
    }


def milestones_table(
    m: int, raised_now: dict[str, np.ndarray], raised_before: dict[str, np.ndarray] | None
) -> pa.Table:
    """Milestone rows whose time falls in month m, from alerts raised in m and in m - 1."""
    lo, hi = (int(d) * DAY for d in month_start_days(np.array([m, m + 1])))
    parts = []
    for a in (raised_before, raised_now):
        if a is None:
            continue
        for i, col in enumerate(("raised", "reviewed", "closed")):
            sel = np.flatnonzero((a[col] >= lo) & (a[col] < hi))
            parts.append({**{k: v[sel] for k, v in a.items()}, "milestone": np.full(len(sel), i), "ts": a[col][sel]})
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cols["milestone"], cols["alert_num"], cols["ts"]))
    cols = {k: v[order] for k, v in cols.items()}
    ms = cols["milestone"]
    return pa.table(
        {
            "alert_id": af.ids("FA", cols["alert_num"], 12),
            "transaction_id": pa.array(cols["transaction_id"].astype(object), pa.string()),
            "rule_code": af.labels(FRAUD_RULES, cols["rule"]),
            "milestone": af.labels(FRAUD_MILESTONES, ms),
            "milestone_ts": af.timestamps(cols["ts"]),
            "analyst_id": pc.if_else(pa.array(ms > 0), af.ids("AN", cols["analyst"], 2), ""),
            "outcome": pc.if_else(pa.array(ms == 2), af.labels(FRAUD_OUTCOMES, cols["outcome"]), ""),
        }
    )
