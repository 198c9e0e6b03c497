{{ config(meta={'partition_column': 'month_without_previous_month', 'dagster': {'ref': {'name': 'dim_customer'}}}) }}
-- depends_on: {{ ref('dim_customer') }}
-- Months are built in order: the SCD2 dimensions compare a month's snapshot with the month
-- before, and the periodic snapshots read trailing months. A month of the window whose previous
-- month is missing from silver while an even earlier month is there (a gap: the month before was
-- never loaded, or loaded later) fails here, instead of silently opening a version for every
-- customer. Load the missing month, then re-materialize the months after it.
with

loaded as (

    select distinct snapshot_month from {{ ref('stg_silver__customers') }}

),

window_months as (

    select snapshot_month from loaded
    where {{ month_in_window('snapshot_month') }}

)

select window_months.snapshot_month as month_without_previous_month
from window_months
where not exists (
        select 1 from loaded
        where loaded.snapshot_month = cast(window_months.snapshot_month - interval 1 month as date)
    )
  and exists (
        select 1 from loaded
        where loaded.snapshot_month < window_months.snapshot_month
    )
