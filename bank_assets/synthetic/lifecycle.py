"""Account life-cycle events of a month, read off the customer base's state: accounts opened,
accounts turning dormant with their customer, card limits raised, accounts closed.

PLANTED (``Behaviour.closure_reasons``): the reason a closing customer gives depends on the
segment (fees for the mass market, competitors' offers for premium customers); every account of
the customer closes with the same reason. Reasons use the stream ``(seed, LIFECYCLE, month)``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bank_assets.contracts import ACCOUNT_EVENT_TYPES, CLOSURE_REASONS, CUSTOMER_STATUSES, SEGMENTS
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.population import Snapshot, rng_for

STREAM_LIFECYCLE = 81
CARD = 2  # account slot of the credit card


def events_table(cfg: GeneratorConfig, snap: Snapshot) -> pa.Table:
    m = snap.month
    p = snap.people
    rng = rng_for(cfg, STREAM_LIFECYCLE, m)
    first, next_first = month_start_days(np.array([m, m + 1]))
    open_by_end = p.has_slot & (p.slot_open_day < next_first)
    parts: list[dict[str, np.ndarray]] = []

    def add(who: np.ndarray, slot: np.ndarray, kind: str, day: np.ndarray, before: int, after: int, **kw) -> None:
        n = len(who)
        parts.append(
            {
                "account": p.num[who] * 10 + slot,
                "type": np.full(n, ACCOUNT_EVENT_TYPES.index(kind)),
                "day": day,
                "before": np.full(n, before),
                "after": np.full(n, after),
                "limit_before": kw.get("limit_before", np.full(n, -1)),
                "limit_after": kw.get("limit_after", np.full(n, -1)),
                "reason": kw.get("reason", np.full(n, -1)),
            }
        )

    # opened this month
    who, slot = np.nonzero(p.has_slot & (p.slot_open_day >= first) & (p.slot_open_day < next_first))
    add(who, slot, "OPENED", p.slot_open_day[who, slot], -1, 0)
    # the customer turned dormant: every open account follows (dated the month's first day)
    who, slot = np.nonzero(open_by_end & (p.dormant_month == m)[:, None] & (p.slot_open_day < first))
    add(who, slot, "STATUS_CHANGED", np.full(len(who), first), 0, 1)
    # card limit raised (the card was open and its customer active)
    raised = (p.limit_increase_month == m) & open_by_end[:, CARD] & (p.slot_open_day[:, CARD] < first)
    raised &= snap.status == 0
    who = np.flatnonzero(raised)
    day = first + rng.integers(0, 28, len(who))
    old = p.card_limit_cents[who]
    add(who, np.full(len(who), CARD), "LIMIT_CHANGED", day, 0, 0, limit_before=old, limit_after=old * 3 // 2)
    # closed: one reason per customer, drawn from the segment's planted mix
    closing = np.flatnonzero(p.close_month == m)
    segment = np.where(m >= p.upgrade_month[closing], SEGMENTS.index("AFFLUENT"), p.segment[closing])
    mixes = cfg.behaviour.closure_reasons
    reason = np.array(
        [rng.choice(len(CLOSURE_REASONS), p=np.array(mixes[SEGMENTS[s]])) for s in segment], dtype=np.int64
    )
    by_customer = dict(zip(closing.tolist(), reason.tolist(), strict=True))
    who, slot = np.nonzero(open_by_end[closing])
    who = closing[who]
    add(
        who,
        slot,
        "CLOSED",
        first + p.close_day[who],
        1,
        2,
        reason=np.array([by_customer[c] for c in who.tolist()], dtype=np.int64),
    )

    cols = {k: np.concatenate([x[k] for x in parts]) for k in parts[0]}
    order = np.lexsort((cols["type"], cols["account"], cols["day"]))
    cols = {k: v[order] for k, v in cols.items()}
    statuses = ("", *CUSTOMER_STATUSES)
    has_limit = cols["limit_before"] >= 0
    return pa.table(
        {
            "event_id": af.ids("AE", cols["account"] * 10 + cols["type"], 13),
            "account_id": af.ids("A", cols["account"], 11),
            "event_type": af.labels(ACCOUNT_EVENT_TYPES, cols["type"]),
            "event_date": af.dates(cols["day"]),
            "status_before": af.labels(statuses, cols["before"] + 1),
            "status_after": af.labels(statuses, cols["after"] + 1),
            "limit_before": pc.if_else(pa.array(has_limit), af.decimals(cols["limit_before"], 2), ""),
            "limit_after": pc.if_else(pa.array(has_limit), af.decimals(cols["limit_after"], 2), ""),
            "closure_reason": af.labels(("", *CLOSURE_REASONS), cols["reason"] + 1),
        }
    )
