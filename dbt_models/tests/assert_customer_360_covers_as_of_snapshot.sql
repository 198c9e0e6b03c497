{{ config(meta={'partition_column': 'as_of_month', 'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- For every as-of month of the window, customer_360 has exactly the customers of that month's
-- CRM snapshot. Returns the (customer, month) pairs in one and not the other.
with

snapshot as (

    select customer_id, snapshot_month
    from {{ ref('stg_silver__customers') }}
    where {{ month_in_window('snapshot_month') }}

),

mart as (

    select customer_id, as_of_month from {{ ref('customer_360') }}
    where {{ month_in_window('as_of_month') }}

)

select
    coalesce(snapshot.customer_id, mart.customer_id) as customer_id,
    coalesce(snapshot.snapshot_month, mart.as_of_month) as as_of_month
from snapshot
full outer join mart
    on snapshot.customer_id = mart.customer_id
    and snapshot.snapshot_month = mart.as_of_month
where snapshot.customer_id is null or mart.customer_id is null
