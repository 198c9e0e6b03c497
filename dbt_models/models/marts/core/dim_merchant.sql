with

merchants as (

    select * from {{ ref('stg_silver__merchants') }}

),

district_zones as (

    select * from {{ ref('int_district_zones') }}

),

final as (

    select
        merchants.merchant_id,
        merchants.merchant_name,
        merchants.category,
        merchants.mcc,
        merchants.district,
        district_zones.zone
    from merchants
    left join district_zones on merchants.district = district_zones.district

)

select * from final
