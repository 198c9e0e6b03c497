{{ config(meta={'partition_column': 'assignment_month'}) }}

-- contact_note stops here: free text typed by the contact centre, it may hold personal data
-- (names, phone numbers) that the contract cannot vouch for, so it never reaches gold.
with

source as (

    select * from {{ source('silver', 'campaign_targets') }}

),

renamed as (

    select

        -- ids
        target_id,
        campaign_id,
        customer_id,

        -- attributes
        arm,
        -- how silver found the campaign and the customer: VALID, QUARANTINED, EARLIER_MONTH
        _campaign_id_parent as campaign_parent_status,
        _customer_id_parent as customer_parent_status,

        -- dates
        assigned_date,
        cast(date_trunc('month', assigned_date) as date) as assignment_month

    from source

)

select * from renamed
