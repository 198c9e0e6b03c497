{#-
    Year-to-date roll-up of a monthly anomaly KPI mart: the row of report_month M sums the monthly
    rows of M's year up to and including M, per `dimensions` (n_months = months loaded). A month
    reads at most the 12 months of its year, so its cost does not grow with history.
-#}
{% macro anomaly_kpis_year_to_date(monthly_model, dimensions) -%}
with

months as (

    select distinct report_month
    from {{ ref(monthly_model) }}
    where {{ month_in_window('report_month') }}

),

monthly as (

    select * from {{ ref(monthly_model) }}
    where report_month >= cast(date_trunc('year', cast('{{ window_min() }}' as date)) as date)
      and report_month < cast('{{ window_max() }}' as date)

),

final as (

    select
        months.report_month,
        year(months.report_month) as report_year,
        {%- for dimension in dimensions %}
        monthly.{{ dimension }},
        {%- endfor %}
        count(distinct monthly.report_month) as n_months,
        cast(sum(monthly.n_purchases) as bigint) as n_purchases,
        cast(sum(monthly.n_anomalies) as bigint) as n_anomalies,
        {{ ratio('sum(monthly.n_anomalies)', 'sum(monthly.n_purchases)') }} as anomaly_rate,
        {{ to_money('sum(monthly.purchase_amount_pen)') }} as purchase_amount_pen,
        {{ to_money('sum(monthly.anomalous_amount_pen)') }} as anomalous_amount_pen
    from months
    inner join monthly
        on year(monthly.report_month) = year(months.report_month)
        and monthly.report_month <= months.report_month
    group by months.report_month{% for dimension in dimensions %}, monthly.{{ dimension }}{% endfor %}

)

select * from final
{%- endmacro %}
