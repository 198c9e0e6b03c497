-- One row per customer present in the as-of snapshot: the latest customer snapshot month inside
-- the window [min_date, max_date). Behaviour is measured over the window, up to the as-of month;
-- transactions reach a customer through the account snapshot of the same month.
--   months_present          = distinct snapshot months of the customer in the window
--   avg_monthly_spend_pen   = sum(PURCHASE, WITHDRAWAL) / months_present
--   est_monthly_income_pen  = sum(SALARY, PENSION, DEPOSIT) / months_present
--   fixed_payments_pen      = sum(BILL_PAYMENT, AUTO_DEBIT, LOAN_PAYMENT) / months_present
--   debt_burden_ratio       = fixed_payments_pen / est_monthly_income_pen (NULL when income is 0)
--   tenure_months           = date_diff('month', signup_date, as_of_date)
--   products_held           = distinct products of the customer's non-CLOSED accounts at as-of
--   avg_positive_balance_pen= sum over the window's months of the customer's positive account
--                             balances (greatest(balance_pen, 0) summed over accounts) / months_present
--   lifetime_value_pen      = 0.015 * purchases_pen (interchange on card purchases)
--                             + 0.02 / 12 * avg_positive_balance_pen * months_present
--                             (2 % a year net interest margin on deposits, for the months observed)
with

customers as (

    select * from {{ ref('stg_silver__customers') }}
    where {{ in_window('snapshot_date') }}

),

as_of as (

    select
        max(snapshot_month) as as_of_month,
        max(snapshot_date) as as_of_date
    from customers

),

as_of_customers as (

    select customers.*, as_of.as_of_month, as_of.as_of_date
    from customers
    inner join as_of on customers.snapshot_month = as_of.as_of_month

),

presence as (

    select
        customer_id,
        count(distinct snapshot_month) as months_present,
        min(snapshot_month) as first_month_in_window
    from customers
    group by customer_id

),

transactions as (

    select transactions.*
    from {{ ref('int_transactions_enriched') }} as transactions
    cross join as_of
    where {{ in_window('transactions.transaction_ts') }}
      and transactions.transaction_month <= as_of.as_of_month

),

transaction_totals as (

    select
        customer_id,
        count(*) as n_transactions,
        max(transaction_date) as last_transaction_date,
        coalesce(sum(amount_pen) filter (where txn_type = 'PURCHASE'), 0) as purchases,
        coalesce(sum(amount_pen) filter (where txn_type in ('PURCHASE', 'WITHDRAWAL')), 0) as spend,
        coalesce(sum(amount_pen) filter (where txn_type in ('SALARY', 'PENSION', 'DEPOSIT')), 0) as income,
        coalesce(sum(amount_pen) filter (where txn_type in ('BILL_PAYMENT', 'AUTO_DEBIT', 'LOAN_PAYMENT')), 0)
            as fixed_payments
    from transactions
    group by customer_id

),

accounts as (

    select accounts.*
    from {{ ref('stg_silver__accounts') }} as accounts
    cross join as_of
    where {{ in_window('accounts.snapshot_date') }}
      and accounts.snapshot_month <= as_of.as_of_month

),

balances as (

    select
        customer_id,
        sum(greatest(balance_pen, 0)) as positive_balance_months
    from accounts
    group by customer_id

),

products as (

    select
        accounts.customer_id,
        count(distinct accounts.product) as products_held
    from accounts
    inner join as_of on accounts.snapshot_month = as_of.as_of_month
    where accounts.status <> 'CLOSED'
    group by accounts.customer_id

),

joined as (

    select
        as_of_customers.customer_id,
        as_of_customers.as_of_month,
        as_of_customers.as_of_date,
        as_of_customers.segment,
        as_of_customers.district,
        as_of_customers.status,
        as_of_customers.signup_date,
        presence.months_present,
        presence.first_month_in_window,
        coalesce(transaction_totals.n_transactions, 0) as n_transactions,
        transaction_totals.last_transaction_date,
        coalesce(transaction_totals.purchases, 0) as purchases,
        coalesce(transaction_totals.spend, 0) as spend,
        coalesce(transaction_totals.income, 0) as income,
        coalesce(transaction_totals.fixed_payments, 0) as fixed_payments,
        coalesce(balances.positive_balance_months, 0) as positive_balance_months,
        coalesce(products.products_held, 0) as products_held
    from as_of_customers
    inner join presence on as_of_customers.customer_id = presence.customer_id
    left join transaction_totals on as_of_customers.customer_id = transaction_totals.customer_id
    left join balances on as_of_customers.customer_id = balances.customer_id
    left join products on as_of_customers.customer_id = products.customer_id

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

        -- activity over the window
        months_present,
        tenure_months,
        products_held,
        n_transactions,
        {{ to_money('purchases') }} as purchases_pen,
        {{ to_money('spend / months_present') }} as avg_monthly_spend_pen,
        {{ to_money('income / months_present') }} as est_monthly_income_pen,
        {{ to_money('fixed_payments / months_present') }} as fixed_payments_pen,
        {{ safe_ratio('fixed_payments', 'income') }} as debt_burden_ratio,
        {{ to_money('positive_balance_months / months_present') }} as avg_positive_balance_pen,
        {{ to_money('0.015 * purchases + 0.02 / 12 * positive_balance_months') }} as lifetime_value_pen,

        -- dates
        signup_date,
        first_month_in_window,
        last_transaction_date,
        as_of_month,
        as_of_date

    from (
        select *, date_diff('month', signup_date, as_of_date) as tenure_months
        from joined
    )

)

select * from final
