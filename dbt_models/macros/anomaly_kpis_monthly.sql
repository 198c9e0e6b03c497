{#-
    Monthly anomaly KPIs of the window per `dimensions` of the customer's residence in the
    transaction month's snapshot (['district', 'zone'] or ['zone']). n_purchases counts every card
    purchase (including those of (month, segment) groups below the 30-purchase minimum, which are
    never anomalous); anomaly_rate = n_anomalies / n_purchases (exact, rounded half away from zero
    to 6 decimals: the ratio macro, macros/money.sql). The year-to-date pair is
    anomaly_kpis_year_to_date (macros/year_to_date.sql).
-#}
{% macro anomaly_kpis_monthly(dimensions) -%}
with

purchases as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}
      and txn_type = 'PURCHASE'

),

anomalies as (

    select * from {{ ref('transaction_anomalies') }}
    where {{ in_window('transaction_ts') }}

),

purchase_counts as (

    select
        transaction_month,
        {{ dimensions | join(', ') }},
        count(*) as n_purchases,
        sum(amount_pen) as purchase_amount
    from purchases
    group by transaction_month, {{ dimensions | join(', ') }}

),

anomaly_counts as (

    select
        transaction_month,
        {{ dimensions | join(', ') }},
        count(*) as n_anomalies,
        sum(amount_pen) as anomalous_amount
    from anomalies
    group by transaction_month, {{ dimensions | join(', ') }}

),

final as (

    select
        purchase_counts.transaction_month as report_month,
        {%- for dimension in dimensions %}
        purchase_counts.{{ dimension }},
        {%- endfor %}
        purchase_counts.n_purchases,
        coalesce(anomaly_counts.n_anomalies, 0) as n_anomalies,
        {{ ratio('coalesce(anomaly_counts.n_anomalies, 0)', 'purchase_counts.n_purchases') }} as anomaly_rate,
        {{ to_money('purchase_counts.purchase_amount') }} as purchase_amount_pen,
        {{ to_money('coalesce(anomaly_counts.anomalous_amount, 0)') }} as anomalous_amount_pen
    from purchase_counts
    left join anomaly_counts
        on purchase_counts.transaction_month = anomaly_counts.transaction_month
        {%- for dimension in dimensions %}
        and purchase_counts.{{ dimension }} is not distinct from anomaly_counts.{{ dimension }}
        {%- endfor %}

)

select * from final
{%- endmacro %}
