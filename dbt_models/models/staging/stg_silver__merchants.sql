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
        district

    from source

)

select * from renamed
