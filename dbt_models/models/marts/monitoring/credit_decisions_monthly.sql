-- Diagnostic: why are loan applications rejected? Every application of the month
-- (fct_credit_applications) falls in one cell of loan product x decision_reason (APPROVED, or the
-- first rule that rejected it: LOW_SCORE, HIGH_DEBT_BURDEN, INCOMPLETE_DOCUMENTS); cells without
-- applications have no row. Per cell, exact and rounded once half away from zero:
--   share_of_product_applications = the cell's applications / the product's applications of the
--                                   month (ratio, 6 decimals; a product's shares add up to 1)
--   avg_credit_score              = sum of credit_score / applications (2 decimals)
--   avg_debt_to_income            = sum of debt_to_income / applications (6 decimals)
--   requested_amount_pen          = sum of requested_amount_pen (DECIMAL(18,2) in PEN)
-- Comparing a reason's avg_credit_score and avg_debt_to_income with the APPROVED row of the same
-- product shows which rule binds.
{{ config(meta={'partition_column': 'application_month'}) }}

with

applications as (

    select * from {{ ref('fct_credit_applications') }}
    where {{ month_in_window('application_month') }}

),

by_reason as (

    select
        application_month,
        product,
        decision,
        decision_reason,
        count(*) as n_applications,
        sum(credit_score) as credit_score_total,
        sum(debt_to_income) as debt_to_income_total,
        sum(requested_amount_pen) as requested_amount
    from applications
    group by application_month, product, decision, decision_reason

),

with_product_total as (

    select
        *,
        sum(n_applications) over (partition by application_month, product) as product_applications
    from by_reason

),

final as (

    select
        -- dates and cell
        application_month,
        product,
        decision,
        decision_reason,

        -- measures
        n_applications,
        {{ ratio('n_applications', 'product_applications') }} as share_of_product_applications,
        {{ ratio('credit_score_total', 'n_applications', 2) }} as avg_credit_score,
        {{ ratio('debt_to_income_total', 'n_applications') }} as avg_debt_to_income,
        {{ to_money('requested_amount') }} as requested_amount_pen

    from with_product_total

)

select * from final
