-- Executive KPIs, one row per month: the headline figures of the dashboard that no other mart
-- holds per month (customers, churn-risk bands, the overall anomaly rate) beside the month's
-- cash flow, non-performing ratio and liquidity coverage, so the consumption layer reads every
-- number from gold and computes none. The month's customers are those of customer_360 (the
-- as-of month's CRM snapshot); risk bands come from churn_risk (one row per such customer).
{{ config(meta={'partition_column': 'report_month'}) }}

with

customers as (

    select
        as_of_month as report_month,
        count(*) as n_customers,
        count(*) filter (where status = 'ACTIVE') as n_active_customers,
        count(*) filter (where churn_flag) as n_churned_customers,
        count(*) filter (where signup_date >= as_of_month) as n_new_customers
    from {{ ref('customer_360') }}
    where {{ in_window('as_of_month') }}
    group by as_of_month

),

risk as (

    select
        as_of_month as report_month,
        count(*) as n_scored,
        count(*) filter (where risk_band = 'HIGH') as n_risk_high,
        count(*) filter (where risk_band = 'MEDIUM') as n_risk_medium,
        count(*) filter (where risk_band = 'LOW') as n_risk_low
    from {{ ref('churn_risk') }}
    where {{ in_window('as_of_month') }}
    group by as_of_month

),

cashflow as (

    select * from {{ ref('cashflow_monthly') }}
    where {{ in_window('report_month') }}

),

anomalies as (

    select
        report_month,
        cast(sum(n_purchases) as bigint) as n_purchases,
        cast(sum(n_anomalies) as bigint) as n_anomalies
    from {{ ref('anomaly_rate_monthly') }}
    where {{ in_window('report_month') }}
    group by report_month

),

loans as (

    select * from {{ ref('loan_portfolio_monthly') }}
    where {{ in_window('report_month') }}

),

liquidity as (

    select * from {{ ref('liquidity_monthly') }}
    where {{ in_window('report_month') }}

),

final as (

    select
        customers.report_month,
        -- customers
        customers.n_customers,
        customers.n_active_customers,
        customers.n_churned_customers,
        customers.n_new_customers,
        coalesce(risk.n_risk_high, 0) as n_risk_high,
        coalesce(risk.n_risk_medium, 0) as n_risk_medium,
        coalesce(risk.n_risk_low, 0) as n_risk_low,
        {{ ratio('coalesce(risk.n_risk_high, 0)', 'risk.n_scored') }} as high_risk_share,
        -- cash flow
        coalesce(cashflow.n_transactions, 0) as n_transactions,
        coalesce(cashflow.inflow_pen, 0) as inflow_pen,
        coalesce(cashflow.outflow_pen, 0) as outflow_pen,
        coalesce(cashflow.net_pen, 0) as net_pen,
        -- anomalies
        coalesce(anomalies.n_purchases, 0) as n_purchases,
        coalesce(anomalies.n_anomalies, 0) as n_anomalies,
        {{ ratio('anomalies.n_anomalies', 'anomalies.n_purchases') }} as anomaly_rate,
        -- credit and liquidity
        loans.non_performing_ratio,
        liquidity.coverage_ratio
    from customers
    left join risk on customers.report_month = risk.report_month
    left join cashflow on customers.report_month = cashflow.report_month
    left join anomalies on customers.report_month = anomalies.report_month
    left join loans on customers.report_month = loans.report_month
    left join liquidity on customers.report_month = liquidity.report_month

)

select * from final
