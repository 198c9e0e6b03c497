-- Loan portfolio per due month: the loans with an instalment due that month, their principal
-- (outstanding approximated by the original principal_pen) and the delinquency buckets of the
-- loan's days past due at month end (a loan with several instalments due counts once, with its
-- highest days past due). non_performing_ratio = principal 90+ / total principal, exact
-- and rounded half away from zero to 6 decimals (the ratio macro, macros/money.sql).
{{ config(meta={'partition_column': 'report_month'}) }}

{% set buckets = {'current': 'CURRENT', 'dpd_1_30': '1-30', 'dpd_31_60': '31-60', 'dpd_61_90': '61-90', 'dpd_90_plus': '90+'} %}

with

payments as (

    select * from {{ ref('fct_loan_payments') }}
    where {{ in_window('due_date') }}

),

loan_months as (

    select
        due_month,
        loan_id,
        max(days_past_due) as days_past_due,
        arg_max(delinquency_bucket, days_past_due) as delinquency_bucket,
        any_value(loan_principal_pen) as principal_pen,
        count(*) as n_instalments,
        count(*) filter (where not is_paid) as n_unpaid_instalments,
        sum(amount_due_pen) as amount_due_pen,
        sum(amount_paid_pen) as amount_paid_pen
    from payments
    group by due_month, loan_id

),

final as (

    select
        due_month as report_month,
        count(*) as n_loans,
        {{ to_money('sum(principal_pen)') }} as outstanding_principal_pen,
        cast(sum(n_instalments) as bigint) as n_instalments_due,
        cast(sum(n_unpaid_instalments) as bigint) as n_instalments_unpaid,
        {{ to_money('sum(amount_due_pen)') }} as amount_due_pen,
        {{ to_money('sum(amount_paid_pen)') }} as amount_paid_pen,
        {%- for name, bucket in buckets.items() %}
        count(*) filter (where delinquency_bucket = '{{ bucket }}') as n_loans_{{ name }},
        {{ to_money("coalesce(sum(principal_pen) filter (where delinquency_bucket = '" ~ bucket ~ "'), 0)") }} as principal_{{ name }}_pen,
        {%- endfor %}
        {{ ratio("coalesce(sum(principal_pen) filter (where delinquency_bucket = '90+'), 0)", 'sum(principal_pen)') }} as non_performing_ratio
    from loan_months
    group by due_month

)

select * from final
