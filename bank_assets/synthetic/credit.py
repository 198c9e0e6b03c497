"""Credit applications, their decision, and the loans the approved ones become.

Every month a share of the active customers applies for a loan. The application carries a credit
score (a stable trait of the customer plus noise), the requested amount and term, and the debt
burden (the instalment over the customer's monthly income). The bank's rule decides it:

* score below ``MIN_SCORE``: rejected, LOW_SCORE;
* else instalment above ``MAX_BURDEN`` of income: rejected, HIGH_DEBT_BURDEN;
* else a small share with missing papers: rejected, INCOMPLETE_DOCUMENTS;
* else approved: the loan is disbursed the same day.

PLANTED (sizes in ``params.DefaultModel``): whether a loan defaults on one of its instalments 2-7
is logistic in the score, the debt burden, the rise of the policy rate over the six months after
origination and whether the first instalment was paid late (the causal effect; lower scores pay
late more often, so the naive comparison overstates it). The term is a placebo driver. Defaults
land within 9 months, where days past due reach 60 (see ``loans.instalments_due``).

A month's applications use the stream ``(seed, APPLICATIONS, month)`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtri

from bank_assets.contracts import SEGMENTS
from bank_assets.synthetic.loans import PRODUCTS, TERMS, Loans
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import GeneratorConfig, policy_rate
from bank_assets.synthetic.population import NEVER, Snapshot, rng_for

STREAM_APPLICATIONS = 23
MIN_SCORE = 580
MAX_BURDEN = 0.45
INCOMPLETE_SHARE = 0.04
#: loan product mix of each segment's applications (PERSONAL, AUTO, MORTGAGE); SME always asks SME
PRODUCT_MIX = {"MASS": (0.85, 0.12, 0.03), "AFFLUENT": (0.6, 0.25, 0.15), "PREMIUM": (0.4, 0.3, 0.3)}
USD_PEN = 3.75  # the rate the bank's rule converts USD instalments at
#: defaults fall on instalments 2..DEFAULT_LAST (instalment 1 is the timeliness treatment)
DEFAULT_LAST = 7
#: the window over which a policy-rate rise is measured, in months after origination
RATE_WINDOW = 6


def customer_score_trait(cfg: GeneratorConfig, num: np.ndarray) -> np.ndarray:
    """A stable standard-normal trait per customer number (a keyed integer hash, so it does not
    depend on which month or cohort is generated first)."""
    x = num.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(cfg.seed * 7919 + 1)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(29)
    u = ((x >> np.uint64(11)).astype(np.float64) + 0.5) / float(2**53)
    return ndtri(u)


def rate_rise_pp(m: int) -> float:
    """Policy-rate change, in percentage points, over the RATE_WINDOW months after month m."""
    return round((policy_rate(m + RATE_WINDOW) - policy_rate(m)) * 100, 4)


@dataclass
class Applications:
    month: int
    num: np.ndarray  # application number: YYYYMM * 1e6 + seq
    customer_num: np.ndarray
    day: np.ndarray
    product: np.ndarray
    principal_cents: np.ndarray  # requested amount, in the loan currency
    currency: np.ndarray  # 0 PEN, 1 USD
    rate_bp: np.ndarray  # offered annual rate in 1e-6
    term: np.ndarray
    instalment_cents: np.ndarray
    score: np.ndarray
    burden_ppm: np.ndarray  # instalment (PEN) / monthly income, in 1e-6
    reason: np.ndarray  # index into CREDIT_REASONS; 0 = approved
    late_first: np.ndarray  # bool: would pay its first instalment late
    default_no: np.ndarray  # instalment it defaults on, NEVER = performs

    @property
    def approved(self) -> np.ndarray:
        return self.reason == 0


def applications(cfg: GeneratorConfig, snap: Snapshot) -> Applications:
    """The month's applications, decided, with the planted repayment behaviour of each."""
    m = snap.month
    rng = rng_for(cfg, STREAM_APPLICATIONS, m)
    b = cfg.behaviour
    dm = b.default_model
    active = np.flatnonzero(snap.status == 0)
    who = active[rng.random(len(active)) < b.credit_application_rate]
    n = len(who)
    people = snap.people
    seg = np.where(m >= people.upgrade_month[who], SEGMENTS.index("AFFLUENT"), people.segment[who])
    product = np.zeros(n, np.int64)
    for s, mix in PRODUCT_MIX.items():
        rows = np.flatnonzero(seg == SEGMENTS.index(s))
        product[rows] = rng.choice(3, len(rows), p=np.array(mix))
    product[seg == SEGMENTS.index("SME")] = PRODUCTS.index("SME")
    income = people.income_cents[who].astype(float) / 100
    median = np.array([TERMS[p][0] for p in PRODUCTS])[product]
    principal = np.round(median * np.sqrt(income / 3000) * rng.lognormal(0, 0.45, n), -2)
    lo_t = np.array([TERMS[p][1][0] for p in PRODUCTS])[product]
    hi_t = np.array([TERMS[p][1][1] for p in PRODUCTS])[product]
    term = lo_t + (rng.random(n) * ((hi_t - lo_t) // 12 + 1)).astype(np.int64) * 12
    score = np.clip(np.round(650 + 70 * customer_score_trait(cfg, people.num[who]) + rng.normal(0, 25, n)), 300, 850)
    score = score.astype(np.int64)
    # risk-based pricing: the product's range, cheaper for better scores
    lo_r = np.array([TERMS[p][2][0] for p in PRODUCTS])[product]
    hi_r = np.array([TERMS[p][2][1] for p in PRODUCTS])[product]
    position = np.clip((760 - score) / 240, 0, 1) * 0.8 + rng.uniform(0, 0.2, n)
    rate = np.round(lo_r + (hi_r - lo_r) * position, 4)
    currency = ((product == PRODUCTS.index("MORTGAGE")) & (rng.random(n) < 0.3)).astype(np.int64)
    principal = np.where(currency == 1, np.round(principal / USD_PEN, -2), principal)
    r = rate / 12
    instalment = np.round(principal * r / (1 - (1 + r) ** -term), 2)
    burden = instalment * np.where(currency == 1, USD_PEN, 1.0) / income
    incomplete = rng.random(n) < INCOMPLETE_SHARE
    reason = np.select(
        [score < MIN_SCORE, burden > MAX_BURDEN, incomplete],
        [1, 2, 3],
        default=0,
    )
    # the planted repayment behaviour (drawn for every application, used for approved ones)
    z_score = (score - 650) / 100
    z_burden = (burden - 0.25) / 0.10
    late_logit = (
        dm.late_intercept + np.log(dm.late_score_per_100) * z_score + np.log(dm.late_burden_per_10pp) * z_burden
    )
    late_first = rng.random(n) < expit(late_logit)
    logit = (
        dm.intercept
        + np.log(dm.score_per_100) * z_score
        + np.log(dm.burden_per_10pp) * z_burden
        + np.log(dm.rate_rise_per_pp) * rate_rise_pp(m)
        + np.log(dm.late_first_instalment) * late_first
        + np.log(dm.term_per_12m) * term / 12
    )
    defaults = rng.random(n) < expit(logit)
    default_no = np.where(defaults, rng.integers(2, DEFAULT_LAST + 1, n), NEVER)
    first = month_start_days(np.array([m]))[0]
    day = first + rng.integers(0, 28, n)
    order = np.argsort(day, kind="stable")
    yyyymm = m // 12 * 100 + m % 12 + 1
    fields = dict(
        customer_num=people.num[who],
        day=day,
        product=product,
        principal_cents=np.round(principal * 100).astype(np.int64),
        currency=currency,
        rate_bp=np.round(rate * 1e6).astype(np.int64),
        term=term,
        instalment_cents=np.round(instalment * 100).astype(np.int64),
        score=score,
        burden_ppm=np.round(burden * 1e6).astype(np.int64),
        reason=reason,
        late_first=late_first,
        default_no=default_no,
    )
    return Applications(
        month=m,
        num=yyyymm * 1_000_000 + np.arange(n, dtype=np.int64),
        **{k: v[order] for k, v in fields.items()},
    )


def loans_of(apps: Applications) -> Loans:
    """The approved applications as disbursed loans (loan number = application number)."""
    ok = apps.approved
    return Loans(
        month=apps.month,
        num=apps.num[ok],
        customer_num=apps.customer_num[ok],
        product=apps.product[ok],
        principal_cents=apps.principal_cents[ok],
        currency=apps.currency[ok],
        rate_bp=apps.rate_bp[ok],
        term=apps.term[ok],
        instalment_cents=apps.instalment_cents[ok],
        origination_day=apps.day[ok],
        default_no=apps.default_no[ok],
        late_first=apps.late_first[ok],
    )
