-- Account dimension, SCD type 2 from the monthly account snapshots (same gaps-and-islands
-- logic as dim_customer). Tracked: product, status, credit_limit (in the account currency, so
-- exchange-rate moves do not open versions), branch_id, currency. customer_id, opened_date and
-- closed_date come from the version's latest snapshot. Not windowed.
{% set tracked = ['product', 'status', 'credit_limit', 'branch_id', 'currency'] %}

with

snapshots as (

    select * from {{ ref('stg_silver__accounts') }}

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
    window by_month as (partition by account_id order by snapshot_month)

),

numbered as (

    select
        *,
        sum(starts_version) over (
            partition by account_id order by snapshot_month rows unbounded preceding
        ) as version_no
    from flagged

),

versions as (

    select
        account_id,
        version_no,
        {%- for column in tracked %}
        arg_min({{ column }}, snapshot_month) as {{ column }},
        {%- endfor %}
        arg_max(customer_id, snapshot_month) as customer_id,
        arg_max(opened_date, snapshot_month) as opened_date,
        arg_max(closed_date, snapshot_month) as closed_date,
        min(snapshot_month) as valid_from,
        max(snapshot_month) as last_snapshot_month,
        count(*) as n_snapshots
    from numbered
    group by account_id, version_no

),

final as (

    select
        -- ids
        {{ surrogate_key(['account_id', 'valid_from']) }} as account_sk,
        account_id,
        customer_id,
        branch_id,

        -- attributes
        product,
        currency,
        status,

        -- numerics
        credit_limit,

        -- dates
        opened_date,
        closed_date,
        valid_from,
        lead(valid_from) over (partition by account_id order by valid_from) as valid_to,
        lead(valid_from) over (partition by account_id order by valid_from) is null as is_current,
        last_snapshot_month,
        version_no,
        n_snapshots

    from versions

)

select * from final
