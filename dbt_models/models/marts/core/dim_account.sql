-- Account dimension, SCD type 2 maintained month by month from the monthly account snapshots
-- (see the scd2_monthly macro). Tracked: product, status, credit_limit (in the account currency,
-- so exchange-rate moves do not open versions), branch_id, currency. Carried from the version's
-- first snapshot: customer_id, opened_date, closed_date.
{{ config(meta={'partition_column': 'valid_from'}, post_hook="{{ scd2_close_versions('account_id', 'account_sk') }}") }}

{{ scd2_monthly(
    'stg_silver__accounts',
    'account_id',
    ['product', 'status', 'credit_limit', 'branch_id', 'currency'],
    ['customer_id', 'opened_date', 'closed_date'],
    'account_sk'
) }}
