{{ config(meta={'partition_column': 'milestone_month'}) }}

with

source as (

    select * from {{ source('silver', 'fraud_alerts') }}

),

renamed as (

    select

        -- ids
        alert_id,
        transaction_id,
        analyst_id,

        -- attributes
        rule_code,
        milestone,
        outcome,
        -- how silver found the purchase: VALID, QUARANTINED (the transaction's row was quarantined)
        _transaction_id_parent as transaction_parent_status,

        -- timestamps
        milestone_ts,
        cast(milestone_ts as date) as milestone_date,
        cast(date_trunc('month', milestone_ts) as date) as milestone_month

    from source

)

select * from renamed
