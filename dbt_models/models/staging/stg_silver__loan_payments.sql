{{ config(meta={'partition_column': 'due_month'}) }}

with

source as (

    select * from {{ source('silver', 'loan_payments') }}

),

renamed as (

    select

        -- ids
        payment_id,
        loan_id,

        -- attributes
        currency,
        -- how silver found the loan: VALID, or QUARANTINED (the loan's row was quarantined)
        _loan_id_parent as loan_parent_status,

        -- numerics
        instalment_no,
        amount_due,
        amount_paid,
        amount_due_pen,
        amount_paid_pen,
        days_past_due,

        -- dates
        due_date,
        paid_date,
        cast(date_trunc('month', due_date) as date) as due_month

    from source

)

select * from renamed
