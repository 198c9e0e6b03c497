-- Cash flow per month and transaction category (credits in, debits out).
{{ config(meta={'partition_column': 'report_month'}) }}

with

transactions as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}

),

monthly as (

    select
        transaction_month as report_month,
        category,
        count(*) as n_transactions,
        coalesce(sum(amount_pen) filter (where direction = 'CREDIT'), 0) as inflow,
        coalesce(sum(amount_pen) filter (where direction = 'DEBIT'), 0) as outflow
    from transactions
    group by transaction_month, category

),

final as (

    select
        report_month,
        category,
        {{ to_money('inflow') }} as inflow_pen,
        {{ to_money('outflow') }} as outflow_pen,
        {{ to_money('inflow - outflow') }} as net_pen,
        n_transactions
    from monthly

)

select * from final
