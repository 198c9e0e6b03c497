{{ config(meta={'partition_column': 'event_month'}) }}

with

source as (

    select * from {{ source('silver', 'account_events') }}

),

renamed as (

    select

        -- ids
        event_id,
        account_id,

        -- attributes
        event_type,
        status_before,
        status_after,
        closure_reason,
        -- how silver found the account: VALID, QUARANTINED, EARLIER_MONTH
        _account_id_parent as account_parent_status,

        -- numerics (PEN)
        limit_before,
        limit_after,

        -- dates
        event_date,
        cast(date_trunc('month', event_date) as date) as event_month

    from source

)

select * from renamed
