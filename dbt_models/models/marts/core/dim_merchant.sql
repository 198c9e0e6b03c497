-- Merchant dimension, SCD type 2 maintained month by month from the monthly merchant snapshots
-- (reference data; see the scd2_monthly macro). Tracked: name, category, MCC, district.
-- The district's zone is in int_district_zones (from the branch network of the same month).
{% set scd2 = {'key': 'merchant_id', 'surrogate_key': 'merchant_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'reads_months_before': {'stg_silver__merchants': 1}, 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__merchants',
    scd2.key,
    ['merchant_name', 'category', 'mcc', 'district'],
    [],
    scd2.surrogate_key
) }}
