-- Anomaly KPIs per month and customer's district of residence (and its zone) in that month's
-- snapshot (macros/anomaly_kpis_monthly.sql).
{{ config(meta={'partition_column': 'report_month'}) }}

{{ anomaly_kpis_monthly(['district', 'zone']) }}
