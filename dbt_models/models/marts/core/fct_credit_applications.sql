-- Credit application fact, one row per loan application, in its application month. Incremental by
-- application_month over the window on application_date.
--   is_approved      = decision 'APPROVED' (decision_reason 'APPROVED'; a rejection names the
--                      first rule that rejected it)
--   annual_rate,     = the disbursed loan's terms (stg_silver__loans, originated the same month as
--   instalment_pen     the application): NULL for a rejected application, and for an approved one
--                      whose loan row silver quarantined (loan_parent_status QUARANTINED)
--   segment          = the applicant's segment in the application month's CRM snapshot (the latest
--                      earlier snapshot when the month's row was quarantined: an ASOF join, as
--                      fct_transactions does); customer_sk / product_sk point at the dim_customer /
--                      dim_product versions valid in the application month
-- requested_amount is in the application currency, requested_amount_pen in PEN (silver's rate of the
-- application date); credit_score is an integer, debt_to_income a DECIMAL(18,6) fraction.
{{ config(meta={'partition_column': 'application_month', 'reads_months_before': {'dim_customer': 'all', 'dim_product': 'all', 'stg_silver__customers': 'all'}}) }}

with

applications as (

    select * from {{ ref('stg_silver__credit_applications') }}
    where {{ in_window('application_date') }}

),

loans as (

    -- an approved application's loan is disbursed the same day: the window's loans suffice
    select loan_id, annual_rate, instalment_pen, origination_month from {{ ref('stg_silver__loans') }}
    where {{ in_window('origination_date') }}

),

customer_snapshots as (

    select customer_id, segment, snapshot_month from {{ ref('stg_silver__customers') }}
    where snapshot_month < cast('{{ window_max() }}' as date)

),

customers as (

    select customer_sk, customer_id, valid_from, valid_to from {{ ref('dim_customer') }}

),

products as (

    select product_sk, product_code, valid_from, valid_to from {{ ref('dim_product') }}

),

final as (

    select
        -- ids
        applications.application_id,
        applications.customer_id,
        customers.customer_sk,
        applications.loan_id,
        products.product_sk,

        -- attributes
        applications.product,
        applications.currency,
        applications.decision,
        applications.decision_reason,
        applications.decision = 'APPROVED' as is_approved,
        customer_snapshots.segment,
        applications.customer_parent_status,
        applications.loan_parent_status,

        -- numerics
        applications.credit_score,
        applications.debt_to_income,
        applications.term_months,
        applications.requested_amount,
        applications.requested_amount_pen,
        loans.annual_rate,
        loans.instalment_pen,

        -- dates
        applications.application_date,
        applications.application_month

    from applications
    left join loans
        on applications.loan_id = loans.loan_id
        and applications.application_month = loans.origination_month
    asof left join customer_snapshots
        on applications.customer_id = customer_snapshots.customer_id
        and applications.application_month >= customer_snapshots.snapshot_month
    left join customers
        on {{ scd2_version_at('customers', 'customer_id', 'applications', 'application_month') }}
    left join products
        on {{ scd2_version_at('products', 'product_code', 'applications', 'application_month', fact_key='product') }}

)

select * from final
