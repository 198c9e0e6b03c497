-- District -> zone map taken from the branch network (reference data).
-- A district whose branches disagree on the zone keeps the alphabetically first one; the
-- n_zones test in the yml fails loudly if that ever happens.
with

branches as (

    select * from {{ ref('stg_silver__branches') }}

),

district_zones as (

    select
        district,
        min(zone) as zone,
        count(distinct zone) as n_zones
    from branches
    group by district

)

select * from district_zones
