{{ config(meta={'partition_column': 'application_month'}) }}

with

source as (

    select * from {{ source('silver', 'credit_applications') }}

),

renamed as (

    select

        -- ids
        application_id,
        customer_id,
        loan_id,

        -- attributes
        product,
        currency,
        decision,
        decision_reason,
        -- how silver found the customer and the loan: VALID, QUARANTINED, EARLIER_MONTH (NULL without loan)
        _customer_id_parent as customer_parent_status,
        _loan_id_parent as loan_parent_status,

        -- numerics (requested amount in the application currency, then PEN)
        requested_amount,
        requested_amount_pen,
        term_months,
        credit_score,
        debt_to_income,

        -- dates
        application_date,
        cast(date_trunc('month', application_date) as date) as application_month

    from source

)

select * from renamed
