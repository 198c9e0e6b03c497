{{ config(meta={'partition_column': 'snapshot_month'}) }}

with

source as (

    select * from {{ source('silver', 'accounts') }}

),

renamed as (

    select

        -- ids
        account_id,
        customer_id,
        branch_id,

        -- attributes
        product,
        currency,
        status,
        -- how silver found the customer and branch: VALID, QUARANTINED, EARLIER_MONTH
        _customer_id_parent as customer_parent_status,
        _branch_id_parent as branch_parent_status,

        -- numerics (account currency, then PEN)
        credit_limit,
        balance,
        credit_limit_pen,
        balance_pen,

        -- dates
        opened_date,
        closed_date,
        snapshot_date,
        cast(date_trunc('month', snapshot_date) as date) as snapshot_month

    from source

)

select * from renamed
