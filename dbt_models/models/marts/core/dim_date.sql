-- Calendar, one row per day, built month by month: a month's partition holds that month's days
-- (nothing reads the clock). It is published with the month's data: the reference below makes
-- the month's fx rates (the first table of a month) its parent, so a calendar month never exists
-- before the month does.
-- depends_on: {{ ref('stg_silver__fx_rates') }}
{{ config(meta={'partition_column': 'month_start'}) }}

with

days as (

    select cast(generate_series as date) as date_day
    from generate_series(
        cast('{{ window_min() }}' as date),
        cast('{{ window_max() }}' as date) - interval 1 day,
        interval 1 day
    )
    -- without a window (a plain `dbt build`) the calendar covers the years the bank can report on
    where generate_series >= date '2020-01-01' and generate_series < date '2031-01-01'

),

calendar as (

    select
        date_day,
        cast(strftime(date_day, '%Y%m%d') as integer) as date_key,
        year(date_day) as year,
        quarter(date_day) as quarter,
        month(date_day) as month,
        strftime(date_day, '%B') as month_name,
        cast(date_trunc('month', date_day) as date) as month_start,
        cast(last_day(date_day) as date) as month_end,
        day(date_day) as day_of_month,
        isodow(date_day) as day_of_week,
        strftime(date_day, '%A') as day_name,
        isodow(date_day) in (6, 7) as is_weekend,
        date_day = last_day(date_day) as is_month_end
    from days

)

select * from calendar
