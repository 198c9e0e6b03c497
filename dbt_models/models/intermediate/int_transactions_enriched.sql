{{ config(meta={'partition_column': 'transaction_month'}) }}

-- Every transaction with its account and customer as they were in the transaction's month: the
-- latest snapshot of each at or before that month (ASOF join). That is the same month's snapshot
-- whenever it was published; when the parent's row was quarantined (account_parent_status
-- QUARANTINED) or the account is missing from the month's snapshot (EARLIER_MONTH), the latest
-- earlier snapshot stands in, so the transaction keeps its customer. Only an account quarantined in
-- its very first month has no snapshot at all: its customer attributes are NULL (inferred member).
with

transactions as (

    select * from {{ ref('stg_silver__transactions') }}

),

accounts as (

    select * from {{ ref('stg_silver__accounts') }}

),

customers as (

    select * from {{ ref('stg_silver__customers') }}

),

district_zones as (

    select * from {{ ref('int_district_zones') }}

),

enriched as (

    select
        -- ids
        transactions.transaction_id,
        transactions.account_id,
        accounts.customer_id,
        transactions.merchant_id,

        -- attributes
        transactions.txn_type,
        transactions.category,
        transactions.direction,
        transactions.channel,
        transactions.currency,
        transactions.account_parent_status,
        accounts.customer_parent_status,
        accounts.product as account_product,
        customers.segment,
        customers.district,
        district_zones.zone,
        customers.status as customer_status,

        -- numerics
        transactions.amount,
        transactions.amount_pen,
        transactions.signed_amount_pen,

        -- timestamps
        transactions.transaction_ts,
        transactions.transaction_date,
        transactions.transaction_month

    from transactions
    asof left join accounts
        on transactions.account_id = accounts.account_id
        and transactions.transaction_month >= accounts.snapshot_month
    asof left join customers
        on accounts.customer_id = customers.customer_id
        and transactions.transaction_month >= customers.snapshot_month
    left join district_zones
        on customers.district = district_zones.district
        and transactions.transaction_month = district_zones.snapshot_month

)

select * from enriched
