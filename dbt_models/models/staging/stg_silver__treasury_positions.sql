{{ config(meta={'partition_column': 'snapshot_month'}) }}

with

source as (

    select * from {{ source('silver', 'treasury_positions') }}

),

renamed as (

    select

        -- ids
        position_id,

        -- attributes
        instrument,
        asset_class,
        hqla_level,
        currency,

        -- numerics
        market_value,
        market_value_pen,

        -- booleans
        encumbered = 'YES' as is_encumbered,

        -- dates
        snapshot_date,
        cast(date_trunc('month', snapshot_date) as date) as snapshot_month

    from source

)

select * from renamed
