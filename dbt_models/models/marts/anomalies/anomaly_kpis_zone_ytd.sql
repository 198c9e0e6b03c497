-- Anomaly KPIs per zone, year to date: the row of report_month M sums the monthly KPIs of
-- M's year up to and including M (n_months says how many months were loaded). Built month by
-- month from anomaly_kpis_zone_monthly; a month reads at most the 12 months of its year.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='report_month',
        on_schema_change='fail',
        pre_hook="{{ delete_window('report_month') }}",
        meta={'partition_column': 'report_month'}
    )
}}

with

months as (

    select distinct report_month
    from {{ ref('anomaly_kpis_zone_monthly') }}
    where {{ month_in_window('report_month') }}

),

monthly as (

    select * from {{ ref('anomaly_kpis_zone_monthly') }}
    where report_month >= cast(date_trunc('year', cast('{{ window_min() }}' as date)) as date)
      and report_month < cast('{{ window_max() }}' as date)

),

final as (

    select
        months.report_month,
        year(months.report_month) as report_year,
        monthly.zone,
        count(distinct monthly.report_month) as n_months,
        cast(sum(monthly.n_purchases) as bigint) as n_purchases,
        cast(sum(monthly.n_anomalies) as bigint) as n_anomalies,
        {{ safe_ratio('sum(monthly.n_anomalies)', 'sum(monthly.n_purchases)') }} as anomaly_rate,
        {{ to_money('sum(monthly.purchase_amount_pen)') }} as purchase_amount_pen,
        {{ to_money('sum(monthly.anomalous_amount_pen)') }} as anomalous_amount_pen
    from months
    inner join monthly
        on year(monthly.report_month) = year(months.report_month)
        and monthly.report_month <= months.report_month
    group by months.report_month, monthly.zone

)

select * from final
