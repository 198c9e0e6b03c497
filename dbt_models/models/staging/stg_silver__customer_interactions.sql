{{ config(meta={'partition_column': 'interaction_month'}) }}

with

source as (

    select * from {{ source('silver', 'customer_interactions') }}

),

renamed as (

    select

        -- ids
        interaction_id,
        customer_id,
        agent_id,

        -- attributes
        channel,
        reason,
        agent_team,
        -- how silver found the customer: VALID, QUARANTINED, EARLIER_MONTH
        _customer_id_parent as customer_parent_status,

        -- numerics
        handle_minutes,
        satisfaction_score,

        -- timestamps
        interaction_ts,
        cast(interaction_ts as date) as interaction_date,
        cast(date_trunc('month', interaction_ts) as date) as interaction_month

    from source

)

select * from renamed
