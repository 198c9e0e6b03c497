"""Marketing, service and macro sources: campaigns and their random assignment, customer
interactions, economic indicators. This is also where the effects the analytics must recover are
planted (sizes in ``params.Behaviour``):

* a campaign's treatment arm buys more while the campaign runs (``purchase_factor``, applied by
  the transaction generator; the control group and the placebo campaign CMP002 are untouched);
* customers file complaints far more often in the two months before they go dormant;
* every other contact (inquiries, card blocks, ...) is independent of churn (the placebo driver).

Each month and campaign has its own random stream, so one month regenerates alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from bank_assets.contracts import (
    AGENT_TEAMS,
    CAMPAIGN_ARMS,
    INTERACTION_CHANNELS,
    INTERACTION_REASONS,
    SEGMENTS,
)
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.months import days_in_month, month_start_days
from bank_assets.synthetic.params import EPOCH, CampaignPlan, GeneratorConfig, policy_rate
from bank_assets.synthetic.population import Snapshot, rng_for

STREAM_CAMPAIGN = 61
STREAM_INTERACTIONS = 62
STREAM_INDICATORS = 63
DAY = 86_400
#: channel mix of complaints and of other contacts (INTERACTION_CHANNELS order)
COMPLAINT_CHANNELS = (0.5, 0.3, 0.0, 0.2)
CONTACT_CHANNELS = (0.35, 0.2, 0.35, 0.1)
#: reasons of the other contacts (INTERACTION_REASONS without COMPLAINT)
CONTACT_REASONS = (0.5, 0.15, 0.25, 0.1)
#: team answering each channel (AGENT_TEAMS index)
CHANNEL_TEAM = np.array([0, 1, 2, 0])
#: first agent number of each team (ids AG0001.., AG1001.., AG2001..)
TEAM_BASE = np.array([1, 1001, 2001])


@dataclass(frozen=True)
class Assignment:
    """The customers drawn for one campaign, by number, and their arm (0 treatment, 1 control)."""

    plan: CampaignPlan
    customer_num: np.ndarray
    arm: np.ndarray


def assign(cfg: GeneratorConfig, index: int, plan: CampaignPlan, snap: Snapshot) -> Assignment:
    """Draw the campaign's customers among the eligible ones of its start month, then split them
    at random into treatment and control: the randomisation a difference-in-differences needs."""
    if snap.month != plan.start:
        raise ValueError(f"{plan.campaign_id} assigns customers in its start month")
    p = snap.people
    segment = np.where(snap.month >= p.upgrade_month, SEGMENTS.index("AFFLUENT"), p.segment)
    eligible = np.flatnonzero((snap.status == 0) & (segment == SEGMENTS.index(plan.segment)))
    rng = rng_for(cfg, STREAM_CAMPAIGN, index)
    drawn = eligible[rng.random(len(eligible)) < plan.target_share]
    arm = (rng.random(len(drawn)) >= plan.treatment_share).astype(np.int64)
    return Assignment(plan, p.num[drawn], arm)


def campaigns_table(cfg: GeneratorConfig, m: int) -> pa.Table:
    """The marketing plan as known in month m: every campaign of the year, from its January."""
    plans = [c for c in cfg.behaviour.campaigns if c.start // 12 <= m // 12]
    start = month_start_days(np.array([c.start for c in plans], dtype=np.int64))
    end = month_start_days(np.array([c.start + c.months for c in plans], dtype=np.int64))
    return pa.table(
        {
            "campaign_id": af.texts(np.array([c.campaign_id for c in plans], dtype=object)),
            "campaign_name": af.texts(np.array([c.name for c in plans], dtype=object)),
            "channel": af.texts(np.array([c.channel for c in plans], dtype=object)),
            "offer": af.texts(np.array([c.offer for c in plans], dtype=object)),
            "target_segment": af.texts(np.array([c.segment for c in plans], dtype=object)),
            "start_date": af.dates(start),
            "end_date": af.dates(end),
            "treatment_share": af.decimals(np.array([round(c.treatment_share * 1e6) for c in plans]), 6),
            "cost_per_contact": af.decimals(np.array([c.cost_cents for c in plans]), 2),
        }
    )


def targets_table(assignments: list[Assignment]) -> pa.Table:
    """Targeting rows of the campaigns starting in a month (none in most months)."""
    cols: dict[str, list[pa.Array]] = {k: [] for k in ("target_id", "customer_id", "campaign_id", "arm")}
    dates, notes = [], []
    for a in assignments:
        n = len(a.customer_num)
        customer = af.ids("C", a.customer_num, 10)
        campaign = af.texts(np.full(n, a.plan.campaign_id, dtype=object))
        cols["target_id"].append(pa.compute.binary_join_element_wise(campaign, customer, "-"))
        cols["customer_id"].append(customer)
        cols["campaign_id"].append(campaign)
        cols["arm"].append(af.labels(CAMPAIGN_ARMS, a.arm))
        dates.append(np.full(n, month_start_days(np.array([a.plan.start]))[0]))
        notes.append(np.where(a.arm == 0, f"contactado por {a.plan.channel}", ""))
    if not assignments:
        return pa.table(
            {
                k: pa.array([], pa.string())
                for k in ("target_id", "customer_id", "campaign_id", "arm", "assigned_date", "contact_note")
            }
        )
    return pa.table(
        {
            **{k: pa.concat_arrays(v) for k, v in cols.items()},
            "assigned_date": af.dates(np.concatenate(dates)),
            "contact_note": af.texts(np.concatenate(notes).astype(object)),
        }
    )


def purchase_factor(snap: Snapshot, running: list[Assignment]) -> np.ndarray:
    """Per customer of the snapshot: how much the running campaigns multiply their purchases."""
    factor = np.ones(len(snap.people.num))
    for a in running:
        treated = a.customer_num[a.arm == 0]
        factor[np.isin(snap.people.num, treated)] *= a.plan.purchase_rate_ratio
    return factor


def interactions_table(cfg: GeneratorConfig, snap: Snapshot) -> pa.Table:
    """Contacts of the month's active customers: complaints (10x more likely in the two months
    before dormancy) and other contacts at a rate that does not depend on churn."""
    b, m = cfg.behaviour, snap.month
    rng = rng_for(cfg, STREAM_INTERACTIONS, m)
    p = snap.people
    act = np.flatnonzero(snap.status == 0)
    about_to_sleep = (p.dormant_month[act] > m) & (p.dormant_month[act] <= m + 2)
    p_complaint = np.where(about_to_sleep, b.complaint_rate_before_dormancy, b.complaint_rate)
    complainers = act[rng.random(len(act)) < p_complaint]
    n_other = rng.poisson(b.contact_rate, len(act))
    others = np.repeat(act, n_other)
    who = np.concatenate([complainers, others])
    n = len(who)
    is_complaint = np.arange(n) < len(complainers)
    reason = np.where(is_complaint, 0, 1 + rng.choice(len(CONTACT_REASONS), n, p=np.array(CONTACT_REASONS)))
    channel = np.where(
        is_complaint,
        rng.choice(len(INTERACTION_CHANNELS), n, p=np.array(COMPLAINT_CHANNELS)),
        rng.choice(len(INTERACTION_CHANNELS), n, p=np.array(CONTACT_CHANNELS)),
    )
    team = CHANNEL_TEAM[channel]
    agents_per_team = max(3, cfg.scale.customers // 150)
    agent = TEAM_BASE[team] + rng.integers(0, agents_per_team, n)
    minutes = np.maximum(1, np.round(rng.gamma(2.0, np.where(is_complaint, 9.0, 3.5)))).astype(np.int64)
    answered = rng.random(n) < 0.6
    score = np.where(
        is_complaint, rng.choice([1, 2, 3], n, p=[0.4, 0.35, 0.25]), rng.choice([3, 4, 5], n, p=[0.2, 0.4, 0.4])
    )
    t0 = int(month_start_days(np.array([m]))[0]) * DAY
    seconds = t0 + rng.integers(0, days_in_month(m), n) * DAY + rng.integers(8 * 3600, 20 * 3600, n)
    order = np.argsort(seconds, kind="stable")
    who, reason, channel, team, agent, minutes, answered, score, seconds = (
        a[order] for a in (who, reason, channel, team, agent, minutes, answered, score, seconds)
    )
    score_text = af.ints(score)
    return pa.table(
        {
            "interaction_id": af.ids("I", (m - EPOCH) * 10_000_000 + np.arange(n), 10),
            "customer_id": af.ids("C", p.num[who], 10),
            "interaction_ts": af.timestamps(seconds),
            "channel": af.labels(INTERACTION_CHANNELS, channel),
            "reason": af.labels(INTERACTION_REASONS, reason),
            "agent_id": af.ids("AG", agent, 4),
            "agent_team": af.labels(AGENT_TEAMS, team),
            "handle_minutes": af.ints(minutes),
            "satisfaction_score": pa.compute.if_else(pa.array(answered), score_text, ""),
        }
    )


def indicators_table(cfg: GeneratorConfig, m: int, usd_rates: np.ndarray) -> pa.Table:
    """One row of macro indicators for month m. The policy rate follows ``params.policy_rate`` (cuts
    in 2024, hikes in 2025); the USD average is the mean of the month's daily fx rates (the
    fx_rates file of the same month)."""
    rng = rng_for(cfg, STREAM_INDICATORS, m)
    k = m - EPOCH
    policy = policy_rate(m)
    inflation = 0.028 - 0.0006 * k + 0.003 * np.sin(k / 2.5) + rng.normal(0, 0.0015)
    unemployment = 0.066 + 0.004 * np.cos(k / 3.0) + rng.normal(0, 0.002)
    last_day = month_start_days(np.array([m + 1]))[0] - 1
    usd = float(np.mean(usd_rates))
    units = [round(v * 1e6) for v in (policy, inflation, unemployment, usd)]
    return pa.table(
        {
            "indicator_date": af.dates(np.array([last_day])),
            "policy_rate": af.decimals(np.array(units[0:1]), 6),
            "inflation_yoy": af.decimals(np.array(units[1:2]), 6),
            "unemployment_rate": af.decimals(np.array(units[2:3]), 6),
            "usd_pen_avg": af.decimals(np.array(units[3:4]), 6),
        }
    )
