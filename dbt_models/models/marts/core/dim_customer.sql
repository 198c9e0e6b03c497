-- Customer dimension, SCD type 2 maintained month by month from the monthly CRM snapshots
-- (see the scd2_monthly macro). Tracked: segment, address (district, city, address_hash), income
-- band, employment status, status, and who the customer is: national_id_hash, signup_date,
-- birth_year (a customer number reused for another person opens a version instead of keeping the
-- first person's; silver's identity_stable rule names it). The name never reaches gold: there the
-- silver rule is the only signal. A customer absent from the previous month's snapshot (new, or
-- back after a gap) also opens a version. A version is valid for the months in [valid_from, valid_to).
{% set scd2 = {'key': 'customer_id', 'surrogate_key': 'customer_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'reads_months_before': {'stg_silver__customers': 1}, 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__customers',
    scd2.key,
    ['segment', 'district', 'city', 'address_hash', 'income_band', 'employment_status', 'status',
     'national_id_hash', 'signup_date', 'birth_year'],
    [],
    scd2.surrogate_key
) }}
