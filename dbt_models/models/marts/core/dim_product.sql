-- Product dimension, SCD type 2 maintained month by month from the monthly product catalogue
-- snapshots (reference data, like dim_campaign; see the scd2_monthly macro). Tracked: every
-- attribute, so the January and July repricing of deposit and card rates (and of the loans'
-- best-score list rates) opens a version. annual_rate is a fraction, DECIMAL(18,6);
-- monthly_fee_pen is in PEN (by contract), DECIMAL(18,2).
{% set scd2 = {'key': 'product_code', 'surrogate_key': 'product_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'reads_months_before': {'stg_silver__products': 1}, 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__products',
    scd2.key,
    ['product_name', 'product_family', 'annual_rate', 'monthly_fee_pen', 'max_term_months'],
    [],
    scd2.surrogate_key
) }}
