-- Card purchase spend per month and category, and the category's share of the month's spend:
-- share_of_month = spend / the month's total purchase spend, exact and rounded half away from
-- zero to 6 decimals (the ratio macro, macros/money.sql), so shares add up to 1 within
-- 0.0000005 per category.
{{ config(meta={'partition_column': 'report_month'}) }}

with

purchases as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}
      and txn_type = 'PURCHASE'

),

by_category as (

    select
        transaction_month as report_month,
        category,
        count(*) as n_purchases,
        sum(amount_pen) as spend
    from purchases
    group by transaction_month, category

),

with_month_total as (

    select
        *,
        sum(spend) over (partition by report_month) as month_spend
    from by_category

),

final as (

    select
        report_month,
        category,
        {{ to_money('spend') }} as spend_pen,
        n_purchases,
        {{ ratio('spend', 'month_spend') }} as share_of_month
    from with_month_total

)

select * from final
