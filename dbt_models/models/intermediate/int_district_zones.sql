{{ config(meta={'partition_column': 'snapshot_month'}) }}

-- District -> zone map per month, taken from that month's branch network (reference data).
-- A district whose branches disagree on the zone keeps the alphabetically first one; the
-- n_zones test in the yml fails loudly if that ever happens.
with

branches as (

    select * from {{ ref('stg_silver__branches') }}

),

district_zones as (

    select
        snapshot_month,
        district,
        min(zone) as zone,
        count(distinct zone) as n_zones
    from branches
    group by snapshot_month, district

)

select * from district_zones
