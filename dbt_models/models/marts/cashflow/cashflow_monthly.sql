-- Bank-wide cash flow per month: inflow = credits, outflow = debits (amount_pen, always
-- positive), net = inflow - outflow.
{{ config(meta={'partition_column': 'report_month'}) }}

with

transactions as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}

),

monthly as (

    select
        transaction_month as report_month,
        count(*) as n_transactions,
        count(*) filter (where direction = 'CREDIT') as n_credits,
        count(*) filter (where direction = 'DEBIT') as n_debits,
        coalesce(sum(amount_pen) filter (where direction = 'CREDIT'), 0) as inflow,
        coalesce(sum(amount_pen) filter (where direction = 'DEBIT'), 0) as outflow
    from transactions
    group by transaction_month

),

final as (

    select
        report_month,
        {{ to_money('inflow') }} as inflow_pen,
        {{ to_money('outflow') }} as outflow_pen,
        {{ to_money('inflow - outflow') }} as net_pen,
        n_transactions,
        n_credits,
        n_debits
    from monthly

)

select * from final
