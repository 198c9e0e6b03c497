{{ config(meta={'partition_column': 'report_month', 'dagster': {'ref': {'name': 'transaction_anomalies'}}}) }}
-- Checked for the months of the window. The anomaly marts count the same purchases and anomalies per month: transaction_anomalies,
-- anomaly_rate_monthly (by segment), the district and zone KPIs, and fct_transactions.
with

facts as (

    select transaction_month as report_month, count(*) as n_purchases
    from {{ ref('fct_transactions') }}
    where txn_type = 'PURCHASE' and {{ month_in_window('transaction_month') }}
    group by transaction_month

),

anomalies as (

    select transaction_month as report_month, count(*) as n_anomalies
    from {{ ref('transaction_anomalies') }}
    where {{ month_in_window('transaction_month') }}
    group by transaction_month

),

{% set marts = ['anomaly_rate_monthly', 'anomaly_kpis_district_monthly', 'anomaly_kpis_zone_monthly'] %}
{% for mart in marts %}
{{ mart }} as (

    select report_month, sum(n_purchases) as n_purchases, sum(n_anomalies) as n_anomalies
    from {{ ref(mart) }}
    where {{ month_in_window('report_month') }}
    group by report_month

),
{% endfor %}

months as (

    select report_month from facts
    {%- for mart in marts %}
    union
    select report_month from {{ mart }}
    {%- endfor %}

)

select months.report_month
from months
left join facts on months.report_month = facts.report_month
left join anomalies on months.report_month = anomalies.report_month
{%- for mart in marts %}
left join {{ mart }} on months.report_month = {{ mart }}.report_month
{%- endfor %}
where false
{%- for mart in marts %}
   or {{ mart }}.n_purchases is distinct from facts.n_purchases
   or {{ mart }}.n_anomalies is distinct from coalesce(anomalies.n_anomalies, 0)
{%- endfor %}
