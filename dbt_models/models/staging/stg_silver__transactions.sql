{{ config(meta={'partition_column': 'transaction_month'}) }}

with

source as (

    select * from {{ source('silver', 'transactions') }}

),

renamed as (

    select

        -- ids
        transaction_id,
        account_id,
        merchant_id,
        counterparty_id,

        -- attributes
        txn_type,
        category,
        direction,
        channel,
        currency,
        -- how the account and merchant were found in silver: VALID, QUARANTINED (the parent's row
        -- was quarantined this month), EARLIER_MONTH (seen only in earlier months)
        _account_id_parent as account_parent_status,
        _merchant_id_parent as merchant_parent_status,

        -- numerics (absolute amounts; the sign is in `direction`)
        amount,
        amount_pen,
        case when direction = 'CREDIT' then amount_pen else -amount_pen end as signed_amount_pen,

        -- timestamps
        transaction_ts,
        cast(transaction_ts as date) as transaction_date,
        cast(date_trunc('month', transaction_ts) as date) as transaction_month

    from source

)

select * from renamed
