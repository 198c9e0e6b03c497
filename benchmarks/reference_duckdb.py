"""Reference pipeline in plain, hand-written DuckDB SQL: one month of landing files -> silver -> gold.

An independent baseline for the benchmark: no project code except ``landing_file`` for paths.
It does the work the project does for a month, without its machinery (no audit, no atomic
publish, no dbt), for all 17 landing sources (``ORDER``):

- silver, per table: read the CSV as text, trim, upper-case codes, lower-case emails, try-cast;
  quarantine a row with the first broken rule (required null, invalid date/timestamp/number,
  negative amount, unknown code/currency, event date outside the month, orphan foreign key,
  missing fx rate) into ``silver.<table>_rejects``; keep the last row of each business key in the
  file; convert money to PEN (``<col>_pen``, DECIMAL(18,2)) with that day's rate (transactions,
  accounts, loans, loan payments, credit applications; the other tables' money is PEN by contract).
  Reference data (branches, merchants, products, campaigns) is the month's snapshot. PII stays in
  silver as in the project (campaign_targets.contact_note never reaches gold); the customers'
  keyed pseudonyms are not computed.
- gold, for the month, following the dbt marts for a window of one month (surrogate keys of the
  SCD2 dimensions and the ``_<fk>_parent`` statuses are left out): fct_transactions,
  cashflow_monthly, cashflow_by_category_monthly, spend_by_category_monthly,
  transaction_anomalies (IQR per segment), anomaly_rate_monthly, fct_account_balance_monthly,
  deposits_by_region, liquidity_monthly, fct_loan_payments, loan_portfolio_monthly, customer_360,
  churn_risk; dim_product and dim_campaign (the month's snapshot, not the SCD2 versions opened in
  the month), dim_economic_indicators (with the changes from the month before), dim_agent (agents
  first seen in the month), fct_customer_interactions, fct_customer_monthly_summary,
  fct_credit_applications, credit_decisions_monthly, fct_marketing_touches, fct_account_events,
  fct_fraud_alerts (the accumulating snapshot at the month's end), fraud_alerts_monthly,
  fraud_alert_ageing and product_cross_sell_pairs.

Some children point at rows of earlier months: loan payments and credit applications at loans of
the month *or earlier*, fraud alerts at purchases of the month before, transactions and account
events at accounts last seen in an earlier month. With ``prior_months`` (default), the files of
earlier months found in the landing zone are loaded first (``MONTHLY_ORDER``: fx rates, customers,
loans, fraud alerts, interactions and indicators as silver; accounts and transactions as keys only),
as a warehouse that already holds those months would have them. A fraud alert on a purchase of an
earlier month gets no account_id / customer_id in fct_fraud_alerts (the project takes them from
that month's fct_transactions, which this reference does not rebuild).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from bank_assets.layout import landing_file

MACROS = """
CREATE OR REPLACE TEMP MACRO s(x) AS nullif(trim(x), '');
CREATE OR REPLACE TEMP MACRO u(x) AS upper(nullif(trim(x), ''));
CREATE OR REPLACE TEMP MACRO as_date(x) AS try_cast(nullif(trim(x), '') AS DATE);
CREATE OR REPLACE TEMP MACRO as_ts(x) AS try_cast(nullif(trim(x), '') AS TIMESTAMP);
CREATE OR REPLACE TEMP MACRO as_money(x) AS try_cast(nullif(trim(x), '') AS DECIMAL(18, 2));
CREATE OR REPLACE TEMP MACRO as_dec(x) AS try_cast(nullif(trim(x), '') AS DECIMAL(18, 6));
CREATE OR REPLACE TEMP MACRO as_int(x) AS try_cast(nullif(trim(x), '') AS INTEGER);
CREATE OR REPLACE TEMP MACRO pen(x, rate) AS CAST(round(x * rate, 2) AS DECIMAL(18, 2));
-- whole seconds >= 0 to hours, rounded half up to DECIMAL(18,2) exactly (no DOUBLE tie-breaking)
CREATE OR REPLACE TEMP MACRO hours(sec) AS CAST(CAST((sec + 18) // 36 AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2));
"""

CUR = "('PEN', 'USD', 'EUR')"
SPEND = "('RETAIL', 'ENTERTAINMENT', 'GROCERIES', 'RESTAURANTS', 'TRANSPORT', 'HEALTH', 'TRAVEL', 'EDUCATION', 'OTHER')"
STATUS = "('ACTIVE', 'DORMANT', 'CLOSED')"
SEGMENTS = "('MASS', 'AFFLUENT', 'PREMIUM', 'SME')"
LOAN_PRODUCTS = "('PERSONAL', 'AUTO', 'MORTGAGE', 'SME')"
#: Customer keys a child row of the month may point at: any key of the month's customers file, valid or
#: quarantined, or of an earlier month's file loaded with ``prior_months`` (the project's EARLIER_MONTH).
CUSTOMER_KEYS = "SELECT DISTINCT k AS customer_id FROM silver._seen_customers WHERE _partition_month <= $m"

# Per table: typed columns (from the raw text row), the rules as CASE branches (first match wins),
# parent joins, business key and silver columns. `x_raw` is the trimmed text of a cast column.
SILVER: dict[str, dict[str, str]] = {
    "fx_rates": {
        "typed": """s(rate_date) AS rate_date_raw, as_date(rate_date) AS rate_date, u(currency) AS currency,
            s(rate_to_pen) AS rate_to_pen_raw, as_dec(rate_to_pen) AS rate_to_pen""",
        "rules": f"""
            WHEN rate_date_raw IS NULL THEN 'NULL_REQUIRED|rate_date'
            WHEN currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN rate_to_pen_raw IS NULL THEN 'NULL_REQUIRED|rate_to_pen'
            WHEN rate_date IS NULL THEN 'INVALID_DATE|rate_date'
            WHEN rate_to_pen IS NULL THEN 'INVALID_NUMBER|rate_to_pen'
            WHEN currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN NOT (rate_date >= $m AND rate_date < $n) THEN 'OUT_OF_PARTITION|rate_date'""",
        "joins": "",
        "key": "rate_date, currency",
        "cols": "rate_date, currency, rate_to_pen",
    },
    "branches": {
        "typed": """s(branch_id) AS branch_id, s(branch_name) AS branch_name, u(branch_type) AS branch_type,
            s(district) AS district, s(zone) AS zone, s(latitude) AS latitude_raw, as_dec(latitude) AS latitude,
            s(longitude) AS longitude_raw, as_dec(longitude) AS longitude""",
        "rules": """
            WHEN branch_id IS NULL THEN 'NULL_REQUIRED|branch_id'
            WHEN branch_name IS NULL THEN 'NULL_REQUIRED|branch_name'
            WHEN branch_type IS NULL THEN 'NULL_REQUIRED|branch_type'
            WHEN district IS NULL THEN 'NULL_REQUIRED|district'
            WHEN zone IS NULL THEN 'NULL_REQUIRED|zone'
            WHEN latitude_raw IS NULL THEN 'NULL_REQUIRED|latitude'
            WHEN longitude_raw IS NULL THEN 'NULL_REQUIRED|longitude'
            WHEN latitude IS NULL THEN 'INVALID_NUMBER|latitude'
            WHEN longitude IS NULL THEN 'INVALID_NUMBER|longitude'
            WHEN branch_type NOT IN ('BRANCH', 'ATM') THEN 'NOT_ACCEPTED|branch_type'""",
        "joins": "",
        "key": "branch_id",
        "cols": "branch_id, branch_name, branch_type, district, zone, latitude, longitude",
    },
    "merchants": {
        "typed": """s(merchant_id) AS merchant_id, s(merchant_name) AS merchant_name, u(category) AS category,
            u(mcc) AS mcc, s(district) AS district""",
        "rules": f"""
            WHEN merchant_id IS NULL THEN 'NULL_REQUIRED|merchant_id'
            WHEN merchant_name IS NULL THEN 'NULL_REQUIRED|merchant_name'
            WHEN category IS NULL THEN 'NULL_REQUIRED|category'
            WHEN mcc IS NULL THEN 'NULL_REQUIRED|mcc'
            WHEN district IS NULL THEN 'NULL_REQUIRED|district'
            WHEN category NOT IN {SPEND} THEN 'NOT_ACCEPTED|category'""",
        "joins": "",
        "key": "merchant_id",
        "cols": "merchant_id, merchant_name, category, mcc, district",
    },
    "customers": {
        "typed": """s(customer_id) AS customer_id, s(first_name) AS first_name, s(last_name) AS last_name,
            lower(s(email)) AS email, s(national_id) AS national_id, s(phone) AS phone,
            s(birth_date) AS birth_date_raw, as_date(birth_date) AS birth_date, s(street) AS street,
            s(district) AS district, s(city) AS city, u(segment) AS segment, u(income_band) AS income_band,
            u(employment_status) AS employment_status, s(signup_date) AS signup_date_raw,
            as_date(signup_date) AS signup_date, u(status) AS status, s(snapshot_date) AS snapshot_date_raw,
            as_date(snapshot_date) AS snapshot_date""",
        "rules": f"""
            WHEN customer_id IS NULL THEN 'NULL_REQUIRED|customer_id'
            WHEN first_name IS NULL THEN 'NULL_REQUIRED|first_name'
            WHEN last_name IS NULL THEN 'NULL_REQUIRED|last_name'
            WHEN national_id IS NULL THEN 'NULL_REQUIRED|national_id'
            WHEN birth_date_raw IS NULL THEN 'NULL_REQUIRED|birth_date'
            WHEN district IS NULL THEN 'NULL_REQUIRED|district'
            WHEN city IS NULL THEN 'NULL_REQUIRED|city'
            WHEN segment IS NULL THEN 'NULL_REQUIRED|segment'
            WHEN income_band IS NULL THEN 'NULL_REQUIRED|income_band'
            WHEN employment_status IS NULL THEN 'NULL_REQUIRED|employment_status'
            WHEN signup_date_raw IS NULL THEN 'NULL_REQUIRED|signup_date'
            WHEN status IS NULL THEN 'NULL_REQUIRED|status'
            WHEN snapshot_date_raw IS NULL THEN 'NULL_REQUIRED|snapshot_date'
            WHEN birth_date IS NULL THEN 'INVALID_DATE|birth_date'
            WHEN signup_date IS NULL THEN 'INVALID_DATE|signup_date'
            WHEN snapshot_date IS NULL THEN 'INVALID_DATE|snapshot_date'
            WHEN segment NOT IN ('MASS', 'AFFLUENT', 'PREMIUM', 'SME') THEN 'NOT_ACCEPTED|segment'
            WHEN income_band NOT IN ('LOW', 'MID', 'HIGH', 'VERY_HIGH') THEN 'NOT_ACCEPTED|income_band'
            WHEN employment_status NOT IN ('EMPLOYED', 'SELF_EMPLOYED', 'RETIRED', 'STUDENT', 'UNEMPLOYED')
                THEN 'NOT_ACCEPTED|employment_status'
            WHEN status NOT IN {STATUS} THEN 'NOT_ACCEPTED|status'
            WHEN NOT (snapshot_date >= $m AND snapshot_date < $n) THEN 'OUT_OF_PARTITION|snapshot_date'""",
        "joins": "",
        "key": "customer_id",
        "cols": """customer_id, first_name, last_name, email, national_id, phone, birth_date, street, district, city,
            segment, income_band, employment_status, signup_date, status, snapshot_date""",
    },
    "accounts": {
        "typed": """s(account_id) AS account_id, s(customer_id) AS customer_id, s(branch_id) AS branch_id,
            u(product) AS product, u(currency) AS currency, s(opened_date) AS opened_date_raw,
            as_date(opened_date) AS opened_date, s(closed_date) AS closed_date_raw, as_date(closed_date) AS closed_date,
            s(credit_limit) AS credit_limit_raw, as_money(credit_limit) AS credit_limit, s(balance) AS balance_raw,
            as_money(balance) AS balance, u(status) AS status, s(snapshot_date) AS snapshot_date_raw,
            as_date(snapshot_date) AS snapshot_date""",
        "rules": f"""
            WHEN t.account_id IS NULL THEN 'NULL_REQUIRED|account_id'
            WHEN t.customer_id IS NULL THEN 'NULL_REQUIRED|customer_id'
            WHEN t.branch_id IS NULL THEN 'NULL_REQUIRED|branch_id'
            WHEN product IS NULL THEN 'NULL_REQUIRED|product'
            WHEN t.currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN opened_date_raw IS NULL THEN 'NULL_REQUIRED|opened_date'
            WHEN balance_raw IS NULL THEN 'NULL_REQUIRED|balance'
            WHEN status IS NULL THEN 'NULL_REQUIRED|status'
            WHEN snapshot_date_raw IS NULL THEN 'NULL_REQUIRED|snapshot_date'
            WHEN opened_date IS NULL THEN 'INVALID_DATE|opened_date'
            WHEN closed_date_raw IS NOT NULL AND closed_date IS NULL THEN 'INVALID_DATE|closed_date'
            WHEN credit_limit_raw IS NOT NULL AND credit_limit IS NULL THEN 'INVALID_NUMBER|credit_limit'
            WHEN balance IS NULL THEN 'INVALID_NUMBER|balance'
            WHEN snapshot_date IS NULL THEN 'INVALID_DATE|snapshot_date'
            WHEN credit_limit < 0 THEN 'NEGATIVE_AMOUNT|credit_limit'
            WHEN product NOT IN ('CHECKING', 'SAVINGS', 'CREDIT_CARD', 'TERM_DEPOSIT') THEN 'NOT_ACCEPTED|product'
            WHEN t.currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN status NOT IN {STATUS} THEN 'NOT_ACCEPTED|status'
            WHEN NOT (snapshot_date >= $m AND snapshot_date < $n) THEN 'OUT_OF_PARTITION|snapshot_date'
            WHEN c.customer_id IS NULL THEN 'ORPHAN_FK|customer_id'
            WHEN b.branch_id IS NULL THEN 'ORPHAN_FK|branch_id'
            WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE|currency'""",
        "joins": f"""
            LEFT JOIN ({CUSTOMER_KEYS}) c ON c.customer_id = t.customer_id
            LEFT JOIN silver.branches b ON b.branch_id = t.branch_id
            LEFT JOIN silver.fx_rates fx ON fx._partition_month = $m AND fx.rate_date = t.snapshot_date
                AND fx.currency = t.currency""",
        "key": "account_id",
        "cols": """account_id, customer_id, branch_id, product, currency, opened_date, closed_date, credit_limit,
            balance, status, snapshot_date, pen(credit_limit, _rate) AS credit_limit_pen,
            pen(balance, _rate) AS balance_pen""",
    },
    "transactions": {
        "typed": """s(transaction_id) AS transaction_id, s(account_id) AS account_id, s(merchant_id) AS merchant_id,
            s(counterparty_id) AS counterparty_id,
            s(transaction_ts) AS transaction_ts_raw, as_ts(transaction_ts) AS transaction_ts, s(amount) AS amount_raw,
            as_money(amount) AS amount, u(currency) AS currency, u(direction) AS direction, u(txn_type) AS txn_type,
            u(category) AS category, u(channel) AS channel""",
        "rules": f"""
            WHEN transaction_id IS NULL THEN 'NULL_REQUIRED|transaction_id'
            WHEN t.account_id IS NULL THEN 'NULL_REQUIRED|account_id'
            WHEN transaction_ts_raw IS NULL THEN 'NULL_REQUIRED|transaction_ts'
            WHEN amount_raw IS NULL THEN 'NULL_REQUIRED|amount'
            WHEN t.currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN direction IS NULL THEN 'NULL_REQUIRED|direction'
            WHEN txn_type IS NULL THEN 'NULL_REQUIRED|txn_type'
            WHEN t.category IS NULL THEN 'NULL_REQUIRED|category'
            WHEN channel IS NULL THEN 'NULL_REQUIRED|channel'
            WHEN transaction_ts IS NULL THEN 'INVALID_TIMESTAMP|transaction_ts'
            WHEN amount IS NULL THEN 'INVALID_NUMBER|amount'
            WHEN amount < 0 THEN 'NEGATIVE_AMOUNT|amount'
            WHEN t.currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN direction NOT IN ('CREDIT', 'DEBIT') THEN 'NOT_ACCEPTED|direction'
            WHEN txn_type NOT IN ('PURCHASE', 'WITHDRAWAL', 'BILL_PAYMENT', 'AUTO_DEBIT', 'LOAN_PAYMENT',
                'TRANSFER_OUT', 'SALARY', 'PENSION', 'DEPOSIT', 'TRANSFER_IN') THEN 'NOT_ACCEPTED|txn_type'
            WHEN t.category NOT IN ('RETAIL', 'ENTERTAINMENT', 'GROCERIES', 'RESTAURANTS', 'TRANSPORT', 'HEALTH',
                'TRAVEL', 'EDUCATION', 'OTHER', 'CASH', 'UTILITIES', 'SUBSCRIPTIONS', 'LOAN', 'TRANSFER', 'INCOME')
                THEN 'NOT_ACCEPTED|category'
            WHEN channel NOT IN ('POS', 'ONLINE', 'ATM', 'BRANCH', 'TRANSFER', 'AUTO_DEBIT') THEN 'NOT_ACCEPTED|channel'
            WHEN NOT (transaction_ts >= $m AND transaction_ts < $n) THEN 'OUT_OF_PARTITION|transaction_ts'
            WHEN a.account_id IS NULL THEN 'ORPHAN_FK|account_id'
            WHEN t.merchant_id IS NOT NULL AND mer.merchant_id IS NULL THEN 'ORPHAN_FK|merchant_id'
            WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE|currency'""",
        "joins": """
            LEFT JOIN (SELECT DISTINCT k AS account_id FROM silver._seen_accounts WHERE _partition_month <= $m) a
                ON a.account_id = t.account_id
            LEFT JOIN silver.merchants mer ON mer.merchant_id = t.merchant_id
            LEFT JOIN silver.fx_rates fx ON fx._partition_month = $m AND fx.rate_date = CAST(t.transaction_ts AS DATE)
                AND fx.currency = t.currency""",
        "key": "transaction_id",
        "cols": """transaction_id, account_id, merchant_id, counterparty_id, transaction_ts, amount, currency,
            direction, txn_type, category, channel, pen(amount, _rate) AS amount_pen""",
    },
    "loans": {
        "typed": """s(loan_id) AS loan_id, s(customer_id) AS customer_id, u(product) AS product,
            s(principal) AS principal_raw, as_money(principal) AS principal, u(currency) AS currency,
            s(annual_rate) AS annual_rate_raw, as_dec(annual_rate) AS annual_rate, s(term_months) AS term_months_raw,
            as_int(term_months) AS term_months, s(instalment) AS instalment_raw, as_money(instalment) AS instalment,
            s(origination_date) AS origination_date_raw, as_date(origination_date) AS origination_date""",
        "rules": f"""
            WHEN loan_id IS NULL THEN 'NULL_REQUIRED|loan_id'
            WHEN t.customer_id IS NULL THEN 'NULL_REQUIRED|customer_id'
            WHEN product IS NULL THEN 'NULL_REQUIRED|product'
            WHEN principal_raw IS NULL THEN 'NULL_REQUIRED|principal'
            WHEN t.currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN annual_rate_raw IS NULL THEN 'NULL_REQUIRED|annual_rate'
            WHEN term_months_raw IS NULL THEN 'NULL_REQUIRED|term_months'
            WHEN instalment_raw IS NULL THEN 'NULL_REQUIRED|instalment'
            WHEN origination_date_raw IS NULL THEN 'NULL_REQUIRED|origination_date'
            WHEN principal IS NULL THEN 'INVALID_NUMBER|principal'
            WHEN annual_rate IS NULL THEN 'INVALID_NUMBER|annual_rate'
            WHEN term_months IS NULL THEN 'INVALID_NUMBER|term_months'
            WHEN instalment IS NULL THEN 'INVALID_NUMBER|instalment'
            WHEN origination_date IS NULL THEN 'INVALID_DATE|origination_date'
            WHEN principal < 0 THEN 'NEGATIVE_AMOUNT|principal'
            WHEN instalment < 0 THEN 'NEGATIVE_AMOUNT|instalment'
            WHEN product NOT IN ('PERSONAL', 'AUTO', 'MORTGAGE', 'SME') THEN 'NOT_ACCEPTED|product'
            WHEN t.currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN NOT (origination_date >= $m AND origination_date < $n) THEN 'OUT_OF_PARTITION|origination_date'
            WHEN c.customer_id IS NULL THEN 'ORPHAN_FK|customer_id'
            WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE|currency'""",
        "joins": f"""
            LEFT JOIN ({CUSTOMER_KEYS}) c ON c.customer_id = t.customer_id
            LEFT JOIN silver.fx_rates fx ON fx._partition_month = $m AND fx.rate_date = t.origination_date
                AND fx.currency = t.currency""",
        "key": "loan_id",
        "cols": """loan_id, customer_id, product, principal, currency, annual_rate, term_months, instalment,
            origination_date, pen(principal, _rate) AS principal_pen, pen(instalment, _rate) AS instalment_pen""",
    },
    "loan_payments": {
        "typed": """s(payment_id) AS payment_id, s(loan_id) AS loan_id, s(instalment_no) AS instalment_no_raw,
            as_int(instalment_no) AS instalment_no, s(due_date) AS due_date_raw, as_date(due_date) AS due_date,
            s(paid_date) AS paid_date_raw, as_date(paid_date) AS paid_date, s(amount_due) AS amount_due_raw,
            as_money(amount_due) AS amount_due, s(amount_paid) AS amount_paid_raw, as_money(amount_paid) AS amount_paid,
            u(currency) AS currency, s(days_past_due) AS days_past_due_raw, as_int(days_past_due) AS days_past_due""",
        "rules": f"""
            WHEN payment_id IS NULL THEN 'NULL_REQUIRED|payment_id'
            WHEN t.loan_id IS NULL THEN 'NULL_REQUIRED|loan_id'
            WHEN instalment_no_raw IS NULL THEN 'NULL_REQUIRED|instalment_no'
            WHEN due_date_raw IS NULL THEN 'NULL_REQUIRED|due_date'
            WHEN amount_due_raw IS NULL THEN 'NULL_REQUIRED|amount_due'
            WHEN amount_paid_raw IS NULL THEN 'NULL_REQUIRED|amount_paid'
            WHEN t.currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN days_past_due_raw IS NULL THEN 'NULL_REQUIRED|days_past_due'
            WHEN instalment_no IS NULL THEN 'INVALID_NUMBER|instalment_no'
            WHEN due_date IS NULL THEN 'INVALID_DATE|due_date'
            WHEN paid_date_raw IS NOT NULL AND paid_date IS NULL THEN 'INVALID_DATE|paid_date'
            WHEN amount_due IS NULL THEN 'INVALID_NUMBER|amount_due'
            WHEN amount_paid IS NULL THEN 'INVALID_NUMBER|amount_paid'
            WHEN days_past_due IS NULL THEN 'INVALID_NUMBER|days_past_due'
            WHEN amount_due < 0 THEN 'NEGATIVE_AMOUNT|amount_due'
            WHEN amount_paid < 0 THEN 'NEGATIVE_AMOUNT|amount_paid'
            WHEN t.currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN NOT (due_date >= $m AND due_date < $n) THEN 'OUT_OF_PARTITION|due_date'
            WHEN l.loan_id IS NULL THEN 'ORPHAN_FK|loan_id'
            WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE|currency'""",
        "joins": """
            LEFT JOIN (SELECT DISTINCT k AS loan_id FROM silver._seen_loans WHERE _partition_month <= $m) l
                ON l.loan_id = t.loan_id
            LEFT JOIN silver.fx_rates fx ON fx._partition_month = $m AND fx.rate_date = t.due_date
                AND fx.currency = t.currency""",
        "key": "payment_id",
        "cols": """payment_id, loan_id, instalment_no, due_date, paid_date, amount_due, amount_paid, currency,
            days_past_due, pen(amount_due, _rate) AS amount_due_pen, pen(amount_paid, _rate) AS amount_paid_pen""",
    },
    "products": {
        "typed": """u(product_code) AS product_code, s(product_name) AS product_name,
            u(product_family) AS product_family, s(annual_rate) AS annual_rate_raw, as_dec(annual_rate) AS annual_rate,
            s(monthly_fee) AS monthly_fee_raw, as_money(monthly_fee) AS monthly_fee,
            s(max_term_months) AS max_term_months_raw, as_int(max_term_months) AS max_term_months""",
        "rules": """
            WHEN product_code IS NULL THEN 'NULL_REQUIRED|product_code'
            WHEN product_name IS NULL THEN 'NULL_REQUIRED|product_name'
            WHEN product_family IS NULL THEN 'NULL_REQUIRED|product_family'
            WHEN annual_rate_raw IS NULL THEN 'NULL_REQUIRED|annual_rate'
            WHEN monthly_fee_raw IS NULL THEN 'NULL_REQUIRED|monthly_fee'
            WHEN max_term_months_raw IS NULL THEN 'NULL_REQUIRED|max_term_months'
            WHEN annual_rate IS NULL THEN 'INVALID_NUMBER|annual_rate'
            WHEN monthly_fee IS NULL THEN 'INVALID_NUMBER|monthly_fee'
            WHEN max_term_months IS NULL THEN 'INVALID_NUMBER|max_term_months'
            WHEN monthly_fee < 0 THEN 'NEGATIVE_AMOUNT|monthly_fee'
            WHEN product_family NOT IN ('DEPOSIT', 'CARD', 'LOAN') THEN 'NOT_ACCEPTED|product_family'""",
        "joins": "",
        "key": "product_code",
        "cols": "product_code, product_name, product_family, annual_rate, monthly_fee, max_term_months",
    },
    "campaigns": {
        "typed": """s(campaign_id) AS campaign_id, s(campaign_name) AS campaign_name, u(channel) AS channel,
            u(offer) AS offer, u(target_segment) AS target_segment, s(start_date) AS start_date_raw,
            as_date(start_date) AS start_date, s(end_date) AS end_date_raw, as_date(end_date) AS end_date,
            s(treatment_share) AS treatment_share_raw, as_dec(treatment_share) AS treatment_share,
            s(cost_per_contact) AS cost_per_contact_raw, as_money(cost_per_contact) AS cost_per_contact""",
        "rules": f"""
            WHEN campaign_id IS NULL THEN 'NULL_REQUIRED|campaign_id'
            WHEN campaign_name IS NULL THEN 'NULL_REQUIRED|campaign_name'
            WHEN channel IS NULL THEN 'NULL_REQUIRED|channel'
            WHEN offer IS NULL THEN 'NULL_REQUIRED|offer'
            WHEN target_segment IS NULL THEN 'NULL_REQUIRED|target_segment'
            WHEN start_date_raw IS NULL THEN 'NULL_REQUIRED|start_date'
            WHEN end_date_raw IS NULL THEN 'NULL_REQUIRED|end_date'
            WHEN treatment_share_raw IS NULL THEN 'NULL_REQUIRED|treatment_share'
            WHEN cost_per_contact_raw IS NULL THEN 'NULL_REQUIRED|cost_per_contact'
            WHEN start_date IS NULL THEN 'INVALID_DATE|start_date'
            WHEN end_date IS NULL THEN 'INVALID_DATE|end_date'
            WHEN treatment_share IS NULL THEN 'INVALID_NUMBER|treatment_share'
            WHEN cost_per_contact IS NULL THEN 'INVALID_NUMBER|cost_per_contact'
            WHEN cost_per_contact < 0 THEN 'NEGATIVE_AMOUNT|cost_per_contact'
            WHEN channel NOT IN ('EMAIL', 'SMS', 'APP_PUSH', 'BRANCH') THEN 'NOT_ACCEPTED|channel'
            WHEN offer NOT IN ('CASHBACK', 'RATE_DISCOUNT', 'FEE_WAIVER', 'AWARENESS') THEN 'NOT_ACCEPTED|offer'
            WHEN target_segment NOT IN {SEGMENTS} THEN 'NOT_ACCEPTED|target_segment'""",
        "joins": "",
        "key": "campaign_id",
        "cols": """campaign_id, campaign_name, channel, offer, target_segment, start_date, end_date, treatment_share,
            cost_per_contact""",
    },
    "economic_indicators": {
        "typed": """s(indicator_date) AS indicator_date_raw, as_date(indicator_date) AS indicator_date,
            s(policy_rate) AS policy_rate_raw, as_dec(policy_rate) AS policy_rate,
            s(inflation_yoy) AS inflation_yoy_raw, as_dec(inflation_yoy) AS inflation_yoy,
            s(unemployment_rate) AS unemployment_rate_raw, as_dec(unemployment_rate) AS unemployment_rate,
            s(usd_pen_avg) AS usd_pen_avg_raw, as_dec(usd_pen_avg) AS usd_pen_avg""",
        "rules": """
            WHEN indicator_date_raw IS NULL THEN 'NULL_REQUIRED|indicator_date'
            WHEN policy_rate_raw IS NULL THEN 'NULL_REQUIRED|policy_rate'
            WHEN inflation_yoy_raw IS NULL THEN 'NULL_REQUIRED|inflation_yoy'
            WHEN unemployment_rate_raw IS NULL THEN 'NULL_REQUIRED|unemployment_rate'
            WHEN usd_pen_avg_raw IS NULL THEN 'NULL_REQUIRED|usd_pen_avg'
            WHEN indicator_date IS NULL THEN 'INVALID_DATE|indicator_date'
            WHEN policy_rate IS NULL THEN 'INVALID_NUMBER|policy_rate'
            WHEN inflation_yoy IS NULL THEN 'INVALID_NUMBER|inflation_yoy'
            WHEN unemployment_rate IS NULL THEN 'INVALID_NUMBER|unemployment_rate'
            WHEN usd_pen_avg IS NULL THEN 'INVALID_NUMBER|usd_pen_avg'
            WHEN NOT (indicator_date >= $m AND indicator_date < $n) THEN 'OUT_OF_PARTITION|indicator_date'""",
        "joins": "",
        "key": "indicator_date",
        "cols": "indicator_date, policy_rate, inflation_yoy, unemployment_rate, usd_pen_avg",
    },
    "treasury_positions": {
        "typed": """s(position_id) AS position_id, s(snapshot_date) AS snapshot_date_raw,
            as_date(snapshot_date) AS snapshot_date, s(instrument) AS instrument, u(asset_class) AS asset_class,
            u(hqla_level) AS hqla_level, u(currency) AS currency, s(market_value) AS market_value_raw,
            as_money(market_value) AS market_value, u(encumbered) AS encumbered""",
        "rules": f"""
            WHEN t.position_id IS NULL THEN 'NULL_REQUIRED|position_id'
            WHEN snapshot_date_raw IS NULL THEN 'NULL_REQUIRED|snapshot_date'
            WHEN instrument IS NULL THEN 'NULL_REQUIRED|instrument'
            WHEN asset_class IS NULL THEN 'NULL_REQUIRED|asset_class'
            WHEN hqla_level IS NULL THEN 'NULL_REQUIRED|hqla_level'
            WHEN t.currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN market_value_raw IS NULL THEN 'NULL_REQUIRED|market_value'
            WHEN encumbered IS NULL THEN 'NULL_REQUIRED|encumbered'
            WHEN snapshot_date IS NULL THEN 'INVALID_DATE|snapshot_date'
            WHEN market_value IS NULL THEN 'INVALID_NUMBER|market_value'
            WHEN market_value < 0 THEN 'NEGATIVE_AMOUNT|market_value'
            WHEN asset_class NOT IN ('CASH', 'CENTRAL_BANK_RESERVES', 'CENTRAL_BANK_CERTIFICATE', 'SOVEREIGN_BOND',
                'CORPORATE_BOND', 'COVERED_BOND', 'EQUITY') THEN 'NOT_ACCEPTED|asset_class'
            WHEN hqla_level NOT IN ('LEVEL_1', 'LEVEL_2A', 'LEVEL_2B', 'NON_HQLA') THEN 'NOT_ACCEPTED|hqla_level'
            WHEN t.currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN encumbered NOT IN ('YES', 'NO') THEN 'NOT_ACCEPTED|encumbered'
            WHEN NOT (snapshot_date >= $m AND snapshot_date < $n) THEN 'OUT_OF_PARTITION|snapshot_date'
            WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE|currency'""",
        "joins": """
            LEFT JOIN silver.fx_rates fx ON fx._partition_month = $m AND fx.rate_date = t.snapshot_date
                AND fx.currency = t.currency""",
        "key": "position_id",
        "cols": """position_id, snapshot_date, instrument, asset_class, hqla_level, currency, market_value, encumbered,
            pen(market_value, _rate) AS market_value_pen""",
    },
    "credit_applications": {
        "typed": """s(application_id) AS application_id, s(customer_id) AS customer_id,
            s(application_date) AS application_date_raw, as_date(application_date) AS application_date,
            u(product) AS product, s(requested_amount) AS requested_amount_raw,
            as_money(requested_amount) AS requested_amount, u(currency) AS currency,
            s(term_months) AS term_months_raw, as_int(term_months) AS term_months,
            s(credit_score) AS credit_score_raw, as_int(credit_score) AS credit_score,
            s(debt_to_income) AS debt_to_income_raw, as_dec(debt_to_income) AS debt_to_income,
            u(decision) AS decision, u(decision_reason) AS decision_reason, s(loan_id) AS loan_id""",
        "rules": f"""
            WHEN application_id IS NULL THEN 'NULL_REQUIRED|application_id'
            WHEN t.customer_id IS NULL THEN 'NULL_REQUIRED|customer_id'
            WHEN application_date_raw IS NULL THEN 'NULL_REQUIRED|application_date'
            WHEN product IS NULL THEN 'NULL_REQUIRED|product'
            WHEN requested_amount_raw IS NULL THEN 'NULL_REQUIRED|requested_amount'
            WHEN t.currency IS NULL THEN 'NULL_REQUIRED|currency'
            WHEN term_months_raw IS NULL THEN 'NULL_REQUIRED|term_months'
            WHEN credit_score_raw IS NULL THEN 'NULL_REQUIRED|credit_score'
            WHEN debt_to_income_raw IS NULL THEN 'NULL_REQUIRED|debt_to_income'
            WHEN decision IS NULL THEN 'NULL_REQUIRED|decision'
            WHEN decision_reason IS NULL THEN 'NULL_REQUIRED|decision_reason'
            WHEN application_date IS NULL THEN 'INVALID_DATE|application_date'
            WHEN requested_amount IS NULL THEN 'INVALID_NUMBER|requested_amount'
            WHEN term_months IS NULL THEN 'INVALID_NUMBER|term_months'
            WHEN credit_score IS NULL THEN 'INVALID_NUMBER|credit_score'
            WHEN debt_to_income IS NULL THEN 'INVALID_NUMBER|debt_to_income'
            WHEN requested_amount < 0 THEN 'NEGATIVE_AMOUNT|requested_amount'
            WHEN product NOT IN {LOAN_PRODUCTS} THEN 'NOT_ACCEPTED|product'
            WHEN t.currency NOT IN {CUR} THEN 'UNKNOWN_CURRENCY|currency'
            WHEN decision NOT IN ('APPROVED', 'REJECTED') THEN 'NOT_ACCEPTED|decision'
            WHEN decision_reason NOT IN ('APPROVED', 'LOW_SCORE', 'HIGH_DEBT_BURDEN', 'INCOMPLETE_DOCUMENTS')
                THEN 'NOT_ACCEPTED|decision_reason'
            WHEN NOT (application_date >= $m AND application_date < $n) THEN 'OUT_OF_PARTITION|application_date'
            WHEN c.customer_id IS NULL THEN 'ORPHAN_FK|customer_id'
            WHEN t.loan_id IS NOT NULL AND l.loan_id IS NULL THEN 'ORPHAN_FK|loan_id'
            WHEN t.currency <> 'PEN' AND fx.rate_to_pen IS NULL THEN 'NO_FX_RATE|currency'""",
        "joins": f"""
            LEFT JOIN ({CUSTOMER_KEYS}) c ON c.customer_id = t.customer_id
            LEFT JOIN (SELECT DISTINCT k AS loan_id FROM silver._seen_loans WHERE _partition_month <= $m) l
                ON l.loan_id = t.loan_id
            LEFT JOIN silver.fx_rates fx ON fx._partition_month = $m AND fx.rate_date = t.application_date
                AND fx.currency = t.currency""",
        "key": "application_id",
        "cols": """application_id, customer_id, application_date, product, requested_amount, currency, term_months,
            credit_score, debt_to_income, decision, decision_reason, loan_id,
            pen(requested_amount, _rate) AS requested_amount_pen""",
    },
    "fraud_alerts": {
        "typed": """s(alert_id) AS alert_id, s(transaction_id) AS transaction_id, u(rule_code) AS rule_code,
            u(milestone) AS milestone, s(milestone_ts) AS milestone_ts_raw, as_ts(milestone_ts) AS milestone_ts,
            s(analyst_id) AS analyst_id, u(outcome) AS outcome""",
        "rules": """
            WHEN alert_id IS NULL THEN 'NULL_REQUIRED|alert_id'
            WHEN t.transaction_id IS NULL THEN 'NULL_REQUIRED|transaction_id'
            WHEN rule_code IS NULL THEN 'NULL_REQUIRED|rule_code'
            WHEN milestone IS NULL THEN 'NULL_REQUIRED|milestone'
            WHEN milestone_ts_raw IS NULL THEN 'NULL_REQUIRED|milestone_ts'
            WHEN milestone_ts IS NULL THEN 'INVALID_TIMESTAMP|milestone_ts'
            WHEN rule_code NOT IN ('EVENING_ONLINE_TE', 'HIGH_AMOUNT', 'RANDOM_AUDIT') THEN 'NOT_ACCEPTED|rule_code'
            WHEN milestone NOT IN ('RAISED', 'REVIEWED', 'CLOSED') THEN 'NOT_ACCEPTED|milestone'
            WHEN outcome NOT IN ('CONFIRMED_FRAUD', 'FALSE_POSITIVE') THEN 'NOT_ACCEPTED|outcome'
            WHEN NOT (milestone_ts >= $m AND milestone_ts < $n) THEN 'OUT_OF_PARTITION|milestone_ts'
            WHEN tx.transaction_id IS NULL THEN 'ORPHAN_FK|transaction_id'""",
        "joins": """
            LEFT JOIN (
                SELECT DISTINCT k AS transaction_id FROM silver._seen_transactions WHERE _partition_month <= $m
            ) tx ON tx.transaction_id = t.transaction_id""",
        "key": "alert_id, milestone",
        "cols": "alert_id, transaction_id, rule_code, milestone, milestone_ts, analyst_id, outcome",
    },
    "account_events": {
        "typed": """s(event_id) AS event_id, s(account_id) AS account_id, u(event_type) AS event_type,
            s(event_date) AS event_date_raw, as_date(event_date) AS event_date, u(status_before) AS status_before,
            u(status_after) AS status_after, s(limit_before) AS limit_before_raw,
            as_money(limit_before) AS limit_before, s(limit_after) AS limit_after_raw,
            as_money(limit_after) AS limit_after, u(closure_reason) AS closure_reason""",
        "rules": f"""
            WHEN event_id IS NULL THEN 'NULL_REQUIRED|event_id'
            WHEN t.account_id IS NULL THEN 'NULL_REQUIRED|account_id'
            WHEN event_type IS NULL THEN 'NULL_REQUIRED|event_type'
            WHEN event_date_raw IS NULL THEN 'NULL_REQUIRED|event_date'
            WHEN status_after IS NULL THEN 'NULL_REQUIRED|status_after'
            WHEN event_date IS NULL THEN 'INVALID_DATE|event_date'
            WHEN limit_before_raw IS NOT NULL AND limit_before IS NULL THEN 'INVALID_NUMBER|limit_before'
            WHEN limit_after_raw IS NOT NULL AND limit_after IS NULL THEN 'INVALID_NUMBER|limit_after'
            WHEN limit_before < 0 THEN 'NEGATIVE_AMOUNT|limit_before'
            WHEN limit_after < 0 THEN 'NEGATIVE_AMOUNT|limit_after'
            WHEN event_type NOT IN ('OPENED', 'STATUS_CHANGED', 'LIMIT_CHANGED', 'CLOSED')
                THEN 'NOT_ACCEPTED|event_type'
            WHEN status_before NOT IN {STATUS} THEN 'NOT_ACCEPTED|status_before'
            WHEN status_after NOT IN {STATUS} THEN 'NOT_ACCEPTED|status_after'
            WHEN closure_reason NOT IN ('FEES', 'COMPETITOR_OFFER', 'SERVICE_QUALITY', 'NO_LONGER_NEEDED', 'RELOCATION')
                THEN 'NOT_ACCEPTED|closure_reason'
            WHEN NOT (event_date >= $m AND event_date < $n) THEN 'OUT_OF_PARTITION|event_date'
            WHEN a.account_id IS NULL THEN 'ORPHAN_FK|account_id'""",
        "joins": """
            LEFT JOIN (SELECT DISTINCT k AS account_id FROM silver._seen_accounts WHERE _partition_month <= $m) a
                ON a.account_id = t.account_id""",
        "key": "event_id",
        "cols": """event_id, account_id, event_type, event_date, status_before, status_after, limit_before, limit_after,
            closure_reason""",
    },
    "campaign_targets": {
        "typed": """s(target_id) AS target_id, s(customer_id) AS customer_id, s(campaign_id) AS campaign_id,
            u(arm) AS arm, s(assigned_date) AS assigned_date_raw, as_date(assigned_date) AS assigned_date,
            s(contact_note) AS contact_note""",
        "rules": """
            WHEN target_id IS NULL THEN 'NULL_REQUIRED|target_id'
            WHEN t.customer_id IS NULL THEN 'NULL_REQUIRED|customer_id'
            WHEN t.campaign_id IS NULL THEN 'NULL_REQUIRED|campaign_id'
            WHEN arm IS NULL THEN 'NULL_REQUIRED|arm'
            WHEN assigned_date_raw IS NULL THEN 'NULL_REQUIRED|assigned_date'
            WHEN assigned_date IS NULL THEN 'INVALID_DATE|assigned_date'
            WHEN arm NOT IN ('TREATMENT', 'CONTROL') THEN 'NOT_ACCEPTED|arm'
            WHEN NOT (assigned_date >= $m AND assigned_date < $n) THEN 'OUT_OF_PARTITION|assigned_date'
            WHEN c.customer_id IS NULL THEN 'ORPHAN_FK|customer_id'
            WHEN cmp.campaign_id IS NULL THEN 'ORPHAN_FK|campaign_id'""",
        "joins": f"""
            LEFT JOIN ({CUSTOMER_KEYS}) c ON c.customer_id = t.customer_id
            LEFT JOIN (SELECT DISTINCT k AS campaign_id FROM silver._seen_campaigns) cmp
                ON cmp.campaign_id = t.campaign_id""",
        "key": "target_id",
        # contact_note is PII without a pseudonym in the contract: it stays in silver, as in the project
        # (its staging model drops it), and never reaches gold.
        "cols": "target_id, customer_id, campaign_id, arm, assigned_date, contact_note",
    },
    "customer_interactions": {
        "typed": """s(interaction_id) AS interaction_id, s(customer_id) AS customer_id,
            s(interaction_ts) AS interaction_ts_raw, as_ts(interaction_ts) AS interaction_ts, u(channel) AS channel,
            u(reason) AS reason, s(agent_id) AS agent_id, u(agent_team) AS agent_team,
            s(handle_minutes) AS handle_minutes_raw, as_int(handle_minutes) AS handle_minutes,
            s(satisfaction_score) AS satisfaction_score_raw, as_int(satisfaction_score) AS satisfaction_score""",
        "rules": """
            WHEN interaction_id IS NULL THEN 'NULL_REQUIRED|interaction_id'
            WHEN t.customer_id IS NULL THEN 'NULL_REQUIRED|customer_id'
            WHEN interaction_ts_raw IS NULL THEN 'NULL_REQUIRED|interaction_ts'
            WHEN channel IS NULL THEN 'NULL_REQUIRED|channel'
            WHEN reason IS NULL THEN 'NULL_REQUIRED|reason'
            WHEN agent_id IS NULL THEN 'NULL_REQUIRED|agent_id'
            WHEN agent_team IS NULL THEN 'NULL_REQUIRED|agent_team'
            WHEN handle_minutes_raw IS NULL THEN 'NULL_REQUIRED|handle_minutes'
            WHEN interaction_ts IS NULL THEN 'INVALID_TIMESTAMP|interaction_ts'
            WHEN handle_minutes IS NULL THEN 'INVALID_NUMBER|handle_minutes'
            WHEN satisfaction_score_raw IS NOT NULL AND satisfaction_score IS NULL
                THEN 'INVALID_NUMBER|satisfaction_score'
            WHEN channel NOT IN ('PHONE', 'BRANCH', 'APP_CHAT', 'EMAIL') THEN 'NOT_ACCEPTED|channel'
            WHEN reason NOT IN ('COMPLAINT', 'INQUIRY', 'CARD_BLOCK', 'PRODUCT_INFO', 'ADDRESS_CHANGE')
                THEN 'NOT_ACCEPTED|reason'
            WHEN agent_team NOT IN ('CALL_CENTER', 'BRANCH_STAFF', 'DIGITAL') THEN 'NOT_ACCEPTED|agent_team'
            WHEN NOT (interaction_ts >= $m AND interaction_ts < $n) THEN 'OUT_OF_PARTITION|interaction_ts'
            WHEN c.customer_id IS NULL THEN 'ORPHAN_FK|customer_id'""",
        "joins": f"""
            LEFT JOIN ({CUSTOMER_KEYS}) c ON c.customer_id = t.customer_id""",
        "key": "interaction_id",
        "cols": """interaction_id, customer_id, interaction_ts, channel, reason, agent_id, agent_team, handle_minutes,
            satisfaction_score""",
    },
}

TYPED_SQL = """
CREATE OR REPLACE TEMP TABLE _typed AS
WITH raw AS (
    SELECT row_number() OVER () AS _rn, * FROM read_csv('{path}', all_varchar = true, header = true)
), t AS (
    SELECT _rn, {typed} FROM raw
)
SELECT t.*, {rate} AS _rate, CASE {rules} END AS _reject
FROM t {joins}"""

SILVER_SQL = """
{verb} SELECT {cols}, _rn AS _source_row, $m AS _partition_month
FROM _typed WHERE _reject IS NULL
QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _rn DESC) = 1
ORDER BY _rn"""

REJECTS_SQL = """
{verb} SELECT $m AS _partition_month, _rn AS _source_row, split_part(_reject, '|', 1) AS reason_code,
    split_part(_reject, '|', 2) AS reason_column, to_json(t)::VARCHAR AS record
FROM (SELECT * EXCLUDE (_rate) FROM _typed WHERE _reject IS NOT NULL) t
ORDER BY _rn"""

# Gold for the month [$m, $n): the dbt marts with a one-month window.
GOLD_SQL = """
CREATE SCHEMA IF NOT EXISTS gold;

CREATE OR REPLACE TEMP TABLE _zones AS SELECT district, min(zone) AS zone FROM silver.branches GROUP BY district;

-- a customer as of the month: the month's snapshot, else (row quarantined this month) the latest earlier one
CREATE OR REPLACE TEMP TABLE _customers_asof AS
SELECT * FROM silver.customers WHERE _partition_month <= $m
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY _partition_month DESC) = 1;

CREATE TABLE gold.fct_transactions AS
SELECT t.transaction_id, t.account_id, coalesce(a.customer_id, sa.customer_id) AS customer_id, t.merchant_id,
    t.counterparty_id,
    t.txn_type, t.category, t.direction, t.channel,
    t.currency, a.product AS account_product, c.segment, c.district, z.zone, c.status AS customer_status,
    m.category AS merchant_category, m.district AS merchant_district, b.district AS branch_district,
    b.zone AS branch_zone, t.amount, t.amount_pen,
    CASE WHEN t.direction = 'CREDIT' THEN t.amount_pen ELSE -t.amount_pen END AS signed_amount_pen,
    t.transaction_ts, CAST(t.transaction_ts AS DATE) AS transaction_date,
    CAST(date_trunc('month', t.transaction_ts) AS DATE) AS transaction_month
FROM silver.transactions t
LEFT JOIN silver.accounts a ON a.account_id = t.account_id AND a._partition_month = $m
LEFT JOIN (  -- owner of an account not in the month's silver: as in its latest earlier file (none: NULL)
    SELECT k, arg_max(customer_id, _partition_month) AS customer_id FROM silver._seen_accounts
    WHERE _partition_month < $m GROUP BY k
) sa ON sa.k = t.account_id
LEFT JOIN _customers_asof c ON c.customer_id = coalesce(a.customer_id, sa.customer_id)
LEFT JOIN _zones z ON z.district = c.district
LEFT JOIN silver.merchants m ON m.merchant_id = t.merchant_id
LEFT JOIN silver.branches b ON b.branch_id = a.branch_id
WHERE t.transaction_ts >= $m AND t.transaction_ts < $n;

CREATE TABLE gold.cashflow_monthly AS
SELECT transaction_month AS report_month,
    CAST(round(coalesce(sum(amount_pen) FILTER (WHERE direction = 'CREDIT'), 0), 2) AS DECIMAL(18, 2)) AS inflow_pen,
    CAST(round(coalesce(sum(amount_pen) FILTER (WHERE direction = 'DEBIT'), 0), 2) AS DECIMAL(18, 2)) AS outflow_pen,
    CAST(round(coalesce(sum(amount_pen) FILTER (WHERE direction = 'CREDIT'), 0)
        - coalesce(sum(amount_pen) FILTER (WHERE direction = 'DEBIT'), 0), 2) AS DECIMAL(18, 2)) AS net_pen,
    count(*) AS n_transactions, count(*) FILTER (WHERE direction = 'CREDIT') AS n_credits,
    count(*) FILTER (WHERE direction = 'DEBIT') AS n_debits
FROM gold.fct_transactions GROUP BY transaction_month;

CREATE TABLE gold.cashflow_by_category_monthly AS
SELECT report_month, category, CAST(round(inflow, 2) AS DECIMAL(18, 2)) AS inflow_pen,
    CAST(round(outflow, 2) AS DECIMAL(18, 2)) AS outflow_pen,
    CAST(round(inflow - outflow, 2) AS DECIMAL(18, 2)) AS net_pen, n_transactions
FROM (
    SELECT transaction_month AS report_month, category, count(*) AS n_transactions,
        coalesce(sum(amount_pen) FILTER (WHERE direction = 'CREDIT'), 0) AS inflow,
        coalesce(sum(amount_pen) FILTER (WHERE direction = 'DEBIT'), 0) AS outflow
    FROM gold.fct_transactions GROUP BY transaction_month, category
);

CREATE TABLE gold.spend_by_category_monthly AS
SELECT report_month, category, CAST(round(spend, 2) AS DECIMAL(18, 2)) AS spend_pen, n_purchases,
    CAST(round(spend::DOUBLE / nullif((sum(spend) OVER (PARTITION BY report_month))::DOUBLE, 0), 6)
        AS DECIMAL(18, 6)) AS share_of_month
FROM (
    SELECT transaction_month AS report_month, category, count(*) AS n_purchases, sum(amount_pen) AS spend
    FROM gold.fct_transactions WHERE txn_type = 'PURCHASE' GROUP BY transaction_month, category
);

CREATE OR REPLACE TEMP TABLE _iqr AS
SELECT transaction_month, segment, n_purchases, q1, q3, CAST(q3 - q1 AS DECIMAL(18, 6)) AS iqr,
    CAST(q3 + 1.5 * (q3 - q1) AS DECIMAL(18, 6)) AS threshold
FROM (
    SELECT transaction_month, segment, count(*) AS n_purchases,
        CAST(quantile_cont(CAST(amount_pen AS DECIMAL(18, 6)), 0.25) AS DECIMAL(18, 6)) AS q1,
        CAST(quantile_cont(CAST(amount_pen AS DECIMAL(18, 6)), 0.75) AS DECIMAL(18, 6)) AS q3
    FROM gold.fct_transactions WHERE txn_type = 'PURCHASE'
    GROUP BY transaction_month, segment HAVING count(*) >= 30
);

CREATE TABLE gold.transaction_anomalies AS
SELECT p.transaction_id, p.customer_id, p.account_id, p.merchant_id, p.category, p.segment, p.district, p.zone,
    p.amount_pen, i.q1, i.q3, i.threshold, p.transaction_ts, p.transaction_month
FROM gold.fct_transactions p
JOIN _iqr i ON i.transaction_month = p.transaction_month AND i.segment = p.segment
WHERE p.txn_type = 'PURCHASE' AND p.amount_pen > i.threshold;

CREATE TABLE gold.anomaly_rate_monthly AS
WITH pc AS (
    SELECT transaction_month, segment, count(*) AS n_purchases, sum(amount_pen) AS purchase_amount
    FROM gold.fct_transactions WHERE txn_type = 'PURCHASE' GROUP BY ALL
), ac AS (
    SELECT transaction_month, segment, count(*) AS n_anomalies, sum(amount_pen) AS anomalous_amount
    FROM gold.transaction_anomalies GROUP BY ALL
)
SELECT pc.transaction_month AS report_month, pc.segment, pc.n_purchases, coalesce(ac.n_anomalies, 0) AS n_anomalies,
    i.threshold IS NOT NULL AS is_evaluated,
    CASE WHEN i.threshold IS NOT NULL THEN CAST(round(coalesce(ac.n_anomalies, 0)::DOUBLE
        / nullif(pc.n_purchases::DOUBLE, 0), 6) AS DECIMAL(18, 6)) END AS anomaly_rate,
    CAST(round(pc.purchase_amount, 2) AS DECIMAL(18, 2)) AS purchase_amount_pen,
    CAST(round(coalesce(ac.anomalous_amount, 0), 2) AS DECIMAL(18, 2)) AS anomalous_amount_pen,
    i.q1, i.q3, i.threshold
FROM pc
LEFT JOIN _iqr i ON i.transaction_month = pc.transaction_month AND i.segment = pc.segment
LEFT JOIN ac ON ac.transaction_month = pc.transaction_month AND ac.segment IS NOT DISTINCT FROM pc.segment;

CREATE TABLE gold.fct_account_balance_monthly AS
SELECT a.account_id, a.customer_id, a.branch_id, a.product, a.currency, a.status, b.district AS branch_district,
    b.zone AS branch_zone, a.balance, a.credit_limit, a.balance_pen, a.credit_limit_pen, a.snapshot_date,
    CAST(date_trunc('month', a.snapshot_date) AS DATE) AS snapshot_month
FROM silver.accounts a LEFT JOIN silver.branches b ON b.branch_id = a.branch_id
WHERE a.snapshot_date >= $m AND a.snapshot_date < $n;

CREATE TABLE gold.deposits_by_region AS
SELECT snapshot_month AS report_month, branch_district AS district, branch_zone AS zone, count(*) AS n_accounts,
    CAST(round(sum(balance_pen), 2) AS DECIMAL(18, 2)) AS total_balance_pen,
    CAST(round(avg(balance_pen), 2) AS DECIMAL(18, 2)) AS avg_balance_pen
FROM gold.fct_account_balance_monthly
WHERE product IN ('CHECKING', 'SAVINGS', 'TERM_DEPOSIT') AND balance_pen > 0
GROUP BY snapshot_month, branch_district, branch_zone;

CREATE TABLE gold.liquidity_monthly AS
WITH liquid AS (
    SELECT snapshot_month AS report_month, sum(balance_pen) AS liquid_balances FROM gold.fct_account_balance_monthly
    WHERE product IN ('CHECKING', 'SAVINGS') AND balance_pen > 0 GROUP BY snapshot_month
), outflow AS (
    SELECT transaction_month AS report_month, sum(amount_pen) AS outflow FROM gold.fct_transactions
    WHERE direction = 'DEBIT' GROUP BY transaction_month
)
SELECT coalesce(l.report_month, o.report_month) AS report_month,
    CAST(round(coalesce(l.liquid_balances, 0), 2) AS DECIMAL(18, 2)) AS liquid_balances_pen,
    CAST(round(coalesce(o.outflow, 0), 2) AS DECIMAL(18, 2)) AS outflow_pen,
    CAST(round(coalesce(l.liquid_balances, 0)::DOUBLE / nullif(o.outflow::DOUBLE, 0), 6) AS DECIMAL(18, 6))
        AS coverage_ratio
FROM liquid l FULL OUTER JOIN outflow o ON l.report_month = o.report_month;

CREATE TABLE gold.fct_loan_payments AS
SELECT p.payment_id, p.loan_id, l.customer_id, l.product AS loan_product, p.currency,
    p.paid_date IS NOT NULL AS is_paid,
    CASE WHEN p.days_past_due <= 0 THEN 'CURRENT' WHEN p.days_past_due <= 30 THEN '1-30'
        WHEN p.days_past_due <= 60 THEN '31-60' WHEN p.days_past_due <= 90 THEN '61-90' ELSE '90+'
    END AS delinquency_bucket,
    p.instalment_no, l.term_months, p.days_past_due, p.amount_due, p.amount_paid, p.amount_due_pen, p.amount_paid_pen,
    l.principal_pen AS loan_principal_pen, p.due_date, p.paid_date,
    CAST(date_trunc('month', p.due_date) AS DATE) AS due_month, l.origination_date
FROM silver.loan_payments p LEFT JOIN silver.loans l ON l.loan_id = p.loan_id
WHERE p.due_date >= $m AND p.due_date < $n;

CREATE TABLE gold.loan_portfolio_monthly AS
WITH lm AS (
    SELECT due_month, loan_id, max(days_past_due) AS days_past_due,
        arg_max(delinquency_bucket, days_past_due) AS bucket, any_value(loan_principal_pen) AS principal_pen,
        count(*) AS n_instalments, count(*) FILTER (WHERE NOT is_paid) AS n_unpaid,
        sum(amount_due_pen) AS amount_due_pen, sum(amount_paid_pen) AS amount_paid_pen
    FROM gold.fct_loan_payments GROUP BY due_month, loan_id
)
SELECT due_month AS report_month, count(*) AS n_loans,
    CAST(round(sum(principal_pen), 2) AS DECIMAL(18, 2)) AS outstanding_principal_pen,
    CAST(sum(n_instalments) AS BIGINT) AS n_instalments_due, CAST(sum(n_unpaid) AS BIGINT) AS n_instalments_unpaid,
    CAST(round(sum(amount_due_pen), 2) AS DECIMAL(18, 2)) AS amount_due_pen,
    CAST(round(sum(amount_paid_pen), 2) AS DECIMAL(18, 2)) AS amount_paid_pen,
    count(*) FILTER (WHERE bucket = 'CURRENT') AS n_loans_current,
    CAST(round(coalesce(sum(principal_pen) FILTER (WHERE bucket = 'CURRENT'), 0), 2) AS DECIMAL(18, 2))
        AS principal_current_pen,
    count(*) FILTER (WHERE bucket = '1-30') AS n_loans_dpd_1_30,
    CAST(round(coalesce(sum(principal_pen) FILTER (WHERE bucket = '1-30'), 0), 2) AS DECIMAL(18, 2))
        AS principal_dpd_1_30_pen,
    count(*) FILTER (WHERE bucket = '31-60') AS n_loans_dpd_31_60,
    CAST(round(coalesce(sum(principal_pen) FILTER (WHERE bucket = '31-60'), 0), 2) AS DECIMAL(18, 2))
        AS principal_dpd_31_60_pen,
    count(*) FILTER (WHERE bucket = '61-90') AS n_loans_dpd_61_90,
    CAST(round(coalesce(sum(principal_pen) FILTER (WHERE bucket = '61-90'), 0), 2) AS DECIMAL(18, 2))
        AS principal_dpd_61_90_pen,
    count(*) FILTER (WHERE bucket = '90+') AS n_loans_dpd_90_plus,
    CAST(round(coalesce(sum(principal_pen) FILTER (WHERE bucket = '90+'), 0), 2) AS DECIMAL(18, 2))
        AS principal_dpd_90_plus_pen,
    CAST(round(coalesce(sum(principal_pen) FILTER (WHERE bucket = '90+'), 0)::DOUBLE
        / nullif(sum(principal_pen)::DOUBLE, 0), 6) AS DECIMAL(18, 6)) AS non_performing_ratio
FROM lm GROUP BY due_month;

CREATE TABLE gold.customer_360 AS
WITH c AS (
    SELECT *, $m AS as_of_month, max(snapshot_date) OVER () AS as_of_date
    FROM silver.customers WHERE snapshot_date >= $m AND snapshot_date < $n
), tt AS (
    SELECT customer_id, count(*) AS n_transactions, max(transaction_date) AS last_transaction_date,
        coalesce(sum(amount_pen) FILTER (WHERE txn_type = 'PURCHASE'), 0) AS purchases,
        coalesce(sum(amount_pen) FILTER (WHERE txn_type IN ('PURCHASE', 'WITHDRAWAL')), 0) AS spend,
        coalesce(sum(amount_pen) FILTER (WHERE txn_type IN ('SALARY', 'PENSION', 'DEPOSIT')), 0) AS income,
        coalesce(sum(amount_pen) FILTER (WHERE txn_type IN ('BILL_PAYMENT', 'AUTO_DEBIT', 'LOAN_PAYMENT')), 0)
            AS fixed_payments
    FROM gold.fct_transactions GROUP BY customer_id
), bal AS (
    SELECT customer_id, sum(greatest(balance_pen, 0)) AS positive_balance,
        count(DISTINCT product) FILTER (WHERE status <> 'CLOSED') AS products_held
    FROM gold.fct_account_balance_monthly GROUP BY customer_id
), j AS (
    SELECT c.customer_id, c.segment, c.district, c.status, c.signup_date, c.as_of_month,
        c.as_of_date, 1 AS months_present, coalesce(tt.n_transactions, 0) AS n_transactions,
        tt.last_transaction_date, coalesce(tt.purchases, 0) AS purchases, coalesce(tt.spend, 0) AS spend,
        coalesce(tt.income, 0) AS income, coalesce(tt.fixed_payments, 0) AS fixed_payments,
        coalesce(bal.positive_balance, 0) AS positive_balance, coalesce(bal.products_held, 0) AS products_held
    FROM c LEFT JOIN tt USING (customer_id) LEFT JOIN bal USING (customer_id)
)
SELECT customer_id, segment, district, status, status IN ('DORMANT', 'CLOSED') AS churn_flag, months_present,
    date_diff('month', signup_date, as_of_date) AS tenure_months, products_held, n_transactions,
    CAST(round(purchases, 2) AS DECIMAL(18, 2)) AS purchases_pen,
    CAST(round(spend / months_present, 2) AS DECIMAL(18, 2)) AS avg_monthly_spend_pen,
    CAST(round(income / months_present, 2) AS DECIMAL(18, 2)) AS est_monthly_income_pen,
    CAST(round(fixed_payments / months_present, 2) AS DECIMAL(18, 2)) AS fixed_payments_pen,
    CAST(round(fixed_payments::DOUBLE / nullif(income::DOUBLE, 0), 6) AS DECIMAL(18, 6)) AS debt_burden_ratio,
    CAST(round(positive_balance / months_present, 2) AS DECIMAL(18, 2)) AS avg_positive_balance_pen,
    CAST(round(0.015 * purchases + 0.02 / 12 * positive_balance, 2) AS DECIMAL(18, 2)) AS lifetime_value_pen,
    signup_date, as_of_month AS first_month_in_window, last_transaction_date, as_of_month, as_of_date
FROM j;

CREATE TABLE gold.churn_risk AS
WITH rfm AS (
    SELECT customer_id, max(transaction_date) AS last_transaction_date, count(*) AS frequency,
        coalesce(sum(amount_pen) FILTER (WHERE direction = 'DEBIT'), 0) AS monetary
    FROM gold.fct_transactions GROUP BY customer_id
), j AS (
    SELECT c.customer_id, c.segment, c.status, c.as_of_month, c.as_of_date, r.last_transaction_date,
        date_diff('day', r.last_transaction_date, c.as_of_date) AS recency_days,
        coalesce(r.frequency, 0) AS frequency, coalesce(r.monetary, 0) AS monetary
    FROM gold.customer_360 c LEFT JOIN rfm r USING (customer_id)
), scored AS (
    SELECT *, ntile(5) OVER (ORDER BY recency_days DESC NULLS FIRST, customer_id) AS r_score,
        ntile(5) OVER (ORDER BY frequency, customer_id) AS f_score,
        ntile(5) OVER (ORDER BY monetary, customer_id) AS m_score
    FROM j
)
SELECT customer_id, segment, status, recency_days, frequency,
    CAST(round(monetary, 2) AS DECIMAL(18, 2)) AS monetary_pen,
    r_score, f_score, m_score, r_score + f_score + m_score AS rfm_score,
    CASE WHEN status IN ('DORMANT', 'CLOSED') OR frequency = 0 OR r_score + f_score + m_score <= 6 THEN 'HIGH'
        WHEN r_score + f_score + m_score <= 9 THEN 'MEDIUM' ELSE 'LOW' END AS risk_band,
    last_transaction_date, as_of_month, as_of_date
FROM scored;

CREATE TABLE gold.dim_product AS
SELECT product_code, product_name, product_family, annual_rate, monthly_fee AS monthly_fee_pen, max_term_months,
    $m AS valid_from, NULL::DATE AS valid_to, true AS is_current
FROM silver.products;

CREATE TABLE gold.dim_campaign AS
SELECT campaign_id, campaign_name, channel, offer, target_segment, start_date, end_date, treatment_share,
    cost_per_contact AS cost_per_contact_pen, $m AS valid_from, NULL::DATE AS valid_to, true AS is_current
FROM silver.campaigns;

CREATE TABLE gold.dim_economic_indicators AS
WITH i AS (
    SELECT *, CAST(date_trunc('month', indicator_date) AS DATE) AS indicator_month FROM silver.economic_indicators
    WHERE indicator_date >= $m - INTERVAL 1 MONTH AND indicator_date < $n
)
SELECT c.indicator_month, c.indicator_date, c.policy_rate, c.inflation_yoy, c.unemployment_rate, c.usd_pen_avg,
    CAST(c.policy_rate - p.policy_rate AS DECIMAL(18, 6)) AS policy_rate_change,
    CAST(c.unemployment_rate - p.unemployment_rate AS DECIMAL(18, 6)) AS unemployment_rate_change
FROM i c LEFT JOIN i p ON p.indicator_month = CAST(c.indicator_month - INTERVAL 1 MONTH AS DATE)
WHERE c.indicator_month = $m;

CREATE TABLE gold.fct_customer_interactions AS
SELECT interaction_id, customer_id, agent_id, channel, reason, reason = 'COMPLAINT' AS is_complaint, agent_team,
    handle_minutes, satisfaction_score, interaction_ts, CAST(interaction_ts AS DATE) AS interaction_date,
    CAST(date_trunc('month', interaction_ts) AS DATE) AS interaction_month
FROM silver.customer_interactions WHERE interaction_ts >= $m AND interaction_ts < $n;

CREATE TABLE gold.dim_agent AS
SELECT agent_id, agent_team, interaction_date AS first_seen_date, interaction_month AS first_seen_month
FROM gold.fct_customer_interactions
WHERE agent_id NOT IN (SELECT agent_id FROM silver.customer_interactions WHERE interaction_ts < $m)
QUALIFY row_number() OVER (PARTITION BY agent_id ORDER BY interaction_ts, interaction_id) = 1;

CREATE TABLE gold.fct_customer_monthly_summary AS
WITH p AS (
    SELECT customer_id, count(*) AS n_purchases FROM gold.fct_transactions
    WHERE txn_type = 'PURCHASE' AND customer_id IS NOT NULL GROUP BY customer_id
), i AS (
    SELECT customer_id, count(*) AS n_interactions, count(*) FILTER (WHERE reason = 'COMPLAINT') AS n_complaints,
        count(*) FILTER (WHERE reason = 'INQUIRY') AS n_inquiries, count(satisfaction_score) AS n_answers,
        sum(satisfaction_score) AS satisfaction_total
    FROM gold.fct_customer_interactions GROUP BY customer_id
)
SELECT c.customer_id, c.segment, c.district, c.status, c.status = 'ACTIVE' AS is_active,
    date_diff('month', s.signup_date, s.snapshot_date) AS tenure_months, c.n_transactions,
    coalesce(p.n_purchases, 0) AS n_purchases, c.purchases_pen, c.avg_monthly_spend_pen AS spend_pen,
    c.est_monthly_income_pen AS income_pen, c.avg_positive_balance_pen AS positive_balance_pen, c.products_held,
    coalesce(i.n_interactions, 0) AS n_interactions, coalesce(i.n_complaints, 0) AS n_complaints,
    coalesce(i.n_inquiries, 0) AS n_inquiries, coalesce(i.n_answers, 0) AS n_satisfaction_answers,
    CAST(round(i.satisfaction_total::DOUBLE / nullif(i.n_answers::DOUBLE, 0), 2) AS DECIMAL(18, 2))
        AS avg_satisfaction,
    c.as_of_month AS summary_month
FROM gold.customer_360 c  -- one month: its months_present is 1, so its averages are the month's sums
JOIN silver.customers s ON s.customer_id = c.customer_id AND s._partition_month = $m
LEFT JOIN p ON p.customer_id = c.customer_id
LEFT JOIN i ON i.customer_id = c.customer_id;

CREATE TABLE gold.fct_credit_applications AS
WITH a AS (
    SELECT *, CAST(date_trunc('month', application_date) AS DATE) AS application_month
    FROM silver.credit_applications WHERE application_date >= $m AND application_date < $n
), cs AS (
    SELECT customer_id, segment, _partition_month AS snapshot_month FROM silver.customers WHERE _partition_month < $n
)
SELECT a.application_id, a.customer_id, a.loan_id, a.product, a.currency, a.decision, a.decision_reason,
    a.decision = 'APPROVED' AS is_approved, cs.segment, a.credit_score, a.debt_to_income, a.term_months,
    a.requested_amount, a.requested_amount_pen, l.annual_rate, l.instalment_pen, a.application_date,
    a.application_month
FROM a
LEFT JOIN silver.loans l ON l.loan_id = a.loan_id AND l.origination_date >= $m AND l.origination_date < $n
ASOF LEFT JOIN cs ON cs.customer_id = a.customer_id AND a.application_month >= cs.snapshot_month;

CREATE TABLE gold.credit_decisions_monthly AS
WITH b AS (
    SELECT application_month, product, decision, decision_reason, count(*) AS n_applications,
        sum(credit_score) AS credit_score_total, sum(debt_to_income) AS debt_to_income_total,
        sum(requested_amount_pen) AS requested_amount
    FROM gold.fct_credit_applications GROUP BY ALL
)
SELECT application_month, product, decision, decision_reason, n_applications,
    CAST(round(n_applications::DOUBLE / sum(n_applications) OVER (PARTITION BY application_month, product), 6)
        AS DECIMAL(18, 6)) AS share_of_product_applications,
    CAST(round(credit_score_total::DOUBLE / n_applications, 2) AS DECIMAL(18, 2)) AS avg_credit_score,
    CAST(round(debt_to_income_total::DOUBLE / n_applications, 6) AS DECIMAL(18, 6)) AS avg_debt_to_income,
    CAST(round(requested_amount, 2) AS DECIMAL(18, 2)) AS requested_amount_pen
FROM b;

CREATE TABLE gold.fct_marketing_touches AS
SELECT t.target_id, t.campaign_id, t.customer_id, t.arm, t.arm = 'TREATMENT' AS is_treated,
    CAST(CASE WHEN t.arm = 'TREATMENT' THEN c.cost_per_contact ELSE 0 END AS DECIMAL(18, 2)) AS contact_cost_pen,
    t.assigned_date, CAST(date_trunc('month', t.assigned_date) AS DATE) AS assignment_month, c.start_date, c.end_date
FROM silver.campaign_targets t LEFT JOIN silver.campaigns c ON c.campaign_id = t.campaign_id
WHERE t.assigned_date >= $m AND t.assigned_date < $n;

CREATE TABLE gold.fct_account_events AS
SELECT e.event_id, e.account_id, a.customer_id, a.branch_id, e.event_type, a.product, c.segment, e.status_before,
    e.status_after, e.closure_reason, e.limit_before, e.limit_after,
    CAST(e.limit_after - e.limit_before AS DECIMAL(18, 2)) AS limit_change_pen, e.event_date,
    CAST(date_trunc('month', e.event_date) AS DATE) AS event_month
FROM silver.account_events e
LEFT JOIN silver.accounts a ON a.account_id = e.account_id AND a._partition_month = $m
LEFT JOIN silver.customers c ON c.customer_id = a.customer_id AND c._partition_month = $m
WHERE e.event_date >= $m AND e.event_date < $n;

CREATE TABLE gold.fct_fraud_alerts AS
WITH alerts AS (  -- the milestones of the month and of the month before, as known at the month's end
    SELECT alert_id, min(transaction_id) AS transaction_id, min(rule_code) AS rule_code,
        min(milestone_ts) FILTER (WHERE milestone = 'RAISED') AS raised_ts,
        min(milestone_ts) FILTER (WHERE milestone = 'REVIEWED') AS reviewed_ts,
        min(milestone_ts) FILTER (WHERE milestone = 'CLOSED') AS closed_ts,
        coalesce(min(analyst_id) FILTER (WHERE milestone = 'CLOSED'),
            min(analyst_id) FILTER (WHERE milestone = 'REVIEWED')) AS analyst_id,
        min(outcome) FILTER (WHERE milestone = 'CLOSED') AS outcome
    FROM silver.fraud_alerts WHERE milestone_ts >= $m - INTERVAL 1 MONTH AND milestone_ts < $n
    GROUP BY alert_id
)
SELECT o.alert_id, o.transaction_id, p.account_id, p.customer_id, o.analyst_id, o.rule_code, o.outcome,
    CASE WHEN o.closed_ts IS NOT NULL THEN 'CLOSED' WHEN o.reviewed_ts IS NOT NULL THEN 'UNDER_REVIEW'
        ELSE 'OPEN_UNREVIEWED' END AS status_at_month_end,
    o.closed_ts IS NULL AS is_open_at_month_end,
    hours(date_diff('second', o.raised_ts, o.reviewed_ts)) AS hours_to_review,
    hours(date_diff('second', o.raised_ts, o.closed_ts)) AS hours_to_close,
    CASE WHEN o.closed_ts IS NULL THEN hours(date_diff('second', o.raised_ts, CAST($n AS TIMESTAMP))) END
        AS age_hours_at_month_end,
    o.raised_ts, o.reviewed_ts, o.closed_ts, CAST(date_trunc('month', o.raised_ts) AS DATE) AS raised_month,
    $m AS snapshot_month
FROM alerts o
LEFT JOIN gold.fct_transactions p ON p.transaction_id = o.transaction_id AND p.txn_type = 'PURCHASE'
WHERE o.closed_ts IS NULL OR o.closed_ts >= $m;

CREATE TABLE gold.fraud_alerts_monthly AS
WITH f AS (
    SELECT *, raised_month = snapshot_month AS raised_in,
        CAST(date_trunc('month', reviewed_ts) AS DATE) = snapshot_month AS reviewed_in,
        CAST(date_trunc('month', closed_ts) AS DATE) = snapshot_month AS closed_in,
        CAST(date_diff('second', raised_ts, reviewed_ts) AS DECIMAL(18, 6)) AS seconds_to_review,
        CAST(date_diff('second', raised_ts, closed_ts) AS DECIMAL(18, 6)) AS seconds_to_close
    FROM gold.fct_fraud_alerts
), b AS (
    SELECT snapshot_month AS report_month, rule_code, count(*) FILTER (WHERE raised_in) AS n_raised,
        count(*) FILTER (WHERE reviewed_in) AS n_reviewed, count(*) FILTER (WHERE closed_in) AS n_closed,
        count(*) FILTER (WHERE closed_in AND outcome = 'CONFIRMED_FRAUD') AS n_confirmed,
        count(*) FILTER (WHERE is_open_at_month_end) AS n_open_at_month_end,
        median(seconds_to_review) FILTER (WHERE closed_in) AS median_seconds_to_review,
        median(seconds_to_close) FILTER (WHERE closed_in) AS median_seconds_to_close
    FROM f GROUP BY snapshot_month, rule_code
)
SELECT report_month, rule_code, n_raised, n_reviewed, n_closed, n_confirmed, n_open_at_month_end,
    CAST(round(n_confirmed::DOUBLE / nullif(n_closed::DOUBLE, 0), 6) AS DECIMAL(18, 6)) AS confirmed_share,
    CAST(round(median_seconds_to_review::DOUBLE / 3600, 2) AS DECIMAL(18, 2)) AS median_hours_to_review,
    CAST(round(median_seconds_to_close::DOUBLE / 3600, 2) AS DECIMAL(18, 2)) AS median_hours_to_close
FROM b;

CREATE TABLE gold.fraud_alert_ageing AS
WITH buckets AS (
    SELECT * FROM (VALUES (1, '<24h'), (2, '1-3d'), (3, '3-7d'), (4, '7d+')) AS v (bucket_order, age_bucket)
), aged AS (
    SELECT rule_code, date_diff('second', raised_ts, CAST($n AS TIMESTAMP)) AS age_seconds
    FROM gold.fct_fraud_alerts WHERE is_open_at_month_end AND raised_ts IS NOT NULL
), bucketed AS (
    SELECT rule_code, CASE WHEN age_seconds < 24 * 3600 THEN '<24h' WHEN age_seconds < 72 * 3600 THEN '1-3d'
            WHEN age_seconds < 168 * 3600 THEN '3-7d' ELSE '7d+' END AS age_bucket,
        count(*) AS n_open, max(age_seconds) AS oldest_age_seconds
    FROM aged GROUP BY ALL
)
SELECT $m AS snapshot_month, r.rule_code, b.age_bucket, b.bucket_order, coalesce(x.n_open, 0) AS n_open,
    hours(x.oldest_age_seconds) AS oldest_age_hours
FROM (SELECT DISTINCT rule_code FROM gold.fct_fraud_alerts) r CROSS JOIN buckets b
LEFT JOIN bucketed x ON x.rule_code = r.rule_code AND x.age_bucket = b.age_bucket;

CREATE TABLE gold.product_cross_sell_pairs AS
WITH active AS (
    SELECT customer_id FROM silver.customers WHERE _partition_month = $m AND status = 'ACTIVE'
), holdings AS (
    SELECT DISTINCT active.customer_id, held.product
    FROM active JOIN (
        SELECT customer_id, product FROM silver.accounts WHERE _partition_month = $m AND status <> 'CLOSED'
        UNION ALL
        SELECT customer_id, loan_product FROM gold.fct_loan_payments WHERE customer_id IS NOT NULL
    ) held ON held.customer_id = active.customer_id
), holders AS (
    SELECT product, count(*) AS n FROM holdings GROUP BY product
), pair_holders AS (
    SELECT x.product AS product_a, y.product AS product_b, count(*) AS n_both
    FROM holdings x JOIN holdings y ON x.customer_id = y.customer_id AND x.product <> y.product
    GROUP BY ALL
), pairs AS (
    SELECT a.product AS product_a, b.product AS product_b, (SELECT count(*) FROM active) AS n_customers,
        a.n AS n_customers_a, b.n AS n_customers_b, coalesce(p.n_both, 0) AS n_both
    FROM holders a JOIN holders b ON a.product <> b.product
    LEFT JOIN pair_holders p ON p.product_a = a.product AND p.product_b = b.product
)
SELECT $m AS as_of_month, product_a, product_b, n_customers, n_customers_a, n_customers_b, n_both,
    CAST(round(n_both::DOUBLE / nullif(n_customers::DOUBLE, 0), 6) AS DECIMAL(18, 6)) AS support,
    CAST(round(n_both::DOUBLE / nullif(n_customers_a::DOUBLE, 0), 6) AS DECIMAL(18, 6)) AS confidence,
    CAST(round(n_both::DOUBLE * n_customers / nullif(n_customers_a::DOUBLE * n_customers_b, 0), 6)
        AS DECIMAL(18, 6)) AS lift
FROM pairs;
"""

#: Parents before children (the project's dependency order, reference data first).
ORDER = (
    "fx_rates",
    "branches",
    "merchants",
    "products",
    "campaigns",
    "economic_indicators",
    "customers",
    "accounts",
    "transactions",
    "loans",
    "loan_payments",
    "credit_applications",
    "fraud_alerts",
    "account_events",
    "campaign_targets",
    "customer_interactions",
    "treasury_positions",
)
#: Reference data: the month's snapshot only (no partition column, no event date rule).
REFERENCE = ("branches", "merchants", "products", "campaigns")
#: What earlier months must provide: the parents of loan payments (loans, with their customers and fx
#: rates), the account keys (with their owner) of accounts missing from the month's snapshot, the
#: transaction keys fraud alerts of the month may point at (both keys only, see KEYS_ONLY), the month
#: before's fraud alert milestones (fct_fraud_alerts), earlier interactions (dim_agent: agents seen
#: before) and the month before's indicators (dim_economic_indicators).
MONTHLY_ORDER = (
    "fx_rates",
    "customers",
    "accounts",
    "loans",
    "transactions",
    "fraud_alerts",
    "customer_interactions",
    "economic_indicators",
)
#: Tables whose earlier months are loaded as business keys only (silver._seen_<table>), not as silver.
KEYS_ONLY = ("accounts", "transactions")
GOLD_TABLES = (
    "fct_transactions",
    "cashflow_monthly",
    "cashflow_by_category_monthly",
    "spend_by_category_monthly",
    "transaction_anomalies",
    "anomaly_rate_monthly",
    "fct_account_balance_monthly",
    "deposits_by_region",
    "liquidity_monthly",
    "fct_loan_payments",
    "loan_portfolio_monthly",
    "customer_360",
    "churn_risk",
    "dim_product",
    "dim_campaign",
    "dim_economic_indicators",
    "fct_customer_interactions",
    "dim_agent",
    "fct_customer_monthly_summary",
    "fct_credit_applications",
    "credit_decisions_monthly",
    "fct_marketing_touches",
    "fct_account_events",
    "fct_fraud_alerts",
    "fraud_alerts_monthly",
    "fraud_alert_ageing",
    "product_cross_sell_pairs",
)


def _bounds(month: str) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(f"{month}-01")
    return start, dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'silver' AND table_name = ?"
    return con.execute(sql, [table]).fetchone()[0] > 0  # type: ignore[index]


#: Parents whose children link to any key of their file, valid or quarantined (the project's rule),
#: with the attributes gold needs for a child of a quarantined parent. The project takes those from
#: the parent's latest earlier valid snapshot (none for an account quarantined in its first month:
#: NULL); this reference, which loads earlier months' accounts as keys only, takes the owner from the
#: latest earlier file holding the account. Transactions (fraud alerts' parent) and campaigns
#: (campaign targets') need only their keys.
SEEN_KEYS = {"customers": (), "accounts": ("customer_id",), "loans": (), "transactions": (), "campaigns": ()}


def _silver(con: duckdb.DuckDBPyConnection, landing: Path, table: str, month: str) -> None:
    """Type, quarantine, deduplicate and store one table's file for `month` (appends a partition)."""
    spec = SILVER[table]
    monthly = table not in REFERENCE
    path = landing_file(landing, table, month)
    start, end = _bounds(month)
    params = {"m": start, "n": end} if monthly else {}
    rate = "CASE WHEN t.currency = 'PEN' THEN 1 ELSE fx.rate_to_pen END" if "fx.currency" in spec["joins"] else "NULL"
    sql = TYPED_SQL.format(path=str(path).replace("'", "''"), rate=rate, **spec)
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    part = "$m" if monthly else "NULL::DATE"
    if table in SEEN_KEYS:  # every key of the file, valid or quarantined: children link to them
        name = f"silver._seen_{table}"
        verb = f"INSERT INTO {name}" if _exists(con, f"_seen_{table}") else f"CREATE TABLE {name} AS"
        extra = "".join(f", max({c}) AS {c}" for c in SEEN_KEYS[table])
        con.execute(
            f"{verb} SELECT {spec['key']} AS k{extra}, $m AS _partition_month FROM _typed GROUP BY {spec['key']}",
            {"m": start},
        )
    for name, template in ((table, SILVER_SQL), (f"{table}_rejects", REJECTS_SQL)):
        verb = f"INSERT INTO silver.{name}" if _exists(con, name) else f"CREATE TABLE silver.{name} AS"
        sql = template.format(verb=verb, cols=spec["cols"], key=spec["key"]).replace("$m", part)
        con.execute(sql, {"m": start} if monthly else {})


def _seen_keys_only(con: duckdb.DuckDBPyConnection, landing: Path, table: str, month: str) -> None:
    """Record the business keys of an earlier month's file, valid or not, without building its silver."""
    key = SILVER[table]["key"]
    path = str(landing_file(landing, table, month)).replace("'", "''")
    name = f"silver._seen_{table}"
    verb = f"INSERT INTO {name}" if _exists(con, f"_seen_{table}") else f"CREATE TABLE {name} AS"
    extra = "".join(f", max(s({c})) AS {c}" for c in SEEN_KEYS[table])
    con.execute(
        f"""{verb} SELECT s({key}) AS k{extra}, $m AS _partition_month
        FROM read_csv('{path}', all_varchar = true, header = true) WHERE k IS NOT NULL GROUP BY k""",
        {"m": _bounds(month)[0]},
    )


def _earlier_months(landing: Path, month: str) -> list[str]:
    """Months before `month` with a loans file in the landing zone."""
    loans = Path(landing) / "loans"
    return sorted(p.name for p in loans.glob("*") if p.name < month and (p / "loans.csv").exists())


def run_reference(landing: Path, db_path: Path, month: str, prior_months: bool = True) -> dict[str, int]:
    """Build silver and gold for `month` into a fresh DuckDB file; return row counts per output table."""
    db_path = Path(db_path)
    db_path.unlink(missing_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute(MACROS)
        con.execute("CREATE SCHEMA silver")
        for earlier in _earlier_months(landing, month) if prior_months else []:
            for table in MONTHLY_ORDER:
                (_seen_keys_only if table in KEYS_ONLY else _silver)(con, landing, table, earlier)
        for table in ORDER:
            _silver(con, landing, table, month)
        con.execute("DROP TABLE IF EXISTS _typed")
        start, end = _bounds(month)
        con.execute(GOLD_SQL.replace("$m", f"DATE '{start}'").replace("$n", f"DATE '{end}'"))
        counts: dict[str, int] = {}
        for table in ORDER:
            scope = "_partition_month = $m" if table not in REFERENCE else "true"
            for name in (table, f"{table}_rejects"):
                sql = f"SELECT count(*) FROM silver.{name} WHERE {scope}"
                counts[f"silver.{name}"] = con.execute(sql, {"m": start} if "$m" in sql else {}).fetchone()[0]  # type: ignore[index]
        for table in GOLD_TABLES:
            counts[f"gold.{table}"] = con.execute(f"SELECT count(*) FROM gold.{table}").fetchone()[0]  # type: ignore[index]
    return counts
