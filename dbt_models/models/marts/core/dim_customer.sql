-- Customer dimension, SCD type 2 maintained month by month from the monthly CRM snapshots
-- (see the scd2_monthly macro). Tracked: segment, address (district, city, address_hash), income
-- band, employment status, status. A customer absent from the previous month's snapshot (new, or
-- back after a gap) also opens a version. Carried from the version's first snapshot:
-- national_id_hash, signup_date, birth_year. A version is valid for the months in [valid_from, valid_to).
{% set scd2 = {'key': 'customer_id', 'surrogate_key': 'customer_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__customers',
    scd2.key,
    ['segment', 'district', 'city', 'address_hash', 'income_band', 'employment_status', 'status'],
    ['national_id_hash', 'signup_date', 'birth_year'],
    scd2.surrogate_key
) }}
