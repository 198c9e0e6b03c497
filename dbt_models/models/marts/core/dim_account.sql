-- Account dimension, SCD type 2 maintained month by month from the monthly account snapshots
-- (see the scd2_monthly macro). Tracked: product, status, credit_limit (in the account currency,
-- so exchange-rate moves do not open versions), branch_id, currency. Carried from the version's
-- first snapshot: customer_id, opened_date, closed_date.
{% set scd2 = {'key': 'account_id', 'surrogate_key': 'account_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'reads_months_before': {'stg_silver__accounts': 1}, 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__accounts',
    scd2.key,
    ['product', 'status', 'credit_limit', 'branch_id', 'currency'],
    ['customer_id', 'opened_date', 'closed_date'],
    scd2.surrogate_key
) }}
