{{ config(meta={'partition_column': 'origination_month'}) }}

with

source as (

    select * from {{ source('silver', 'loans') }}

),

renamed as (

    select

        -- ids
        loan_id,
        customer_id,

        -- attributes
        product as loan_product,
        currency,

        -- numerics
        principal,
        instalment,
        principal_pen,
        instalment_pen,
        annual_rate,
        term_months,

        -- dates
        origination_date,
        cast(date_trunc('month', origination_date) as date) as origination_month

    from source

)

select * from renamed
