{{ config(meta={'partition_column': 'indicator_month'}) }}

with

source as (

    select * from {{ source('silver', 'economic_indicators') }}

),

renamed as (

    select

        -- numerics (fractions, DECIMAL(18,6): 0.0525 = 5.25 %; usd_pen_avg in PEN per USD)
        policy_rate,
        inflation_yoy,
        unemployment_rate,
        usd_pen_avg,

        -- dates
        indicator_date,
        cast(date_trunc('month', indicator_date) as date) as indicator_month

    from source

)

select * from renamed
