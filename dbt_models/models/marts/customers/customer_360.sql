-- Periodic snapshot: one row per customer per as-of month, for the customers in that month's CRM
-- snapshot. Behaviour is measured over the trailing 12 months up to and including the as-of month
-- (fewer while the history is shorter), from int_customer_month_activity. Sums are exact DECIMAL
-- sums of the months' amount_pen; every quotient is exact (money_div / ratio, macros/money.sql) and
-- rounded once, half away from zero, to cents (money, DECIMAL(18,2)) or 6 decimals (ratio):
--   months_present          = months of those 12 in which the customer is in the snapshot
--   purchases_pen           = sum(PURCHASE)
--   avg_monthly_spend_pen   = sum(PURCHASE, WITHDRAWAL) / months_present
--   est_monthly_income_pen  = sum(SALARY, PENSION, DEPOSIT) / months_present
--   fixed_payments_pen      = sum(BILL_PAYMENT, AUTO_DEBIT, LOAN_PAYMENT) / months_present
--   debt_burden_ratio       = sum(BILL_PAYMENT, AUTO_DEBIT, LOAN_PAYMENT) / sum(SALARY, PENSION, DEPOSIT),
--                             the ratio of the unrounded 12-month sums (not of the two rounded
--                             monthly columns); NULL when income is 0
--   tenure_months           = date_diff('month', signup_date, as_of_date)
--   products_held           = distinct products of the customer's non-CLOSED accounts at as-of
--   avg_positive_balance_pen= sum over the months of the customer's positive balances / months_present
--   lifetime_value_pen      = (0.18 * sum(PURCHASE) + 0.02 * sum over the months of the positive
--                             balances) / 12, i.e. 0.015 * purchases + 0.02 / 12 * positive balances,
--                             exact, rounded once
{{ config(meta={'partition_column': 'as_of_month', 'reads_months_before': {'int_customer_month_activity': 11}}) }}

with

as_of_customers as (

    select * from {{ ref('int_customer_month_activity') }}
    where {{ month_in_window('activity_month') }}
      and in_snapshot

),

as_of_months as (

    select distinct activity_month as as_of_month from as_of_customers

),

history as (

    select * from {{ ref('int_customer_month_activity') }}
    where activity_month >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval 11 month as date)
      and activity_month < cast('{{ window_max() }}' as date)

),

trailing_12_months as (

    select
        as_of_months.as_of_month,
        history.customer_id,
        count(*) filter (where history.in_snapshot) as months_present,
        min(history.activity_month) filter (where history.in_snapshot) as first_month_in_window,
        sum(history.n_transactions) as n_transactions,
        max(history.last_transaction_date) as last_transaction_date,
        sum(history.purchases_pen) as purchases,
        sum(history.spend_pen) as spend,
        sum(history.income_pen) as income,
        sum(history.fixed_payments_pen) as fixed_payments,
        sum(history.positive_balance_pen) as positive_balance_months
    from as_of_months
    inner join history
        on history.activity_month <= as_of_months.as_of_month
        and history.activity_month > cast(as_of_months.as_of_month - interval 12 month as date)
    group by as_of_months.as_of_month, history.customer_id

),

joined as (

    select
        as_of_customers.customer_id,
        as_of_customers.activity_month as as_of_month,
        as_of_customers.snapshot_date as as_of_date,
        as_of_customers.segment,
        as_of_customers.district,
        as_of_customers.status,
        as_of_customers.signup_date,
        as_of_customers.products_held,
        recent.months_present,
        recent.first_month_in_window,
        recent.n_transactions,
        recent.last_transaction_date,
        recent.purchases,
        recent.spend,
        recent.income,
        recent.fixed_payments,
        recent.positive_balance_months
    from as_of_customers
    inner join trailing_12_months as recent
        on as_of_customers.customer_id = recent.customer_id
        and as_of_customers.activity_month = recent.as_of_month

),

final as (

    select
        -- ids
        customer_id,

        -- attributes at as-of
        segment,
        district,
        status,
        status in ('DORMANT', 'CLOSED') as churn_flag,

        -- activity over the trailing 12 months
        months_present,
        date_diff('month', signup_date, as_of_date) as tenure_months,
        products_held,
        n_transactions,
        {{ to_money('purchases') }} as purchases_pen,
        {{ money_div('spend', 'months_present') }} as avg_monthly_spend_pen,
        {{ money_div('income', 'months_present') }} as est_monthly_income_pen,
        {{ money_div('fixed_payments', 'months_present') }} as fixed_payments_pen,
        {{ ratio('fixed_payments', 'income') }} as debt_burden_ratio,
        {{ money_div('positive_balance_months', 'months_present') }} as avg_positive_balance_pen,
        {{ money_div('0.18 * purchases + 0.02 * positive_balance_months', 12) }} as lifetime_value_pen,

        -- dates
        signup_date,
        first_month_in_window,
        last_transaction_date,
        as_of_month,
        as_of_date

    from joined

)

select * from final
