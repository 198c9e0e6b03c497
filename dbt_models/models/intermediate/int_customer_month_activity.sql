-- One row per customer and month: present in that month's CRM snapshot, or with transactions
-- that month (reached through the account snapshot of the same month). The building block of the
-- periodic snapshots customer_360 and churn_risk, which read 12 (or 3) months of it instead of
-- every transaction of the history. Sums are exact DECIMAL sums of amount_pen.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_window() }}",
        meta={'partition_column': 'activity_month'}
    )
}}

with

customers as (

    select * from {{ ref('stg_silver__customers') }}
    where {{ month_in_window('snapshot_month') }}

),

transactions as (

    -- the month's enriched transactions, as fct_transactions already holds them
    select * from {{ ref('fct_transactions') }}
    where {{ month_in_window('transaction_month') }}
      and customer_id is not null

),

transaction_totals as (

    select
        customer_id,
        transaction_month,
        count(*) as n_transactions,
        max(transaction_date) as last_transaction_date,
        coalesce(sum(amount_pen) filter (where txn_type = 'PURCHASE'), 0) as purchases_pen,
        coalesce(sum(amount_pen) filter (where txn_type in ('PURCHASE', 'WITHDRAWAL')), 0) as spend_pen,
        coalesce(sum(amount_pen) filter (where txn_type in ('SALARY', 'PENSION', 'DEPOSIT')), 0) as income_pen,
        coalesce(sum(amount_pen) filter (where txn_type in ('BILL_PAYMENT', 'AUTO_DEBIT', 'LOAN_PAYMENT')), 0)
            as fixed_payments_pen,
        coalesce(sum(amount_pen) filter (where direction = 'DEBIT'), 0) as debits_pen
    from transactions
    group by customer_id, transaction_month

),

accounts as (

    select * from {{ ref('stg_silver__accounts') }}
    where {{ month_in_window('snapshot_month') }}

),

balances as (

    select
        customer_id,
        snapshot_month,
        sum(greatest(balance_pen, 0)) as positive_balance_pen,
        count(distinct product) filter (where status <> 'CLOSED') as products_held
    from accounts
    group by customer_id, snapshot_month

),

final as (

    select
        -- ids
        coalesce(customers.customer_id, transaction_totals.customer_id) as customer_id,

        -- attributes in the month's snapshot (NULL when the customer is not in it)
        customers.customer_id is not null as in_snapshot,
        customers.segment,
        customers.district,
        customers.status,
        customers.signup_date,
        customers.snapshot_date,

        -- activity in the month
        coalesce(transaction_totals.n_transactions, 0) as n_transactions,
        transaction_totals.last_transaction_date,
        cast(coalesce(transaction_totals.purchases_pen, 0) as decimal(18, 2)) as purchases_pen,
        cast(coalesce(transaction_totals.spend_pen, 0) as decimal(18, 2)) as spend_pen,
        cast(coalesce(transaction_totals.income_pen, 0) as decimal(18, 2)) as income_pen,
        cast(coalesce(transaction_totals.fixed_payments_pen, 0) as decimal(18, 2)) as fixed_payments_pen,
        cast(coalesce(transaction_totals.debits_pen, 0) as decimal(18, 2)) as debits_pen,
        cast(coalesce(balances.positive_balance_pen, 0) as decimal(18, 2)) as positive_balance_pen,
        coalesce(balances.products_held, 0) as products_held,

        -- dates
        coalesce(customers.snapshot_month, transaction_totals.transaction_month) as activity_month

    from customers
    full outer join transaction_totals
        on customers.customer_id = transaction_totals.customer_id
        and customers.snapshot_month = transaction_totals.transaction_month
    left join balances
        on coalesce(customers.customer_id, transaction_totals.customer_id) = balances.customer_id
        and coalesce(customers.snapshot_month, transaction_totals.transaction_month) = balances.snapshot_month

)

select * from final
