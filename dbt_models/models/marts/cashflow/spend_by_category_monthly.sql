-- Card purchase spend per month and category, and the category's share of the month's spend.
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

final as (

    select
        report_month,
        category,
        {{ to_money('spend') }} as spend_pen,
        n_purchases,
        {{ safe_ratio('spend', 'sum(spend) over (partition by report_month)') }} as share_of_month
    from by_category

)

select * from final
