-- Anomaly KPIs per month and zone of the customer's district of residence in that month's
-- snapshot (macros/anomaly_kpis_monthly.sql).
{{ config(meta={'partition_column': 'report_month'}) }}

{{ anomaly_kpis_monthly(['zone']) }}
