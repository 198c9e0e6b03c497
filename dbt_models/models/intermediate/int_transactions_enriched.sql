{{ config(meta={'partition_column': 'transaction_month', 'reads_months_before': {'stg_silver__accounts': 'all', 'stg_silver__customers': 'all'}}) }}

-- Every transaction with its account and customer as they were in the transaction's month: the
-- latest snapshot of each at or before that month (ASOF join). That is the same month's snapshot
-- whenever it was published; when the parent's row was quarantined (account_parent_status
-- QUARANTINED) or the account is missing from the month's snapshot (EARLIER_MONTH), the latest
-- earlier snapshot stands in, so the transaction keeps its customer. Only an account quarantined in
-- its very first month has no snapshot at all: its customer attributes are NULL (inferred member).
with

transactions as (

    select * from {{ ref('stg_silver__transactions') }}
    -- the run's window: the CTEs below are shared, so a filter outside the view is not pushed
    -- down to the scan
    where {{ in_window('transaction_ts') }}

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

{{ snapshot_as_of('with_account', 'transactions', 'accounts', 'account_id', 'transaction_month',
    {'customer_id': 'customer_id', 'customer_parent_status': 'customer_parent_status', 'account_product': 'product'}) }},

{{ snapshot_as_of('with_customer', 'with_account', 'customers', 'customer_id', 'transaction_month',
    {'segment': 'segment', 'district': 'district', 'customer_status': 'status'}) }},

enriched as (

    select
        -- ids
        tx.transaction_id,
        tx.account_id,
        tx.customer_id,
        tx.merchant_id,
        tx.counterparty_id,

        -- attributes
        tx.txn_type,
        tx.category,
        tx.direction,
        tx.channel,
        tx.currency,
        tx.account_parent_status,
        tx.customer_parent_status,
        tx.account_product,
        tx.segment,
        tx.district,
        district_zones.zone,
        tx.customer_status,

        -- numerics
        tx.amount,
        tx.amount_pen,
        tx.signed_amount_pen,

        -- timestamps
        tx.transaction_ts,
        tx.transaction_date,
        tx.transaction_month

    from with_customer as tx
    left join district_zones
        on tx.district = district_zones.district
        and tx.transaction_month = district_zones.snapshot_month

)

select * from enriched
