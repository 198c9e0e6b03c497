"""The customer base: cohorts drawn once per signup month, then filtered per snapshot month.

Every cohort has its own random stream ``(seed, COHORT, cohort)``, so month M depends only on
the seed, the scale and the cohorts up to M: regenerating one month alone gives the same bytes
as a full run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bank_assets.contracts import SEGMENTS
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import EPOCH, GeneratorConfig

STREAM_COHORT = 1
EMPLOYMENTS = ("EMPLOYED", "SELF_EMPLOYED", "RETIRED", "STUDENT", "UNEMPLOYED")
INCOME_BANDS = ("LOW", "MID", "HIGH", "VERY_HIGH")
NEVER = 10**6  # a month that never comes
MAX_SLOTS = 4  # account slots per customer: checking, savings, card, term deposit


def rng_for(cfg: GeneratorConfig, stream: int, key: int) -> np.random.Generator:
    return np.random.default_rng([cfg.seed, stream, key])


def target_customers(cfg: GeneratorConfig, m: int) -> float:
    """Target size of the customer base at month m: flat in 2024, compound growth after."""
    b = cfg.behaviour
    n0 = cfg.scale.customers
    if m < EPOCH + 12:
        return float(n0)
    if m < EPOCH + 24:
        return n0 * (1 + b.growth_2025) ** (m - EPOCH - 11)
    return n0 * (1 + b.growth_2025) ** 12 * (1 + b.growth_after) ** (m - EPOCH - 23)


def cohort_size(cfg: GeneratorConfig, cohort: int) -> int:
    """Cohort 0 is the base at 2024-01; cohort c >= 1 signs up in month EPOCH + c - 1."""
    if cohort == 0:
        return cfg.scale.customers
    m = EPOCH + cohort - 1
    prev = target_customers(cfg, m - 1)
    growth = target_customers(cfg, m) - prev
    replacement = cfg.behaviour.dormancy_hazard * prev
    return round(growth + replacement)


@dataclass
class Cohort:
    """Column arrays of one signup cohort (all the same length)."""

    num: np.ndarray  # customer number; id = C + 10 digits
    signup_day: np.ndarray
    signup_month: np.ndarray
    dormant_month: np.ndarray
    close_month: np.ndarray
    close_day: np.ndarray  # day of month (0-based) the relationship closes
    segment: np.ndarray  # index into SEGMENTS
    upgrade_month: np.ndarray
    employment: np.ndarray  # index into EMPLOYMENTS
    income_cents: np.ndarray
    district: np.ndarray  # index into pools.DISTRICTS
    new_district: np.ndarray
    move_month: np.ndarray
    birth_day: np.ndarray
    first_name: np.ndarray  # index into the Faker pool
    last_name: np.ndarray
    street: np.ndarray
    street_no: np.ndarray
    email_domain: np.ndarray
    national_id: np.ndarray
    phone: np.ndarray
    activity: np.ndarray  # multiplies the purchase rate
    home_branch: np.ndarray  # index into the branch table
    # accounts: slot 0 checking (always), 1 savings, 2 credit card, 3 term deposit
    has_slot: np.ndarray  # bool (n, 4)
    slot_open_day: np.ndarray  # (n, 4)
    savings_usd: np.ndarray  # bool
    card_limit_cents: np.ndarray
    limit_increase_month: np.ndarray
    balance_level: np.ndarray  # (n, 4) typical balance in account currency units
    bills_cents: np.ndarray  # (n, 3) fixed monthly bills, 0 = none
    auto_debits_cents: np.ndarray  # (n, 3)

    def __len__(self) -> int:
        return len(self.num)


def _draw_cohort(
    cfg: GeneratorConfig,
    cohort: int,
    n_branches_by_district: np.ndarray,
    branch_offset_by_district: np.ndarray,
    pool_sizes: tuple[int, int, int],
) -> Cohort:
    from bank_assets.synthetic.pools import DISTRICT_WEIGHTS, EMAIL_DOMAINS

    b = cfg.behaviour
    n = cohort_size(cfg, cohort)
    rng = rng_for(cfg, STREAM_COHORT, cohort)
    if cohort == 0:
        lo, hi = month_start_days(np.array([2012 * 12, EPOCH]))
        signup_day = rng.integers(lo, hi, n)
    else:
        m = EPOCH + cohort - 1
        lo, hi = month_start_days(np.array([m, m + 1]))
        signup_day = np.sort(rng.integers(lo, hi, n))
    signup_month = signup_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    life_start = np.maximum(signup_month, EPOCH)
    dormant_month = life_start + rng.geometric(b.dormancy_hazard, n)
    lo_c, hi_c = b.months_dormant_before_close
    close_month = dormant_month + rng.integers(lo_c, hi_c + 1, n)
    close_day = rng.integers(0, 28, n)

    seg_p = np.array([b.segment_p[s] for s in SEGMENTS])
    segment = rng.choice(len(SEGMENTS), n, p=seg_p / seg_p.sum())
    emp_p = np.array([b.employment_p[e] for e in EMPLOYMENTS])
    employment = rng.choice(len(EMPLOYMENTS), n, p=emp_p / emp_p.sum())
    employment[segment == SEGMENTS.index("SME")] = EMPLOYMENTS.index("SELF_EMPLOYED")
    median = np.array([b.income_median[s] for s in SEGMENTS])[segment]
    income = median * rng.lognormal(0.0, 0.35, n)
    income[employment == EMPLOYMENTS.index("RETIRED")] *= 0.6
    income[employment == EMPLOYMENTS.index("STUDENT")] *= 0.25
    income[employment == EMPLOYMENTS.index("UNEMPLOYED")] *= 0.2
    income_cents = np.round(income * 100).astype(np.int64)

    upgradable = (segment == SEGMENTS.index("MASS")) & (rng.random(n) < b.upgrade_share)
    upgrade_month = np.where(upgradable, life_start + rng.integers(1, 24, n), NEVER)
    district = rng.choice(len(DISTRICT_WEIGHTS), n, p=DISTRICT_WEIGHTS)
    new_district = rng.choice(len(DISTRICT_WEIGHTS), n, p=DISTRICT_WEIGHTS)
    moves = (rng.random(n) < b.move_share) & (new_district != district)
    move_month = np.where(moves, life_start + rng.integers(1, 24, n), NEVER)

    age_days = rng.integers(18 * 365, 80 * 365, n)
    age_days[employment == EMPLOYMENTS.index("STUDENT")] //= 3
    age_days = np.maximum(age_days, 18 * 365)
    birth_day = signup_day - age_days + rng.integers(0, 365, n)

    n_first, n_last, n_street = pool_sizes
    has_slot = np.zeros((n, MAX_SLOTS), dtype=bool)
    has_slot[:, 0] = True
    has_slot[:, 1] = rng.random(n) < b.savings_share
    has_slot[:, 2] = rng.random(n) < b.credit_card_share
    has_slot[:, 3] = rng.random(n) < b.term_deposit_share
    slot_open_day = signup_day[:, None] + rng.integers(0, 540, (n, MAX_SLOTS))
    slot_open_day[:, 0] = signup_day
    card_limit = np.round(income_cents * rng.uniform(1.5, 3.0, n) / 10_000) * 10_000
    limit_up = has_slot[:, 2] & (rng.random(n) < b.limit_increase_share)
    limit_increase_month = np.where(limit_up, life_start + rng.integers(1, 24, n), NEVER)
    level = np.empty((n, MAX_SLOTS))
    level[:, 0] = income * rng.uniform(0.3, 1.4, n)
    level[:, 1] = income * rng.uniform(1.0, 6.0, n)
    level[:, 2] = -card_limit / 100 * rng.uniform(0.05, 0.6, n)
    level[:, 3] = income * rng.uniform(6.0, 20.0, n)
    savings_usd = has_slot[:, 1] & (rng.random(n) < b.savings_usd_share)
    level[savings_usd, 1] /= 3.75

    lo_b, hi_b = b.bills_per_customer
    n_bills = rng.integers(lo_b, hi_b + 1, n)
    bills = rng.gamma(4.0, b.bill_mean / 4.0, (n, 3)) * (np.arange(3)[None, :] < n_bills[:, None])
    lo_a, hi_a = b.auto_debits_per_customer
    n_auto = rng.integers(lo_a, hi_a + 1, n)
    autos = rng.gamma(3.0, b.auto_debit_mean / 3.0, (n, 3)) * (np.arange(3)[None, :] < n_auto[:, None])

    counts = n_branches_by_district[district]
    pick = (rng.random(n) * np.maximum(counts, 1)).astype(np.int64)
    home_branch = np.where(
        counts > 0,
        branch_offset_by_district[district] + pick,
        rng.integers(0, max(int(n_branches_by_district.sum()), 1), n),
    )

    return Cohort(
        num=cohort * 1_000_000 + np.arange(n, dtype=np.int64),
        signup_day=signup_day,
        signup_month=signup_month,
        dormant_month=dormant_month,
        close_month=close_month,
        close_day=close_day,
        segment=segment,
        upgrade_month=upgrade_month,
        employment=employment,
        income_cents=income_cents,
        district=district,
        new_district=new_district,
        move_month=move_month,
        birth_day=birth_day,
        first_name=rng.integers(0, n_first, n),
        last_name=rng.integers(0, n_last, n),
        street=rng.integers(0, n_street, n),
        street_no=rng.integers(100, 3000, n),
        email_domain=rng.integers(0, len(EMAIL_DOMAINS), n),
        national_id=rng.integers(10_000_000, 79_999_999, n),
        phone=rng.integers(900_000_000, 999_999_999, n),
        activity=rng.gamma(6.0, 1 / 6.0, n),
        home_branch=home_branch,
        has_slot=has_slot,
        slot_open_day=slot_open_day,
        savings_usd=savings_usd,
        card_limit_cents=card_limit.astype(np.int64),
        limit_increase_month=limit_increase_month,
        balance_level=level,
        bills_cents=np.round(bills * 100).astype(np.int64),
        auto_debits_cents=np.round(autos * 100).astype(np.int64),
    )


def _concat(cohorts: list[Cohort]) -> Cohort:
    names = Cohort.__dataclass_fields__
    return Cohort(**{k: np.concatenate([getattr(c, k) for c in cohorts]) for k in names})


@dataclass
class Snapshot:
    """The customers present at one month end, with their status."""

    month: int
    people: Cohort  # rows restricted to the customers present
    status: np.ndarray  # index into CUSTOMER_STATUSES: 0 active, 1 dormant, 2 closed


_COHORT_CACHE: dict[tuple, Cohort] = {}


def _cohort(
    cfg: GeneratorConfig, cohort: int, branch_index: tuple[np.ndarray, np.ndarray], pool_sizes: tuple[int, int, int]
) -> Cohort:
    key = (repr(cfg), cohort)
    if key not in _COHORT_CACHE:
        if len(_COHORT_CACHE) > 256:
            _COHORT_CACHE.clear()
        _COHORT_CACHE[key] = _draw_cohort(cfg, cohort, *branch_index, pool_sizes)
    return _COHORT_CACHE[key]


def snapshot(
    cfg: GeneratorConfig, m: int, branch_index: tuple[np.ndarray, np.ndarray], pool_sizes: tuple[int, int, int]
) -> Snapshot:
    """Customers present at the end of month m (signed up, not closed before m)."""
    if m < EPOCH:
        raise ValueError("the synthetic bank starts in 2024-01")
    everyone = _concat([_cohort(cfg, c, branch_index, pool_sizes) for c in range(m - EPOCH + 2)])
    present = (everyone.signup_month <= m) & (everyone.close_month >= m)
    people = Cohort(**{k: getattr(everyone, k)[present] for k in Cohort.__dataclass_fields__})
    status = np.where(m >= people.close_month, 2, np.where(m >= people.dormant_month, 1, 0))
    return Snapshot(month=m, people=people, status=status)
