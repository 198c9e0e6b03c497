-- Branch and ATM dimension, SCD type 2 maintained month by month from the monthly branch
-- snapshots (reference data; see the scd2_monthly macro). Tracked: every attribute.
{% set scd2 = {'key': 'branch_id', 'surrogate_key': 'branch_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'reads_months_before': {'stg_silver__branches': 1}, 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__branches',
    scd2.key,
    ['branch_name', 'branch_type', 'district', 'zone', 'latitude', 'longitude'],
    [],
    scd2.surrogate_key
) }}
