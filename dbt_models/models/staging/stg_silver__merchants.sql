{{ config(meta={'partition_column': 'snapshot_month'}) }}

with

source as (

    select * from {{ source('silver', 'merchants') }}

),

renamed as (

    select

        -- ids
        merchant_id,

        -- attributes
        merchant_name,
        category,
        mcc,
        district,

        -- dates
        _partition_month as snapshot_month

    from source

)

select * from renamed
