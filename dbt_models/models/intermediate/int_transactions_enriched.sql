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

-- The transaction's own month's snapshot is found by an equality join; the ASOF join (a sort of
-- both sides) runs only for the few rows without one, over the snapshots of their keys alone.
-- Silver keeps one snapshot per key and month, so both paths pick the same row the ASOF join would.
with_account as (

    select
        transactions.*,
        accounts.account_id is not null as has_same_month_account,
        accounts.customer_id,
        accounts.customer_parent_status,
        accounts.product as account_product
    from transactions
    left join accounts
        on transactions.account_id = accounts.account_id
        and transactions.transaction_month = accounts.snapshot_month

),

account_fallback as (

    select * from with_account where not has_same_month_account

),

with_account_asof as (

    select * from with_account where has_same_month_account

    union all by name

    select
        account_fallback.* exclude (customer_id, customer_parent_status, account_product),
        accounts.customer_id,
        accounts.customer_parent_status,
        accounts.product as account_product
    from account_fallback
    asof left join (
        select * from accounts
        where account_id in (select account_id from account_fallback)
    ) as accounts
        on account_fallback.account_id = accounts.account_id
        and account_fallback.transaction_month >= accounts.snapshot_month

),

with_customer as (

    select
        with_account_asof.*,
        customers.customer_id is not null as has_same_month_customer,
        customers.segment,
        customers.district,
        customers.status as customer_status
    from with_account_asof
    left join customers
        on with_account_asof.customer_id = customers.customer_id
        and with_account_asof.transaction_month = customers.snapshot_month

),

customer_fallback as (

    select * from with_customer where not has_same_month_customer

),

with_customer_asof as (

    select * from with_customer where has_same_month_customer

    union all by name

    select
        customer_fallback.* exclude (segment, district, customer_status),
        customers.segment,
        customers.district,
        customers.status as customer_status
    from customer_fallback
    asof left join (
        select * from customers
        where customer_id in (select customer_id from customer_fallback)
    ) as customers
        on customer_fallback.customer_id = customers.customer_id
        and customer_fallback.transaction_month >= customers.snapshot_month

),

enriched as (

    select
        -- ids
        tx.transaction_id,
        tx.account_id,
        tx.customer_id,
        tx.merchant_id,

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

    from with_customer_asof as tx
    left join district_zones
        on tx.district = district_zones.district
        and tx.transaction_month = district_zones.snapshot_month

)

select * from enriched
