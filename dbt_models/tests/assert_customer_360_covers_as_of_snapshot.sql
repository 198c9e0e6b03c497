-- customer_360 has exactly the customers of the latest snapshot inside the window.
with

snapshot as (

    select customer_id, snapshot_month
    from {{ ref('stg_silver__customers') }}
    where {{ in_window('snapshot_date') }}
    qualify snapshot_month = max(snapshot_month) over ()

),

mart as (

    select customer_id, as_of_month from {{ ref('customer_360') }}

)

select coalesce(snapshot.customer_id, mart.customer_id) as customer_id
from snapshot
full outer join mart
    on snapshot.customer_id = mart.customer_id
    and snapshot.snapshot_month = mart.as_of_month
where snapshot.customer_id is null or mart.customer_id is null
