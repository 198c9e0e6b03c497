-- Customer dimension, SCD type 2 built from the monthly CRM snapshots (gaps and islands).
-- Ordered by month, a snapshot opens a new version when any tracked attribute differs from the
-- customer's previous snapshot: segment, address (district, city, address_hash), income band,
-- employment status or status. A value that changes back opens yet another version.
-- valid_from = first snapshot month of the version, valid_to = valid_from of the next version
-- (NULL for the current one): the version is valid for months in [valid_from, valid_to).
-- Non-tracked attributes (national_id_hash, signup_date, birth year) come from the version's
-- latest snapshot. Built from all snapshots in silver (not windowed), so history is never cut.
{% set tracked = ['segment', 'district', 'city', 'address_hash', 'income_band', 'employment_status', 'status'] %}

with

snapshots as (

    select * from {{ ref('stg_silver__customers') }}

),

flagged as (

    select
        *,
        case
            when lag(snapshot_month) over by_month is null then 1
            when {{ scd2_changed(tracked, 'by_month') }} then 1
            else 0
        end as starts_version
    from snapshots
    window by_month as (partition by customer_id order by snapshot_month)

),

numbered as (

    select
        *,
        sum(starts_version) over (
            partition by customer_id order by snapshot_month rows unbounded preceding
        ) as version_no
    from flagged

),

versions as (

    select
        customer_id,
        version_no,
        {%- for column in tracked %}
        arg_min({{ column }}, snapshot_month) as {{ column }},
        {%- endfor %}
        arg_max(national_id_hash, snapshot_month) as national_id_hash,
        arg_max(signup_date, snapshot_month) as signup_date,
        year(arg_max(birth_date, snapshot_month)) as birth_year,
        min(snapshot_month) as valid_from,
        max(snapshot_month) as last_snapshot_month,
        count(*) as n_snapshots
    from numbered
    group by customer_id, version_no

),

final as (

    select
        -- ids
        {{ surrogate_key(['customer_id', 'valid_from']) }} as customer_sk,
        customer_id,
        national_id_hash,

        -- attributes
        segment,
        income_band,
        employment_status,
        status,
        district,
        city,
        address_hash,
        birth_year,

        -- dates
        signup_date,
        valid_from,
        lead(valid_from) over (partition by customer_id order by valid_from) as valid_to,
        lead(valid_from) over (partition by customer_id order by valid_from) is null as is_current,
        last_snapshot_month,
        version_no,
        n_snapshots

    from versions

)

select * from final
