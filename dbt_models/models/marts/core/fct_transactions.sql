-- Transaction fact, one row per posted transaction. Incremental by month: a run (re)builds the
-- months of the window [min_date, max_date) on transaction_ts and replaces them whole
-- (the delete_window pre-hook, then the window's rows appended).
-- Segment, district and zone are the customer's in the transaction's month; customer_sk and
-- account_sk point at the dimension versions valid in that month.
{{ config(meta={'partition_column': 'transaction_month', 'reads_months_before': {'dim_account': 'all', 'dim_customer': 'all'}}) }}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}
    where {{ in_window('transaction_ts') }}

),

customers as (

    select customer_sk, customer_id, valid_from, valid_to from {{ ref('dim_customer') }}

),

accounts as (

    select account_sk, account_id, valid_from, valid_to from {{ ref('dim_account') }}

),

final as (

    select
        -- ids
        transactions.transaction_id,
        transactions.account_id,
        accounts.account_sk,
        transactions.customer_id,
        customers.customer_sk,
        transactions.merchant_id,
        transactions.counterparty_id,

        -- attributes
        transactions.txn_type,
        transactions.category,
        transactions.direction,
        transactions.channel,
        transactions.currency,
        transactions.account_parent_status,
        transactions.customer_parent_status,
        transactions.account_product,
        transactions.segment,
        transactions.district,
        transactions.zone,

        -- numerics
        transactions.amount,
        transactions.amount_pen,
        transactions.signed_amount_pen,

        -- timestamps
        transactions.transaction_ts,
        transactions.transaction_date,
        transactions.transaction_month

    from transactions
    left join customers
        on {{ scd2_version_at('customers', 'customer_id', 'transactions', 'transaction_month') }}
    left join accounts
        on {{ scd2_version_at('accounts', 'account_id', 'transactions', 'transaction_month') }}

)

select * from final
