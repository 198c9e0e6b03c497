"""Every knob of the synthetic bank in one place: scales, behaviour and defect rates."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

#: Months are integers: year * 12 + (month - 1). EPOCH is 2024-01, the first partition.
EPOCH = 2024 * 12


@dataclass(frozen=True)
class Scale:
    """Volume knobs. Transactions per month follow from customers x activity."""

    customers: int  # customers at 2024-01; the base stays flat in 2024 and grows in 2025
    merchants: int
    purchases_per_customer: float = 19.0

    @classmethod
    def named(cls, name: str) -> Scale:
        try:
            return SCALES[name]
        except KeyError:
            raise ValueError(f"unknown scale {name!r}; choose one of {sorted(SCALES)}") from None


SCALES: dict[str, Scale] = {
    "tiny": Scale(customers=120, merchants=60),  # tests
    "small": Scale(customers=2_000, merchants=400),  # demo: ~50k transactions a month
    "large": Scale(customers=40_000, merchants=4_000),  # ~1M transactions a month
}


@dataclass(frozen=True)
class CampaignPlan:
    """A campaign of the marketing plan and the effect planted in its treatment arm."""

    campaign_id: str
    name: str
    channel: str
    offer: str
    segment: str  # active customers of this segment at the start month are eligible
    start: int  # first month (year * 12 + month - 1)
    months: int  # duration; the campaign runs [start, start + months)
    target_share: float  # share of eligible customers drawn for the campaign
    treatment_share: float  # share of the drawn customers contacted; the rest is the control group
    cost_cents: int  # cost of one contact (PEN cents)
    #: PLANTED: purchases per month of a treated customer are multiplied by this while the campaign
    #: runs (1.0 = no effect: the placebo campaign). Control customers are never affected.
    purchase_rate_ratio: float


CAMPAIGN_PLAN: tuple[CampaignPlan, ...] = (
    CampaignPlan("CMP001", "Cashback de otoño", "APP_PUSH", "CASHBACK", "MASS", EPOCH + 3, 3, 0.5, 0.5, 35, 1.25),
    CampaignPlan("CMP002", "Conoce tu app", "EMAIL", "AWARENESS", "AFFLUENT", EPOCH + 8, 3, 0.6, 0.5, 5, 1.00),
    CampaignPlan("CMP003", "Cashback de invierno", "SMS", "CASHBACK", "MASS", EPOCH + 16, 3, 0.5, 0.5, 12, 1.15),
    CampaignPlan(
        "CMP004", "Tasa preferente", "BRANCH", "RATE_DISCOUNT", "PREMIUM", EPOCH + 20, 2, 0.7, 0.5, 1500, 1.10
    ),
)


def policy_rate(m: int) -> float:
    """The central bank's reference rate in month m: quarterly cuts through 2024, then a hiking
    cycle of 25 bp every two months from 2025-01 to 7 %, flat after. Shared by the economic
    indicators file and the default model (rate rises after origination raise defaults)."""
    k = m - EPOCH
    if k < 12:
        return max(0.0550, 0.0625 - 0.0025 * (k // 3))
    return min(0.0700, 0.0550 + 0.0025 * ((k - 12) // 2))


@dataclass(frozen=True)
class DefaultModel:
    """PLANTED: logit P(default) = intercept + sum(log(odds ratio) x driver), drivers measured as
    the analytics measure them (tests/test_planted_effects.py)."""

    intercept: float = -2.2  # log-odds of a 650-score, 25 % debt-burden loan with no rate rise
    score_per_100: float = 0.40  # odds ratio per +100 points of credit score
    burden_per_10pp: float = 1.60  # per +10 percentage points of instalment / monthly income
    rate_rise_per_pp: float = 3.0  # per +1 pp of policy rate over the 6 months after origination
    late_first_instalment: float = 2.5  # causal: first instalment paid after its due date
    term_per_12m: float = 1.0  # placebo driver: the term does not change the odds
    #: the first instalment is paid late with logit = late_intercept + log(late_score_per_100) x
    #: (score - 650) / 100 + log(late_burden_per_10pp) x (burden - 0.25) / 0.10: low scores and
    #: heavy burdens pay late more often, which confounds the naive late-vs-on-time comparison
    late_intercept: float = -1.8
    late_score_per_100: float = 0.25
    late_burden_per_10pp: float = 1.8


DEFAULT_MODEL = DefaultModel()


@dataclass(frozen=True)
class FraudPlan:
    """PLANTED fraud pattern: evening online purchases at travel and entertainment merchants are
    fraudulent far more often than other purchases. Alert rules and investigators are in
    bank_assets.synthetic.fraud; investigators find the truth, so confirmed = fraud."""

    pattern_categories: tuple[str, ...] = ("TRAVEL", "ENTERTAINMENT")
    pattern_channel: str = "ONLINE"
    pattern_from_hour: int = 20  # local hour, inclusive; purchases happen 07:00-22:00
    fraud_rate_pattern: float = 0.15
    fraud_rate_other: float = 0.01
    #: rules that raise alerts: the pattern rule, a high-amount rule (amount >= this multiple of
    #: the category's mean ticket; NOT a fraud signal here: the placebo rule) and a random audit
    high_amount_multiple: float = 4.0
    audit_share: float = 0.01


FRAUD_PLAN = FraudPlan()


@dataclass(frozen=True)
class AmlPlan:
    """PLANTED money-laundering typologies (bank_assets.synthetic.aml), each in its own customers
    every month, with near-miss look-alikes that a rule must not flag. Sizes: ``per_month``
    customers per typology at 2,000 customers, scaled with the base (at least ``minimum``), and
    as many near misses. The amounts are designed around the alert rules' declared parameters
    (dbt_project.yml vars.aml; tests/test_aml.py holds the two together)."""

    per_month: int = 4
    minimum: int = 2
    cash_threshold_pen: int = 10_000  # structuring: deposits in [90 %, 100 %) of it, 3+ within 7 days
    pass_through_pen: tuple[int, int] = (25_000, 60_000)  # rapid in-and-out: the amount arriving
    round_transfer_pen: tuple[int, int] = (5, 20)  # round transfers: thousands of PEN
    dormant_flow_pen: tuple[int, int] = (30_000, 80_000)  # dormant reactivation: the amount arriving

    def count(self, customers: int) -> int:
        return max(self.minimum, round(self.per_month * customers / 2_000))


AML_PLAN = AmlPlan()


@dataclass(frozen=True)
class Behaviour:
    """How the synthetic customers behave. Rates are per month unless said otherwise."""

    growth_2025: float = 0.045  # compound monthly growth of the customer base in 2025
    growth_after: float = 0.01  # from 2026 on
    dormancy_hazard: float = 0.009  # chance an active customer goes dormant in a month
    months_dormant_before_close: tuple[int, int] = (2, 5)  # closes this many months later
    segment_p: dict[str, float] = field(
        default_factory=lambda: {"MASS": 0.60, "AFFLUENT": 0.25, "PREMIUM": 0.08, "SME": 0.07}
    )
    #: median monthly income (PEN) by segment
    income_median: dict[str, float] = field(
        default_factory=lambda: {"MASS": 2300, "AFFLUENT": 5200, "PREMIUM": 11000, "SME": 8000}
    )
    employment_p: dict[str, float] = field(
        default_factory=lambda: {
            "EMPLOYED": 0.64,
            "SELF_EMPLOYED": 0.16,
            "RETIRED": 0.09,
            "STUDENT": 0.06,
            "UNEMPLOYED": 0.05,
        }
    )
    upgrade_share: float = 0.06  # MASS customers promoted to AFFLUENT at some month (SCD2)
    move_share: float = 0.06  # customers who move district at some month (SCD2)
    limit_increase_share: float = 0.12  # credit cards whose limit rises at some month (SCD2)
    savings_share: float = 0.55
    savings_usd_share: float = 0.25
    credit_card_share: float = 0.42
    term_deposit_share: float = 0.08
    #: purchase mix: category -> (share of purchases, mean ticket in PEN)
    spend_mix: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "RETAIL": (0.26, 90.0),
            "ENTERTAINMENT": (0.18, 85.0),
            "GROCERIES": (0.15, 80.0),
            "RESTAURANTS": (0.12, 74.0),
            "TRANSPORT": (0.09, 70.0),
            "HEALTH": (0.07, 88.0),
            "TRAVEL": (0.06, 98.0),
            "EDUCATION": (0.04, 95.0),
            "OTHER": (0.03, 72.0),
        }
    )
    ticket_cv: float = 0.35  # tickets ~ mean * Normal(1, cv): light tail, few natural outliers
    segment_ticket_factor: dict[str, float] = field(
        default_factory=lambda: {"MASS": 1.0, "AFFLUENT": 1.5, "PREMIUM": 2.4, "SME": 1.8}
    )
    december_factor: float = 1.35  # purchases in December
    outlier_rate: float = 0.01  # purchases whose amount is multiplied by outlier_factor
    outlier_factor: tuple[float, float] = (6.0, 14.0)
    card_share_of_purchases: float = 0.6  # for customers holding a credit card
    bills_per_customer: tuple[int, int] = (1, 3)  # utilities
    bill_mean: float = 140.0
    auto_debits_per_customer: tuple[int, int] = (0, 3)  # subscriptions, insurance
    auto_debit_mean: float = 55.0
    withdrawal_share: float = 0.45  # customers taking cash in a month
    transfer_out_rate: float = 1.2  # transfers out per customer per month (Poisson)
    transfer_out_share_of_income: float = 0.36
    transfer_in_rate: float = 0.7
    transfer_in_mean: float = 260.0
    #: share of active customers applying for a loan each month (bank_assets.synthetic.credit);
    #: approved applications become the month's loans
    credit_application_rate: float = 0.10
    loan_late_share: float = 0.09  # instalments paid late (not defaulted)
    late_cross_month_share: float = 0.35  # late payments still unpaid at month end
    # -- planted effects: documented sizes the analytics must recover (tests/test_planted_effects.py)
    campaigns: tuple[CampaignPlan, ...] = CAMPAIGN_PLAN
    #: PLANTED churn driver: monthly chance that an active customer files a complaint, and the same
    #: chance in the two months before the customer goes dormant (10x).
    complaint_rate: float = 0.03
    complaint_rate_before_dormancy: float = 0.30
    #: Other contacts (inquiries, card blocks, ...) per active customer per month (Poisson). They do
    #: NOT depend on churn: the placebo driver.
    contact_rate: float = 0.25
    #: PLANTED default drivers (bank_assets.synthetic.credit): the chance that a loan defaults on
    #: one of its instalments 2..7 is logistic in these drivers, with these odds ratios.
    default_model: DefaultModel = field(default_factory=lambda: DEFAULT_MODEL)
    #: PLANTED closure reasons (bank_assets.synthetic.lifecycle): the reason a customer gives when
    #: closing, by segment, as shares of contracts.CLOSURE_REASONS (FEES, COMPETITOR_OFFER,
    #: SERVICE_QUALITY, NO_LONGER_NEEDED, RELOCATION).
    closure_reasons: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "MASS": (0.45, 0.15, 0.10, 0.25, 0.05),
            "AFFLUENT": (0.20, 0.35, 0.20, 0.20, 0.05),
            "PREMIUM": (0.05, 0.55, 0.25, 0.10, 0.05),
            "SME": (0.25, 0.30, 0.30, 0.10, 0.05),
        }
    )
    #: PLANTED fraud pattern (bank_assets.synthetic.fraud).
    fraud: FraudPlan = field(default_factory=lambda: FRAUD_PLAN)
    #: PLANTED money-laundering typologies (bank_assets.synthetic.aml).
    aml: AmlPlan = field(default_factory=lambda: AML_PLAN)


@dataclass(frozen=True)
class DefectRates:
    """Share of a table's clean rows that receive each defect (0 = clean mode)."""

    duplicate_exact: float = 0.005
    resent_changed: float = 0.003
    null_required: float = 0.002
    malformed_date: float = 0.002
    non_numeric_amount: float = 0.001
    negative_amount: float = 0.001
    unknown_currency: float = 0.001
    orphan_fk: float = 0.001
    whitespace_case: float = 0.01

    @classmethod
    def clean(cls) -> DefectRates:
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def scaled(self, factor: float) -> DefectRates:
        return replace(self, **{f.name: getattr(self, f.name) * factor for f in fields(self)})

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that determines the bytes of a landing file, together with the month."""

    seed: int = 42
    scale: Scale = SCALES["small"]
    defects: DefectRates = field(default_factory=DefectRates)
    behaviour: Behaviour = field(default_factory=Behaviour)
    locale: str = "es_MX"
