-- Merchant dimension, SCD type 2 maintained month by month from the monthly merchant snapshots
-- (reference data; see the scd2_monthly macro). Tracked: name, category, MCC, district.
-- The district's zone is in int_district_zones (from the branch network of the same month).
{{ config(meta={'partition_column': 'valid_from'}, post_hook="{{ scd2_close_versions('merchant_id', 'merchant_sk') }}") }}

{{ scd2_monthly(
    'stg_silver__merchants',
    'merchant_id',
    ['merchant_name', 'category', 'mcc', 'district'],
    [],
    'merchant_sk'
) }}
