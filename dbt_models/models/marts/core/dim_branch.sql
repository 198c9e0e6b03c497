-- Branch and ATM dimension, SCD type 2 maintained month by month from the monthly branch
-- snapshots (reference data; see the scd2_monthly macro). Tracked: every attribute.
{{ config(meta={'partition_column': 'valid_from'}, post_hook="{{ scd2_close_versions('branch_id', 'branch_sk') }}") }}

{{ scd2_monthly(
    'stg_silver__branches',
    'branch_id',
    ['branch_name', 'branch_type', 'district', 'zone', 'latitude', 'longitude'],
    [],
    'branch_sk'
) }}
