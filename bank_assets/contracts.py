"""Table contracts: the single source of truth for every source table.

Each :class:`Contract` declares a landing table's columns (with logical types), business key,
required columns, foreign keys, accepted values and PII flags. Everything else derives from it:
the synthetic generator's column order, the bronze loader's expected header, silver's casts and
quarantine rules, the asset checks, the Dagster column metadata and the PII masking list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LogicalType = Literal["id", "text", "code", "email", "date", "timestamp", "money", "decimal", "int"]

#: DuckDB type of each logical type in silver. Money is always DECIMAL(18,2), never float.
SQL_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "code": "VARCHAR",
    "email": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "money": "DECIMAL(18,2)",
    "decimal": "DECIMAL(18,6)",
    "int": "INTEGER",
}

REPORTING_CURRENCY = "PEN"

#: Text that means "no value" in every landing column (exact, case-sensitive match after trimming
#: spaces, tabs and line ends). Silver stores NULL for them, so a required column quarantines them.
NULL_TOKENS = ("", "NULL", "null", "Null", "N/A", "n/a", "NaN", "nan", "None")

#: Bank time: timestamps without an offset are local time in Lima; a timestamp with an offset
#: (`Z`, `+hh:mm`, `-hh:mm`) is converted to it. America/Lima is UTC-05:00 all year (no DST
#: since 1994), so the conversion is a fixed shift.
BANK_TIMEZONE = "America/Lima"
BANK_UTC_OFFSET_MINUTES = -300

#: Strict formats of the landing files, one per logical type (RE2, matched against the whole
#: trimmed value). A value that does not match is quarantined (INVALID_DATE, INVALID_TIMESTAMP,
#: INVALID_NUMBER) with its raw text kept: nothing is rounded, re-padded or guessed.
#: Money has at most two decimals, a '.' decimal point, no thousands separators, no exponent.
FORMATS: dict[str, str] = {
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "timestamp": r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?",
    "money": r"-?[0-9]{1,16}(\.[0-9]{1,2})?",
    "decimal": r"-?[0-9]{1,12}(\.[0-9]{1,6})?",
    "int": r"-?[0-9]{1,9}",
}
#: Longest accepted value of an id, code, text or email column (longer: VALUE_TOO_LONG).
MAX_TEXT_LENGTH = 200
CURRENCIES = ("PEN", "USD", "EUR")
SEGMENTS = ("MASS", "AFFLUENT", "PREMIUM", "SME")
CUSTOMER_STATUSES = ("ACTIVE", "DORMANT", "CLOSED")
ACCOUNT_PRODUCTS = ("CHECKING", "SAVINGS", "CREDIT_CARD", "TERM_DEPOSIT")
TXN_TYPES = (
    "PURCHASE",
    "WITHDRAWAL",
    "BILL_PAYMENT",
    "AUTO_DEBIT",
    "LOAN_PAYMENT",
    "TRANSFER_OUT",
    "SALARY",
    "PENSION",
    "DEPOSIT",
    "TRANSFER_IN",
)
SPEND_CATEGORIES = (
    "RETAIL",
    "ENTERTAINMENT",
    "GROCERIES",
    "RESTAURANTS",
    "TRANSPORT",
    "HEALTH",
    "TRAVEL",
    "EDUCATION",
    "OTHER",
)
CATEGORIES = (*SPEND_CATEGORIES, "CASH", "UTILITIES", "SUBSCRIPTIONS", "LOAN", "TRANSFER", "INCOME")
CHANNELS = ("POS", "ONLINE", "ATM", "BRANCH", "TRANSFER", "AUTO_DEBIT")
CAMPAIGN_CHANNELS = ("EMAIL", "SMS", "APP_PUSH", "BRANCH")
CAMPAIGN_OFFERS = ("CASHBACK", "RATE_DISCOUNT", "FEE_WAIVER", "AWARENESS")
CAMPAIGN_ARMS = ("TREATMENT", "CONTROL")
INTERACTION_CHANNELS = ("PHONE", "BRANCH", "APP_CHAT", "EMAIL")
INTERACTION_REASONS = ("COMPLAINT", "INQUIRY", "CARD_BLOCK", "PRODUCT_INFO", "ADDRESS_CHANGE")
AGENT_TEAMS = ("CALL_CENTER", "BRANCH_STAFF", "DIGITAL")
LOAN_PRODUCTS = ("PERSONAL", "AUTO", "MORTGAGE", "SME")
PRODUCT_FAMILIES = ("DEPOSIT", "CARD", "LOAN")
CREDIT_DECISIONS = ("APPROVED", "REJECTED")
CREDIT_REASONS = ("APPROVED", "LOW_SCORE", "HIGH_DEBT_BURDEN", "INCOMPLETE_DOCUMENTS")
FRAUD_RULES = ("EVENING_ONLINE_TE", "HIGH_AMOUNT", "RANDOM_AUDIT")
FRAUD_MILESTONES = ("RAISED", "REVIEWED", "CLOSED")
FRAUD_OUTCOMES = ("CONFIRMED_FRAUD", "FALSE_POSITIVE")
ACCOUNT_EVENT_TYPES = ("OPENED", "STATUS_CHANGED", "LIMIT_CHANGED", "CLOSED")
#: Basel III HQLA levels of a treasury position (BCBS 238, paragraphs 49-54); NON_HQLA counts for nothing
HQLA_LEVELS = ("LEVEL_1", "LEVEL_2A", "LEVEL_2B", "NON_HQLA")
TREASURY_ASSET_CLASSES = (
    "CASH",
    "CENTRAL_BANK_RESERVES",
    "CENTRAL_BANK_CERTIFICATE",
    "SOVEREIGN_BOND",
    "CORPORATE_BOND",
    "COVERED_BOND",
    "EQUITY",
)
YES_NO = ("YES", "NO")
CLOSURE_REASONS = ("FEES", "COMPETITOR_OFFER", "SERVICE_QUALITY", "NO_LONGER_NEEDED", "RELOCATION")


@dataclass(frozen=True)
class Column:
    """One column of a landing file and its silver typing rule."""

    name: str
    type: LogicalType
    description: str
    required: bool = False
    pii: bool = False
    accepted: tuple[str, ...] | None = None
    references: str | None = None  # "table.column" of the parent row
    nonnegative: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Pseudonym:
    """A keyed pseudonym silver adds for PII columns (bank_assets.pseudonym: HMAC-SHA256 under a
    secret key): the only form in which they leave silver."""

    name: str
    columns: tuple[str, ...]  # joined with '|' (NULL as empty) before hashing
    description: str


@dataclass(frozen=True)
class Contract:
    """A source table: its grain, columns and rules."""

    name: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: Every table is partitioned by month: one file per month under landing/<table>/<YYYY-MM>/.
    #: "events": rows of things that happened in the month (or month-end snapshots of entities);
    #: "reference": a monthly snapshot of slowly changing reference data. A month without its
    #: own file carries the latest earlier month's file forward (see bank_assets.layout).
    partitioning: Literal["events", "reference"]
    #: Column whose date must fall in the partition month (half-open window).
    event_column: str | None = None
    #: Column giving the currency of the money columns; silver adds <money>_pen columns.
    currency_column: str | None = None
    #: Column whose date picks the fx rate for conversion (defaults to event_column).
    fx_date_column: str | None = None
    #: A month's file may hold no data rows (loans: a small bank may originate none in a month;
    #: loan_payments: no instalment falls due in a bank's first month). When False an empty or
    #: header-only file is refused. Either way a month whose row count collapses below 10 % of
    #: the trailing months' mean is refused
    #: (bank_assets.warehouse.bronze.check_volume; bronze's run config overrides both).
    may_be_empty: bool = False
    #: False for tables that arrive in bursts (campaign targeting lands in a campaign's first
    #: month only): bronze's volume-collapse check is skipped, the empty-file rule still applies.
    steady_volume: bool = True
    #: Keyed pseudonyms of PII columns, added as silver columns (gold reads these, never the PII).
    pseudonyms: tuple[Pseudonym, ...] = ()
    #: Who the key stands for: groups of columns (one attribute each, e.g. the name = first and
    #: last name) that must not change under the same key from one snapshot to the next. A key
    #: whose group differs from its latest earlier snapshot is flagged by silver's
    #: identity_stable rule (a core system that reused or overwrote a customer number).
    identity: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required or c.name in self.key]

    @property
    def foreign_keys(self) -> list[Column]:
        return [c for c in self.columns if c.references]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    @property
    def money_columns(self) -> list[Column]:
        return [c for c in self.columns if c.type == "money"]

    @property
    def carries_forward(self) -> bool:
        """Reference snapshots: a month without a file reuses the latest earlier month's file."""
        return self.partitioning == "reference"

    @property
    def is_snapshot(self) -> bool:
        """Each month holds the full state (children resolve against the same month)."""
        return self.carries_forward or self.event_column == "snapshot_date"


def _c(name: str, type_: LogicalType, description: str, **kw: object) -> Column:
    return Column(name, type_, description, **kw)  # type: ignore[arg-type]


CUSTOMERS = Contract(
    name="customers",
    pseudonyms=(
        Pseudonym("national_id_hash", ("national_id",), "Keyed pseudonym (HMAC-SHA256, hex) of national_id."),
        Pseudonym("address_hash", ("street", "district"), "Keyed pseudonym of street | district."),
    ),
    description="Monthly CRM snapshot: every customer known to the bank at month end.",
    grain="one row per customer per snapshot month",
    partitioning="events",
    key=("customer_id",),
    event_column="snapshot_date",
    identity=(("national_id",), ("birth_date",), ("first_name", "last_name")),
    columns=(
        _c("customer_id", "id", "Customer identifier (stable across snapshots).", required=True),
        _c("first_name", "text", "Given name.", required=True, pii=True),
        _c("last_name", "text", "Family name.", required=True, pii=True),
        _c("email", "email", "Contact email (lower-cased in silver).", pii=True),
        _c("national_id", "id", "DNI number.", required=True, pii=True),
        _c("phone", "text", "Mobile number.", pii=True),
        _c("birth_date", "date", "Date of birth.", required=True),
        _c("street", "text", "Street address.", pii=True),
        _c("district", "text", "District of residence (Lima by default).", required=True),
        _c("city", "text", "City of residence.", required=True),
        _c("segment", "code", "Commercial segment.", required=True, accepted=SEGMENTS),
        _c("income_band", "code", "Declared income band.", required=True, accepted=("LOW", "MID", "HIGH", "VERY_HIGH")),
        _c(
            "employment_status",
            "code",
            "Employment status.",
            required=True,
            accepted=("EMPLOYED", "SELF_EMPLOYED", "RETIRED", "STUDENT", "UNEMPLOYED"),
        ),
        _c("signup_date", "date", "Date the customer joined the bank.", required=True),
        _c("status", "code", "Relationship status at snapshot.", required=True, accepted=CUSTOMER_STATUSES),
        _c("snapshot_date", "date", "Month-end date of the snapshot.", required=True),
    ),
)

ACCOUNTS = Contract(
    name="accounts",
    description="Monthly account snapshot with month-end balance and limit.",
    grain="one row per account per snapshot month",
    partitioning="events",
    key=("account_id",),
    event_column="snapshot_date",
    currency_column="currency",
    columns=(
        _c("account_id", "id", "Account identifier.", required=True),
        _c("customer_id", "id", "Owner.", required=True, references="customers.customer_id"),
        _c("branch_id", "id", "Home branch.", required=True, references="branches.branch_id"),
        _c("product", "code", "Product type.", required=True, accepted=ACCOUNT_PRODUCTS),
        _c("currency", "code", "ISO currency of the account.", required=True, accepted=CURRENCIES),
        _c("opened_date", "date", "Opening date.", required=True),
        _c("closed_date", "date", "Closing date, empty while open."),
        _c("credit_limit", "money", "Approved limit (credit cards), else 0.", nonnegative=True),
        _c("balance", "money", "Month-end balance (negative = amount owed).", required=True),
        _c("status", "code", "Account status at snapshot.", required=True, accepted=CUSTOMER_STATUSES),
        _c("snapshot_date", "date", "Month-end date of the snapshot.", required=True),
    ),
)

TRANSACTIONS = Contract(
    name="transactions",
    description="Posted account movements of the month.",
    grain="one row per transaction",
    partitioning="events",
    key=("transaction_id",),
    event_column="transaction_ts",
    currency_column="currency",
    columns=(
        _c("transaction_id", "id", "Transaction identifier.", required=True),
        _c("account_id", "id", "Account moved.", required=True, references="accounts.account_id"),
        _c("merchant_id", "id", "Merchant for card purchases, else empty.", references="merchants.merchant_id"),
        _c("counterparty_id", "id", "Other party's account of a transfer (TRANSFER_IN, TRANSFER_OUT), else empty."),
        _c("transaction_ts", "timestamp", "Posting timestamp (local time).", required=True),
        _c("amount", "money", "Absolute amount in the transaction currency.", required=True, nonnegative=True),
        _c("currency", "code", "ISO currency.", required=True, accepted=CURRENCIES),
        _c("direction", "code", "CREDIT (money in) or DEBIT (money out).", required=True, accepted=("CREDIT", "DEBIT")),
        _c("txn_type", "code", "Business type of the movement.", required=True, accepted=TXN_TYPES),
        _c("category", "code", "Spend or flow category.", required=True, accepted=CATEGORIES),
        _c("channel", "code", "Channel used.", required=True, accepted=CHANNELS),
    ),
)

MERCHANTS = Contract(
    name="merchants",
    description="Merchants seen in card purchases (reference data, monthly snapshot).",
    grain="one row per merchant per snapshot month",
    partitioning="reference",
    key=("merchant_id",),
    columns=(
        _c("merchant_id", "id", "Merchant identifier.", required=True),
        _c("merchant_name", "text", "Trading name.", required=True),
        _c("category", "code", "Spend category.", required=True, accepted=SPEND_CATEGORIES),
        _c("mcc", "code", "Merchant category code (ISO 18245).", required=True),
        _c("district", "text", "District of the main store.", required=True),
    ),
)

BRANCHES = Contract(
    name="branches",
    description="Branches and ATMs with their location (reference data, monthly snapshot).",
    grain="one row per branch or ATM per snapshot month",
    partitioning="reference",
    key=("branch_id",),
    columns=(
        _c("branch_id", "id", "Branch or ATM identifier.", required=True),
        _c("branch_name", "text", "Display name.", required=True),
        _c("branch_type", "code", "BRANCH or ATM.", required=True, accepted=("BRANCH", "ATM")),
        _c("district", "text", "District.", required=True),
        _c("zone", "text", "Zone grouping districts (Lima Norte, Lima Sur, ...).", required=True),
        _c("latitude", "decimal", "WGS84 latitude.", required=True),
        _c("longitude", "decimal", "WGS84 longitude.", required=True),
    ),
)

LOANS = Contract(
    name="loans",
    description="Loans originated in the month with their contractual terms.",
    grain="one row per loan, in its origination month",
    partitioning="events",
    key=("loan_id",),
    event_column="origination_date",
    may_be_empty=True,
    currency_column="currency",
    columns=(
        _c("loan_id", "id", "Loan identifier.", required=True),
        _c("customer_id", "id", "Borrower.", required=True, references="customers.customer_id"),
        _c("product", "code", "Loan product.", required=True, accepted=LOAN_PRODUCTS),
        _c("principal", "money", "Amount disbursed.", required=True, nonnegative=True),
        _c("currency", "code", "ISO currency.", required=True, accepted=CURRENCIES),
        _c("annual_rate", "decimal", "Nominal annual interest rate (0.18 = 18 %).", required=True),
        _c("term_months", "int", "Number of monthly instalments.", required=True),
        _c("instalment", "money", "Contractual monthly instalment.", required=True, nonnegative=True),
        _c("origination_date", "date", "Disbursement date.", required=True),
    ),
)

LOAN_PAYMENTS = Contract(
    name="loan_payments",
    description="Instalments falling due in the month and what was paid.",
    grain="one row per loan instalment, in its due month",
    partitioning="events",
    key=("payment_id",),
    event_column="due_date",
    may_be_empty=True,
    currency_column="currency",
    columns=(
        _c("payment_id", "id", "Instalment identifier.", required=True),
        _c("loan_id", "id", "Loan.", required=True, references="loans.loan_id"),
        _c("instalment_no", "int", "1-based instalment number.", required=True),
        _c("due_date", "date", "Contractual due date.", required=True),
        _c("paid_date", "date", "Date paid, empty if unpaid at month end."),
        _c("amount_due", "money", "Amount due.", required=True, nonnegative=True),
        _c("amount_paid", "money", "Amount paid (0 if unpaid).", required=True, nonnegative=True),
        _c("currency", "code", "ISO currency.", required=True, accepted=CURRENCIES),
        _c("days_past_due", "int", "Days past due of the loan at month end (0 = current).", required=True),
    ),
)

FX_RATES = Contract(
    name="fx_rates",
    description="Daily exchange rates to the reporting currency (PEN).",
    grain="one row per currency per day",
    partitioning="events",
    key=("rate_date", "currency"),
    event_column="rate_date",
    columns=(
        _c("rate_date", "date", "Rate date.", required=True),
        _c("currency", "code", "ISO currency converted from.", required=True, accepted=CURRENCIES),
        _c("rate_to_pen", "decimal", "PEN per one unit of the currency.", required=True),
    ),
)

CAMPAIGNS = Contract(
    name="campaigns",
    description="The marketing plan: campaigns with their offer, channel, window and control-group share "
    "(reference data, monthly snapshot; a year's campaigns are listed from its January).",
    grain="one row per campaign per snapshot month",
    partitioning="reference",
    key=("campaign_id",),
    columns=(
        _c("campaign_id", "id", "Campaign identifier.", required=True),
        _c("campaign_name", "text", "Display name.", required=True),
        _c("channel", "code", "Channel the offer is sent through.", required=True, accepted=CAMPAIGN_CHANNELS),
        _c("offer", "code", "What the campaign offers.", required=True, accepted=CAMPAIGN_OFFERS),
        _c("target_segment", "code", "Segment targeted.", required=True, accepted=SEGMENTS),
        _c("start_date", "date", "First day of the campaign.", required=True),
        _c("end_date", "date", "First day after the campaign (half-open window).", required=True),
        _c(
            "treatment_share",
            "decimal",
            "Share of targeted customers contacted; the rest is the control group.",
            required=True,
        ),
        _c("cost_per_contact", "money", "Cost of one contact, in PEN.", required=True, nonnegative=True),
    ),
)

CAMPAIGN_TARGETS = Contract(
    name="campaign_targets",
    description="Customers drawn for a campaign, each assigned at random to the treatment arm (contacted) or "
    "to the control group (held out); landed in the campaign's first month.",
    grain="one row per campaign and targeted customer",
    partitioning="events",
    key=("target_id",),
    event_column="assigned_date",
    may_be_empty=True,
    steady_volume=False,
    columns=(
        _c("target_id", "id", "Assignment identifier.", required=True),
        _c("customer_id", "id", "Targeted customer.", required=True, references="customers.customer_id"),
        _c("campaign_id", "id", "Campaign.", required=True, references="campaigns.campaign_id"),
        _c("arm", "code", "TREATMENT (contacted) or CONTROL (held out).", required=True, accepted=CAMPAIGN_ARMS),
        _c("assigned_date", "date", "Date of the random assignment (the campaign's first day).", required=True),
        _c(
            "contact_note",
            "text",
            "Free-text note of the contact centre, may be empty (free text may hold "
            "personal data: PII, never beyond silver).",
            pii=True,
        ),
    ),
)

CUSTOMER_INTERACTIONS = Contract(
    name="customer_interactions",
    description="Contacts of customers with the bank (calls, branch visits, chats, emails), with the "
    "reason, the agent who handled it and the satisfaction survey answer.",
    grain="one row per interaction",
    partitioning="events",
    key=("interaction_id",),
    event_column="interaction_ts",
    columns=(
        _c("interaction_id", "id", "Interaction identifier.", required=True),
        _c("customer_id", "id", "Customer.", required=True, references="customers.customer_id"),
        _c("interaction_ts", "timestamp", "Start of the interaction (local time).", required=True),
        _c("channel", "code", "Contact channel.", required=True, accepted=INTERACTION_CHANNELS),
        _c("reason", "code", "Reason of the contact.", required=True, accepted=INTERACTION_REASONS),
        _c("agent_id", "id", "Agent who handled it.", required=True),
        _c("agent_team", "code", "Team of the agent.", required=True, accepted=AGENT_TEAMS),
        _c("handle_minutes", "int", "Handling time in minutes.", required=True),
        _c("satisfaction_score", "int", "Post-contact survey, 1 (bad) to 5 (good); empty if not answered."),
    ),
)

ECONOMIC_INDICATORS = Contract(
    name="economic_indicators",
    description="Monthly macro indicators of Peru (central bank and statistics office releases).",
    grain="one row per month",
    partitioning="events",
    key=("indicator_date",),
    event_column="indicator_date",
    columns=(
        _c("indicator_date", "date", "Month-end date the indicators refer to.", required=True),
        _c("policy_rate", "decimal", "Central bank reference rate (0.0525 = 5.25 %).", required=True),
        _c("inflation_yoy", "decimal", "Consumer price inflation, year on year.", required=True),
        _c("unemployment_rate", "decimal", "Unemployment rate of Lima.", required=True),
        _c("usd_pen_avg", "decimal", "Average PEN per USD of the month.", required=True),
    ),
)

PRODUCTS = Contract(
    name="products",
    description="The product catalogue with its current pricing (reference data, monthly snapshot; deposit and "
    "card rates are repriced in January and July).",
    grain="one row per product per snapshot month",
    partitioning="reference",
    key=("product_code",),
    columns=(
        _c("product_code", "code", "Product code, as accounts.product and loans.product use it.", required=True),
        _c("product_name", "text", "Display name.", required=True),
        _c("product_family", "code", "DEPOSIT, CARD or LOAN.", required=True, accepted=PRODUCT_FAMILIES),
        _c(
            "annual_rate",
            "decimal",
            "Annual rate paid (deposits) or charged (cards; loans: best-score rate).",
            required=True,
        ),
        _c("monthly_fee", "money", "Monthly maintenance fee in PEN.", required=True, nonnegative=True),
        _c("max_term_months", "int", "Longest term offered (loans), else 0.", required=True),
    ),
)

CREDIT_APPLICATIONS = Contract(
    name="credit_applications",
    description="Loan applications of the month with the credit score, the debt burden and the bank's decision; "
    "an approved application is disbursed the same day as the loan it names.",
    grain="one row per application",
    partitioning="events",
    key=("application_id",),
    event_column="application_date",
    may_be_empty=True,
    currency_column="currency",
    columns=(
        _c("application_id", "id", "Application identifier.", required=True),
        _c("customer_id", "id", "Applicant.", required=True, references="customers.customer_id"),
        _c("application_date", "date", "Date the application was decided.", required=True),
        _c("product", "code", "Loan product applied for.", required=True, accepted=LOAN_PRODUCTS),
        _c("requested_amount", "money", "Amount applied for.", required=True, nonnegative=True),
        _c("currency", "code", "ISO currency of the amount.", required=True, accepted=CURRENCIES),
        _c("term_months", "int", "Term applied for.", required=True),
        _c("credit_score", "int", "Bureau score at application, 300-850.", required=True),
        _c(
            "debt_to_income",
            "decimal",
            "Instalment of the requested loan (in PEN) over the monthly income (0.25 = 25 %).",
            required=True,
        ),
        _c("decision", "code", "APPROVED or REJECTED.", required=True, accepted=CREDIT_DECISIONS),
        _c(
            "decision_reason",
            "code",
            "APPROVED, or the first rule that rejected it: score under 580, debt burden over 45 %, "
            "incomplete documents.",
            required=True,
            accepted=CREDIT_REASONS,
        ),
        _c("loan_id", "id", "The loan disbursed, empty when rejected.", references="loans.loan_id"),
    ),
)

FRAUD_ALERTS = Contract(
    name="fraud_alerts",
    description="Fraud alerts raised on card purchases and their investigation: one row per milestone (raised, "
    "reviewed, closed with the outcome), landed in the month the milestone happened.",
    grain="one row per alert milestone",
    partitioning="events",
    key=("alert_id", "milestone"),
    event_column="milestone_ts",
    columns=(
        _c("alert_id", "id", "Alert identifier.", required=True),
        _c(
            "transaction_id",
            "id",
            "Purchase the alert was raised on.",
            required=True,
            references="transactions.transaction_id",
        ),
        _c("rule_code", "code", "Rule that raised it.", required=True, accepted=FRAUD_RULES),
        _c("milestone", "code", "RAISED, REVIEWED or CLOSED.", required=True, accepted=FRAUD_MILESTONES),
        _c("milestone_ts", "timestamp", "When the milestone happened (local time).", required=True),
        _c("analyst_id", "id", "Analyst who reviewed or closed it, empty when raised."),
        _c("outcome", "code", "Investigation outcome, on the CLOSED row only.", accepted=FRAUD_OUTCOMES),
    ),
)

ACCOUNT_EVENTS = Contract(
    name="account_events",
    description="Life-cycle events of accounts: opened, status changed (active to dormant), credit limit changed, "
    "closed with the customer's reason.",
    grain="one row per account event",
    partitioning="events",
    key=("event_id",),
    event_column="event_date",
    columns=(
        _c("event_id", "id", "Event identifier.", required=True),
        _c("account_id", "id", "Account.", required=True, references="accounts.account_id"),
        _c("event_type", "code", "What happened.", required=True, accepted=ACCOUNT_EVENT_TYPES),
        _c("event_date", "date", "When it happened.", required=True),
        _c("status_before", "code", "Account status before the event, empty when opened.", accepted=CUSTOMER_STATUSES),
        _c("status_after", "code", "Account status after the event.", required=True, accepted=CUSTOMER_STATUSES),
        _c("limit_before", "money", "Credit limit before a limit change (PEN), else empty.", nonnegative=True),
        _c("limit_after", "money", "Credit limit after a limit change (PEN), else empty.", nonnegative=True),
        _c("closure_reason", "code", "Reason the customer gave, on CLOSED events only.", accepted=CLOSURE_REASONS),
    ),
)

TREASURY_POSITIONS = Contract(
    name="treasury_positions",
    description="The treasury's month-end positions: cash, central-bank reserves and certificates, sovereign and "
    "corporate bonds and equities, each with its Basel III HQLA level (the numerator of the liquidity coverage "
    "ratio) and whether it is pledged.",
    grain="one row per position per month-end snapshot",
    partitioning="events",
    key=("position_id",),
    event_column="snapshot_date",
    currency_column="currency",
    columns=(
        _c("position_id", "id", "Position identifier (the same position keeps it from month to month).", required=True),
        _c("snapshot_date", "date", "Month-end date of the valuation.", required=True),
        _c("instrument", "text", "Instrument held (issuer and maturity).", required=True),
        _c("asset_class", "code", "Kind of asset.", required=True, accepted=TREASURY_ASSET_CLASSES),
        _c(
            "hqla_level",
            "code",
            "Basel III HQLA level as the treasury classifies it.",
            required=True,
            accepted=HQLA_LEVELS,
        ),
        _c("currency", "code", "Currency of the market value.", required=True, accepted=CURRENCIES),
        _c("market_value", "money", "Market value at month end.", required=True, nonnegative=True),
        _c(
            "encumbered",
            "code",
            "YES when pledged (repo, collateral): then it is not HQLA.",
            required=True,
            accepted=YES_NO,
        ),
    ),
)

#: All contracts in dependency order (parents before children).
CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        FX_RATES,
        BRANCHES,
        MERCHANTS,
        CUSTOMERS,
        ACCOUNTS,
        TRANSACTIONS,
        LOANS,
        LOAN_PAYMENTS,
        PRODUCTS,
        CREDIT_APPLICATIONS,
        FRAUD_ALERTS,
        ACCOUNT_EVENTS,
        ECONOMIC_INDICATORS,
        CAMPAIGNS,
        CAMPAIGN_TARGETS,
        CUSTOMER_INTERACTIONS,
        TREASURY_POSITIONS,
    )
}
TABLES = list(CONTRACTS)
REFERENCE_TABLES = [n for n, c in CONTRACTS.items() if c.carries_forward]


def parents(contract: Contract) -> list[str]:
    """Tables this contract's foreign keys point at, plus fx_rates if it converts money."""
    out = [c.references.split(".")[0] for c in contract.foreign_keys if c.references]
    if contract.currency_column and contract.name != "fx_rates":
        out.append("fx_rates")
    return list(dict.fromkeys(out))
