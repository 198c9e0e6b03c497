-- Macro indicators, one row per month, with the month-on-month change of the policy rate and of
-- the unemployment rate: this month's value - the previous month's (NULL when the previous month
-- is not loaded). Fractions stay DECIMAL(18,6) (0.0525 = 5.25 %); a change is a difference of
-- fractions (0.0025 = +0.25 percentage points), exact. A month reads itself and the month before.
{{ config(meta={'partition_column': 'indicator_month', 'reads_months_before': {'stg_silver__economic_indicators': 1}}) }}

with

indicators as (

    select * from {{ ref('stg_silver__economic_indicators') }}
    where indicator_month >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval 1 month as date)
      and indicator_month < cast('{{ window_max() }}' as date)

),

final as (

    select
        -- dates
        current_month.indicator_month,
        current_month.indicator_date,

        -- indicators
        current_month.policy_rate,
        current_month.inflation_yoy,
        current_month.unemployment_rate,
        current_month.usd_pen_avg,

        -- month-on-month changes
        cast(current_month.policy_rate - previous_month.policy_rate as decimal(18, 6)) as policy_rate_change,
        cast(current_month.unemployment_rate - previous_month.unemployment_rate as decimal(18, 6))
            as unemployment_rate_change

    from indicators as current_month
    left join indicators as previous_month
        on previous_month.indicator_month = cast(current_month.indicator_month - interval 1 month as date)
    where {{ month_in_window('current_month.indicator_month') }}

)

select * from final
