{{ config(meta={'partition_column': 'snapshot_month'}) }}

with

source as (

    select * from {{ source('silver', 'campaigns') }}

),

renamed as (

    select

        -- ids
        campaign_id,

        -- attributes
        campaign_name,
        channel,
        offer,
        target_segment,

        -- numerics (cost_per_contact is in PEN by contract)
        treatment_share,
        cost_per_contact as cost_per_contact_pen,

        -- dates (end_date is the first day after the campaign: half-open window)
        start_date,
        end_date,
        _partition_month as snapshot_month

    from source

)

select * from renamed
