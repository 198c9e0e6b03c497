-- Anomaly KPIs per district (and its zone), year to date: the row of report_month M sums the
-- monthly KPIs of M's year up to and including M (n_months says how many months were loaded).
-- Built month by month from anomaly_kpis_district_monthly (macros/year_to_date.sql).
{{ config(meta={'partition_column': 'report_month', 'reads_months_before': {'anomaly_kpis_district_monthly': 11}}) }}

{{ anomaly_kpis_year_to_date('anomaly_kpis_district_monthly', ['district', 'zone']) }}
