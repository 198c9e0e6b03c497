-- Deposits per month and region of the account's home branch: CHECKING, SAVINGS and
-- TERM_DEPOSIT accounts with a positive month-end balance, any status: n_accounts, total_balance_pen
-- = sum(balance_pen) and avg_balance_pen = sum(balance_pen) / n_accounts, exact and rounded half
-- away from zero to cents (money_div, macros/money.sql; not avg(), which is DOUBLE in DuckDB).
{{ config(meta={'partition_column': 'report_month'}) }}

with

balances as (

    select * from {{ ref('fct_account_balance_monthly') }}
    where {{ in_window('snapshot_date') }}
      and product in ('CHECKING', 'SAVINGS', 'TERM_DEPOSIT')
      and balance_pen > 0

),

final as (

    select
        snapshot_month as report_month,
        branch_district as district,
        branch_zone as zone,
        count(*) as n_accounts,
        {{ to_money('sum(balance_pen)') }} as total_balance_pen,
        {{ money_div('sum(balance_pen)', 'count(*)') }} as avg_balance_pen
    from balances
    group by snapshot_month, branch_district, branch_zone

)

select * from final
