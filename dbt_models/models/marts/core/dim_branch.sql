with

branches as (

    select * from {{ ref('stg_silver__branches') }}

),

final as (

    select
        branch_id,
        branch_name,
        branch_type,
        district,
        zone,
        latitude,
        longitude
    from branches

)

select * from final
