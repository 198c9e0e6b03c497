-- Exploratory: when in the week and in the day do customers transact? Every transaction of the
-- month falls in one cell of ISO weekday (1 = Monday .. 7 = Sunday) x hour of day (0-23) of its
-- posting timestamp (local time, America/Lima). The grid is complete: 7 x 24 = 168 rows per month,
-- empty cells with 0. share_of_month = the cell's transactions / the month's transactions, exact
-- and rounded half away from zero to 6 decimals (the ratio macro). n_calendar_days = how many
-- dates of that weekday the month has (4 or 5), to compare weekdays per day.
{{ config(meta={'partition_column': 'transaction_month'}) }}

with

transactions as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}

),

months as (

    select distinct transaction_month from transactions

),

weekday_counts as (

    select
        months.transaction_month,
        isodow(days.day) as iso_weekday,
        count(*) as n_calendar_days
    from months
    cross join lateral (
        select cast(generate_series as date) as day
        from generate_series(
            months.transaction_month,
            cast(months.transaction_month + interval 1 month - interval 1 day as date),
            interval 1 day
        )
    ) as days
    group by months.transaction_month, isodow(days.day)

),

grid as (

    select
        weekday_counts.transaction_month,
        weekday_counts.iso_weekday,
        weekday_counts.n_calendar_days,
        hours.hour_of_day
    from weekday_counts
    cross join (select cast(range as integer) as hour_of_day from range(24)) as hours

),

cells as (

    select
        transaction_month,
        isodow(transaction_ts) as iso_weekday,
        hour(transaction_ts) as hour_of_day,
        count(*) as n_transactions,
        sum(amount_pen) as amount
    from transactions
    group by transaction_month, isodow(transaction_ts), hour(transaction_ts)

),

month_totals as (

    select transaction_month, count(*) as month_transactions
    from transactions
    group by transaction_month

),

final as (

    select
        -- dates and cell
        grid.transaction_month,
        grid.iso_weekday,
        grid.hour_of_day,
        grid.n_calendar_days,

        -- measures
        coalesce(cells.n_transactions, 0) as n_transactions,
        {{ to_money('coalesce(cells.amount, 0)') }} as amount_pen,
        {{ ratio('coalesce(cells.n_transactions, 0)', 'month_totals.month_transactions') }} as share_of_month

    from grid
    inner join month_totals
        on grid.transaction_month = month_totals.transaction_month
    left join cells
        on grid.transaction_month = cells.transaction_month
        and grid.iso_weekday = cells.iso_weekday
        and grid.hour_of_day = cells.hour_of_day

)

select * from final
