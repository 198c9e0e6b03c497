{{ config(meta={'partition_column': 'rate_month'}) }}

with

source as (

    select * from {{ source('silver', 'fx_rates') }}

),

renamed as (

    select

        -- attributes
        currency,

        -- numerics
        rate_to_pen,

        -- dates
        rate_date,
        cast(date_trunc('month', rate_date) as date) as rate_month

    from source

)

select * from renamed
