-- Campaign dimension, SCD type 2 maintained month by month from the monthly campaign snapshots
-- (reference data, like dim_merchant and dim_branch; see the scd2_monthly macro). Tracked: every
-- attribute, so a re-planned window, share or cost opens a version. end_date is the first day
-- after the campaign: it runs on [start_date, end_date). cost_per_contact_pen is in PEN.
{% set scd2 = {'key': 'campaign_id', 'surrogate_key': 'campaign_sk'} %}
{{ config(meta={'partition_column': 'valid_from', 'reads_months_before': {'stg_silver__campaigns': 1}, 'scd2': scd2}, post_hook="{{ scd2_close_versions() }}") }}

{{ scd2_monthly(
    'stg_silver__campaigns',
    scd2.key,
    ['campaign_name', 'channel', 'offer', 'target_segment', 'start_date', 'end_date', 'treatment_share',
     'cost_per_contact_pen'],
    [],
    scd2.surrogate_key
) }}
