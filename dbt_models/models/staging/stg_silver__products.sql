{{ config(meta={'partition_column': 'snapshot_month'}) }}

with

source as (

    select * from {{ source('silver', 'products') }}

),

renamed as (

    select

        -- ids
        product_code,

        -- attributes
        product_name,
        product_family,

        -- numerics (monthly_fee is in PEN by contract)
        annual_rate,
        monthly_fee as monthly_fee_pen,
        max_term_months,

        -- dates
        _partition_month as snapshot_month

    from source

)

select * from renamed
