-- Account life-cycle fact, one row per event (opened, status changed, limit changed, closed) in
-- its month. Incremental by event_month over the window on event_date. The owner and the branch
-- come from the account snapshot of the same month; segment is the customer's in that month's
-- CRM snapshot; limit_change_pen = limit_after - limit_before on limit changes.
{{ config(meta={'partition_column': 'event_month'}) }}

with

events as (

    select * from {{ ref('stg_silver__account_events') }}
    where {{ in_window('event_date') }}

),

accounts as (

    select account_id, customer_id, branch_id, product, snapshot_month from {{ ref('stg_silver__accounts') }}
    where {{ month_in_window('snapshot_month') }}

),

customers as (

    select customer_id, segment, snapshot_month from {{ ref('stg_silver__customers') }}
    where {{ month_in_window('snapshot_month') }}

),

final as (

    select
        -- ids
        events.event_id,
        events.account_id,
        accounts.customer_id,
        accounts.branch_id,

        -- attributes
        events.event_type,
        accounts.product,
        customers.segment,
        events.status_before,
        events.status_after,
        events.closure_reason,
        events.account_parent_status,

        -- numerics (PEN)
        events.limit_before,
        events.limit_after,
        cast(events.limit_after - events.limit_before as decimal(18, 2)) as limit_change_pen,

        -- dates
        events.event_date,
        events.event_month

    from events
    left join accounts
        on events.account_id = accounts.account_id
        and events.event_month = accounts.snapshot_month
    left join customers
        on accounts.customer_id = customers.customer_id
        and events.event_month = customers.snapshot_month

)

select * from final
