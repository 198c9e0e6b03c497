-- Loan instalment fact, one row per instalment in its due month, with the loan's terms and the
-- delinquency bucket of the loan's days past due at month end:
-- CURRENT (0), 1-30, 31-60, 61-90, 90+ (more than 90). Incremental by due_month over the
-- window on due_date.
{{ config(meta={'partition_column': 'due_month', 'reads_months_before': {'stg_silver__loans': 'all'}}) }}

with

payments as (

    select * from {{ ref('stg_silver__loan_payments') }}
    where {{ in_window('due_date') }}

),

loans as (

    select * from {{ ref('stg_silver__loans') }}

),

final as (

    select
        -- ids
        payments.payment_id,
        payments.loan_id,
        loans.customer_id,

        -- attributes
        loans.loan_product,
        payments.currency,
        payments.loan_parent_status,
        payments.paid_date is not null as is_paid,
        case
            when payments.days_past_due <= 0 then 'CURRENT'
            when payments.days_past_due <= 30 then '1-30'
            when payments.days_past_due <= 60 then '31-60'
            when payments.days_past_due <= 90 then '61-90'
            else '90+'
        end as delinquency_bucket,

        -- numerics
        payments.instalment_no,
        loans.term_months,
        payments.days_past_due,
        payments.amount_due,
        payments.amount_paid,
        payments.amount_due_pen,
        payments.amount_paid_pen,
        loans.principal_pen as loan_principal_pen,

        -- dates
        payments.due_date,
        payments.paid_date,
        payments.due_month,
        loans.origination_date

    from payments
    left join loans on payments.loan_id = loans.loan_id

)

select * from final
