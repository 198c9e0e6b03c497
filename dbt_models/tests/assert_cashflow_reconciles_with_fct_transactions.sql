{{ config(meta={'partition_column': 'report_month', 'dagster': {'ref': {'name': 'cashflow_monthly'}}}) }}
-- cashflow_monthly, cashflow_by_category_monthly and fct_transactions agree month by month
-- (same months, same totals). Returns the months that disagree.
with

facts as (

    select
        transaction_month as report_month,
        sum(amount_pen) filter (where direction = 'CREDIT') as inflow_pen,
        sum(amount_pen) filter (where direction = 'DEBIT') as outflow_pen,
        count(*) as n_transactions
    from {{ ref('fct_transactions') }}
    where {{ month_in_window('transaction_month') }}
    group by transaction_month

),

by_category as (

    select
        report_month,
        sum(inflow_pen) as inflow_pen,
        sum(outflow_pen) as outflow_pen,
        sum(n_transactions) as n_transactions
    from {{ ref('cashflow_by_category_monthly') }}
    where {{ month_in_window('report_month') }}
    group by report_month

),

monthly as (

    select * from {{ ref('cashflow_monthly') }}
    where {{ month_in_window('report_month') }}

)

select
    coalesce(facts.report_month, monthly.report_month, by_category.report_month) as report_month,
    facts.inflow_pen as fact_inflow,
    monthly.inflow_pen as mart_inflow,
    by_category.inflow_pen as category_inflow,
    facts.outflow_pen as fact_outflow,
    monthly.outflow_pen as mart_outflow,
    by_category.outflow_pen as category_outflow
from facts
full outer join monthly on facts.report_month = monthly.report_month
full outer join by_category on coalesce(facts.report_month, monthly.report_month) = by_category.report_month
where facts.inflow_pen is distinct from monthly.inflow_pen
   or facts.outflow_pen is distinct from monthly.outflow_pen
   or facts.n_transactions is distinct from monthly.n_transactions
   or by_category.inflow_pen is distinct from monthly.inflow_pen
   or by_category.outflow_pen is distinct from monthly.outflow_pen
   or by_category.n_transactions is distinct from monthly.n_transactions
