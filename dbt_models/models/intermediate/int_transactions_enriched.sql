{{ config(meta={'partition_column': 'transaction_month'}) }}

-- Every transaction with its account and customer as they were in the transaction's month
-- (the account and customer snapshots of the same month), and the customer's zone.
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
    left join accounts
        on transactions.account_id = accounts.account_id
        and transactions.transaction_month = accounts.snapshot_month
    left join customers
        on accounts.customer_id = customers.customer_id
        and transactions.transaction_month = customers.snapshot_month
    left join district_zones
        on customers.district = district_zones.district
        and transactions.transaction_month = district_zones.snapshot_month

)

select * from enriched
