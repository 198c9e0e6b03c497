-- Fraud alert fact, an ACCUMULATING SNAPSHOT taken at each month end: for snapshot month M, one row
-- per alert open at some point of M, i.e. raised before M's end and not closed before M's start,
-- with its milestones as known at M's end (milestone_ts < first day of M + 1). An alert open across
-- a month boundary has a row in both months, the later one with more milestones filled in.
-- Every alert closes within 20 days of being raised, so an alert open in M was raised in M or in
-- the month before: a month reads the milestones of itself and of the previous month only, and
-- re-running it gives the same rows (a later month's milestones never reach it).
--   raised_ts / reviewed_ts / closed_ts = the RAISED / REVIEWED / CLOSED milestone's time, NULL
--                          while that milestone is not known at month end (raised_ts is also NULL
--                          when silver quarantined the RAISED row)
--   analyst_id           = the analyst of the CLOSED milestone, else of the REVIEWED one
--   outcome              = the CLOSED row's outcome, NULL until closed
--   status_at_month_end  = CLOSED (closed_ts known), UNDER_REVIEW (reviewed, not closed) or
--                          OPEN_UNREVIEWED
--   hours_to_review      = (reviewed_ts - raised_ts) in hours, hours_to_close = (closed_ts -
--                          raised_ts) in hours, age_hours_at_month_end = (M's end - raised_ts) in
--                          hours for alerts open at month end (NULL once closed): exact seconds / 3600,
--                          rounded once half away from zero to DECIMAL(18,2) (the ratio macro)
-- M's end is the first instant of the next month (local time). transaction_id and rule_code are
-- the same on every milestone row of an alert; account_id and customer_id are the purchase's, from
-- fct_transactions (NULL when silver quarantined the purchase: transaction_parent_status).
{{ config(meta={'partition_column': 'snapshot_month', 'reads_months_before': {'stg_silver__fraud_alerts': 1, 'fct_transactions': 2}}) }}

with

milestones as (

    -- the window's months and the month before
    select * from {{ ref('stg_silver__fraud_alerts') }}
    where milestone_ts >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval 1 month as date)
      and milestone_ts < cast('{{ window_max() }}' as date)

),

snapshot_months as (

    select distinct milestone_month as snapshot_month
    from milestones
    where {{ month_in_window('milestone_month') }}

),

known_milestones as (

    -- what each month end knows: the milestones of the month and of the month before
    select
        snapshot_months.snapshot_month,
        milestones.*
    from snapshot_months
    inner join milestones
        on milestones.milestone_month >= cast(snapshot_months.snapshot_month - interval 1 month as date)
        and milestones.milestone_month <= snapshot_months.snapshot_month

),

alerts as (

    select
        snapshot_month,
        alert_id,
        min(transaction_id) as transaction_id,
        min(rule_code) as rule_code,
        min(transaction_parent_status) as transaction_parent_status,
        min(milestone_ts) filter (where milestone = 'RAISED') as raised_ts,
        min(milestone_ts) filter (where milestone = 'REVIEWED') as reviewed_ts,
        min(milestone_ts) filter (where milestone = 'CLOSED') as closed_ts,
        coalesce(
            min(analyst_id) filter (where milestone = 'CLOSED'),
            min(analyst_id) filter (where milestone = 'REVIEWED')
        ) as analyst_id,
        min(outcome) filter (where milestone = 'CLOSED') as outcome
    from known_milestones
    group by snapshot_month, alert_id

),

open_in_month as (

    select
        *,
        cast(snapshot_month + interval 1 month as timestamp) as month_end_ts
    from alerts
    where closed_ts is null or closed_ts >= snapshot_month

),

purchases as (

    -- an alert is raised up to 30 minutes after its purchase: the purchase is in the alert's
    -- raised month or the month before, at most two months before the snapshot month
    select transaction_id, account_id, customer_id from {{ ref('fct_transactions') }}
    where transaction_month >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval 2 month as date)
      and transaction_month < cast('{{ window_max() }}' as date)
      and txn_type = 'PURCHASE'

),

final as (

    select
        -- ids
        open_in_month.alert_id,
        open_in_month.transaction_id,
        purchases.account_id,
        purchases.customer_id,
        open_in_month.analyst_id,

        -- attributes
        open_in_month.rule_code,
        open_in_month.outcome,
        case
            when open_in_month.closed_ts is not null then 'CLOSED'
            when open_in_month.reviewed_ts is not null then 'UNDER_REVIEW'
            else 'OPEN_UNREVIEWED'
        end as status_at_month_end,
        open_in_month.closed_ts is null as is_open_at_month_end,
        open_in_month.transaction_parent_status,

        -- measures (hours)
        {{ ratio("date_diff('second', open_in_month.raised_ts, open_in_month.reviewed_ts)", '3600', 2) }}
            as hours_to_review,
        {{ ratio("date_diff('second', open_in_month.raised_ts, open_in_month.closed_ts)", '3600', 2) }}
            as hours_to_close,
        case when open_in_month.closed_ts is null then
            {{ ratio("date_diff('second', open_in_month.raised_ts, open_in_month.month_end_ts)", '3600', 2) }}
        end as age_hours_at_month_end,

        -- timestamps
        open_in_month.raised_ts,
        open_in_month.reviewed_ts,
        open_in_month.closed_ts,
        cast(date_trunc('month', open_in_month.raised_ts) as date) as raised_month,
        open_in_month.snapshot_month

    from open_in_month
    left join purchases
        on open_in_month.transaction_id = purchases.transaction_id

)

select * from final
