-- Periodic snapshot fact: one row per account per month-end snapshot, with the balance and
-- limit in PEN and the home branch's district and zone. Incremental by snapshot_month over the
-- window on snapshot_date.
{{ config(meta={'partition_column': 'snapshot_month', 'reads_months_before': {'dim_account': 'all', 'dim_customer': 'all'}}) }}

with

snapshots as (

    select * from {{ ref('stg_silver__accounts') }}
    where {{ in_window('snapshot_date') }}

),

branches as (

    select branch_id, district, zone, snapshot_month from {{ ref('stg_silver__branches') }}
    where {{ month_in_window('snapshot_month') }}

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
        snapshots.account_id,
        accounts.account_sk,
        snapshots.customer_id,
        customers.customer_sk,
        snapshots.branch_id,

        -- attributes
        snapshots.product,
        snapshots.currency,
        snapshots.status,
        snapshots.customer_parent_status,
        snapshots.branch_parent_status,
        branches.district as branch_district,
        branches.zone as branch_zone,

        -- numerics
        snapshots.balance,
        snapshots.credit_limit,
        snapshots.balance_pen,
        snapshots.credit_limit_pen,

        -- dates
        snapshots.snapshot_date,
        snapshots.snapshot_month

    from snapshots
    left join branches
        on snapshots.branch_id = branches.branch_id
        and snapshots.snapshot_month = branches.snapshot_month
    left join customers
        on {{ scd2_version_at('customers', 'customer_id', 'snapshots', 'snapshot_month') }}
    left join accounts
        on {{ scd2_version_at('accounts', 'account_id', 'snapshots', 'snapshot_month') }}

)

select * from final
