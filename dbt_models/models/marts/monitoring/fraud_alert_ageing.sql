-- Real-time: what is in the fraud queue at the latest moment, and how old is it? The latest moment
-- of a month is its end (the first instant of the next month; nothing reads the clock): the alerts
-- of fct_fraud_alerts still open then (is_open_at_month_end), per rule_code and age bucket of
-- age = month end - raised_ts, compared exactly on the timestamps:
--   '<24h'  age < 24 hours
--   '1-3d'  24 hours <= age < 72 hours
--   '3-7d'  72 hours <= age < 168 hours
--   '7d+'   age >= 168 hours
-- The grid is complete: the 4 buckets of every rule_code with an alert row in the month's snapshot
-- (n_open = 0 and oldest_age_hours NULL for an empty bucket). oldest_age_hours = the bucket's
-- largest age in hours, exact seconds / 3600 rounded half away from zero to DECIMAL(18,2). An open
-- alert whose RAISED milestone silver quarantined (raised_ts NULL) has no age and is left out.
{{ config(meta={'partition_column': 'snapshot_month'}) }}

with

snapshot as (

    select * from {{ ref('fct_fraud_alerts') }}
    where {{ month_in_window('snapshot_month') }}

),

buckets as (

    select * from (
        values (1, '<24h'), (2, '1-3d'), (3, '3-7d'), (4, '7d+')
    ) as buckets (bucket_order, age_bucket)

),

grid as (

    select
        rules.snapshot_month,
        rules.rule_code,
        buckets.bucket_order,
        buckets.age_bucket
    from (select distinct snapshot_month, rule_code from snapshot) as rules
    cross join buckets

),

open_alerts as (

    select
        snapshot_month,
        rule_code,
        date_diff('second', raised_ts, cast(snapshot_month + interval 1 month as timestamp)) as age_seconds
    from snapshot
    where is_open_at_month_end
      and raised_ts is not null

),

aged as (

    select
        *,
        case
            when age_seconds < 24 * 3600 then '<24h'
            when age_seconds < 72 * 3600 then '1-3d'
            when age_seconds < 168 * 3600 then '3-7d'
            else '7d+'
        end as age_bucket
    from open_alerts

),

bucketed as (

    select
        snapshot_month,
        rule_code,
        age_bucket,
        count(*) as n_open,
        max(age_seconds) as oldest_age_seconds
    from aged
    group by snapshot_month, rule_code, age_bucket

),

final as (

    select
        -- dates and cell
        grid.snapshot_month,
        grid.rule_code,
        grid.age_bucket,
        grid.bucket_order,

        -- measures
        coalesce(bucketed.n_open, 0) as n_open,
        {{ ratio('bucketed.oldest_age_seconds', '3600', 2) }} as oldest_age_hours

    from grid
    left join bucketed
        on grid.snapshot_month = bucketed.snapshot_month
        and grid.rule_code = bucketed.rule_code
        and grid.age_bucket = bucketed.age_bucket

)

select * from final
