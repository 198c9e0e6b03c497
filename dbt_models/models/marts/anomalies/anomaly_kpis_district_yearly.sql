-- Anomaly KPIs per year and district, rolled up from anomaly_kpis_district_monthly (full rebuild, so
-- a year covers every month loaded so far; n_months says how many).
with

monthly as (

    select * from {{ ref('anomaly_kpis_district_monthly') }}

),

final as (

    select
        year(report_month) as report_year,
        district, zone,
        count(distinct report_month) as n_months,
        cast(sum(n_purchases) as bigint) as n_purchases,
        cast(sum(n_anomalies) as bigint) as n_anomalies,
        {{ safe_ratio('sum(n_anomalies)', 'sum(n_purchases)') }} as anomaly_rate,
        {{ to_money('sum(purchase_amount_pen)') }} as purchase_amount_pen,
        {{ to_money('sum(anomalous_amount_pen)') }} as anomalous_amount_pen
    from monthly
    group by year(report_month), district, zone

)

select * from final
