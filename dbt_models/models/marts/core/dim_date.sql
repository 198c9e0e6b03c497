-- Calendar, one row per day from 2020-01-01 to 2030-12-31 (a fixed range: nothing reads the clock).
with

days as (

    select cast(generate_series as date) as date_day
    from generate_series(date '2020-01-01', date '2030-12-31', interval 1 day)

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
