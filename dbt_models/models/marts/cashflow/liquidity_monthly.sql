-- Liquidity per month: liquid balances (positive month-end balance_pen of CHECKING and SAVINGS
-- accounts, any status) against the month's outflow (all debits), coverage = liquid / outflow
-- (NULL when there is no outflow), exact and rounded half away from zero to 6 decimals (the ratio
-- macro, macros/money.sql). Months with only one side show 0 on the other.
{{ config(meta={'partition_column': 'report_month'}) }}

with

balances as (

    select * from {{ ref('fct_account_balance_monthly') }}
    where {{ in_window('snapshot_date') }}

),

transactions as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}

),

liquid as (

    select
        snapshot_month as report_month,
        sum(balance_pen) as liquid_balances
    from balances
    where product in ('CHECKING', 'SAVINGS')
      and balance_pen > 0
    group by snapshot_month

),

outflow as (

    select
        transaction_month as report_month,
        sum(amount_pen) as outflow
    from transactions
    where direction = 'DEBIT'
    group by transaction_month

),

final as (

    select
        coalesce(liquid.report_month, outflow.report_month) as report_month,
        {{ to_money('coalesce(liquid.liquid_balances, 0)') }} as liquid_balances_pen,
        {{ to_money('coalesce(outflow.outflow, 0)') }} as outflow_pen,
        {{ ratio('coalesce(liquid.liquid_balances, 0)', 'outflow.outflow') }} as coverage_ratio
    from liquid
    full outer join outflow on liquid.report_month = outflow.report_month

)

select * from final
