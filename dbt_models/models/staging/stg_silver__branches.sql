with

source as (

    select * from {{ source('silver', 'branches') }}

),

renamed as (

    select

        -- ids
        branch_id,

        -- attributes
        branch_name,
        branch_type,
        district,
        zone,

        -- numerics
        latitude,
        longitude

    from source

)

select * from renamed
