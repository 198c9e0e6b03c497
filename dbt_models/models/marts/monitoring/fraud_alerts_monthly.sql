-- Monitoring: how many fraud alerts does each rule raise, how fast are they worked and how many
-- are confirmed? Per month and rule_code, from the month's accumulating snapshot (fct_fraud_alerts
-- with snapshot_month = the month: every alert open at some point of the month, so every alert
-- raised, reviewed or closed in it):
--   n_raised / n_reviewed / n_closed = alerts whose RAISED / REVIEWED / CLOSED milestone falls in
--                                      the month
--   n_confirmed          = alerts closed in the month with outcome CONFIRMED_FRAUD
--   confirmed_share      = n_confirmed / n_closed (ratio, 6 decimals; NULL without closings)
--   n_open_at_month_end  = alerts still open at the month's end
--   median_hours_to_review, median_hours_to_close = medians, over the alerts closed in the month
--       (whose raised_ts, and reviewed_ts for the review, are known), of reviewed_ts - raised_ts and
--       closed_ts - raised_ts: the median of the exact seconds (quantile_cont on DECIMAL, the mean of
--       the two middle values for an even count) / 3600, rounded once half away from zero to
--       DECIMAL(18,2)
-- One row per rule_code with a row in the month's snapshot.
{{ config(meta={'partition_column': 'report_month'}) }}

with

snapshot as (

    select * from {{ ref('fct_fraud_alerts') }}
    where {{ month_in_window('snapshot_month') }}

),

flagged as (

    select
        *,
        raised_month = snapshot_month as is_raised_in_month,
        cast(date_trunc('month', reviewed_ts) as date) = snapshot_month as is_reviewed_in_month,
        cast(date_trunc('month', closed_ts) as date) = snapshot_month as is_closed_in_month,
        cast(date_diff('second', raised_ts, reviewed_ts) as decimal(18, 6)) as seconds_to_review,
        cast(date_diff('second', raised_ts, closed_ts) as decimal(18, 6)) as seconds_to_close
    from snapshot

),

by_rule as (

    select
        snapshot_month as report_month,
        rule_code,
        count(*) filter (where is_raised_in_month) as n_raised,
        count(*) filter (where is_reviewed_in_month) as n_reviewed,
        count(*) filter (where is_closed_in_month) as n_closed,
        count(*) filter (where is_closed_in_month and outcome = 'CONFIRMED_FRAUD') as n_confirmed,
        count(*) filter (where is_open_at_month_end) as n_open_at_month_end,
        median(seconds_to_review) filter (where is_closed_in_month) as median_seconds_to_review,
        median(seconds_to_close) filter (where is_closed_in_month) as median_seconds_to_close
    from flagged
    group by snapshot_month, rule_code

),

final as (

    select
        -- dates and cell
        report_month,
        rule_code,

        -- counts
        n_raised,
        n_reviewed,
        n_closed,
        n_confirmed,
        n_open_at_month_end,

        -- measures
        {{ ratio('n_confirmed', 'n_closed') }} as confirmed_share,
        {{ ratio('median_seconds_to_review', '3600', 2) }} as median_hours_to_review,
        {{ ratio('median_seconds_to_close', '3600', 2) }} as median_hours_to_close

    from by_rule

)

select * from final
