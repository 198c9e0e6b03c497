{{ config(meta={'partition_column': 'snapshot_month'}) }}

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
        longitude,

        -- dates
        _partition_month as snapshot_month

    from source

)

select * from renamed
