-- IFRS 9 stage, exposure and expected credit loss per exposure and month (5.5.3-5.5.5, 5.5.17):
-- every loan outstanding at month end (an instalment due in the month, or disbursed in it) and
-- every credit card. Stage 3 (credit-impaired): days past due >= stage_3_dpd in the month or in
-- the cure_months before it; stage 2 (significant increase in credit risk): days past due >=
-- stage_2_dpd in the month or the cure_months before it, or the 12-month PD at least
-- sicr_pd_ratio x the PD of the loan's origination month; else stage 1. A card takes the worst
-- stage of its holder's loans (default is assessed per borrower), else stage 1.
-- EAD = outstanding principal (the annuity schedule after the instalments paid) + accrued
-- interest (that principal x annual rate x days since the last paid due date / 360), in PEN at
-- the month-end rate; a card: drawn balance + ccf_cards x undrawn limit. ECL = EAD x PD x LGD
-- with PD = the 12-month PD over min(12, remaining months) in stage 1, over the remaining life
-- in stage 2, and 1 in stage 3. Parameters: var('ifrs9'); docs/ifrs9.md.
{%- set p = var('ifrs9') %}
{{ config(meta={
    'partition_column': 'report_month',
    'reads_months_before': {
        'fct_loan_payments': p.cure_months + 1, 'stg_silver__loans': 'all', 'ifrs9_pd_monthly': 'all',
        'dim_customer': 'all', 'stg_silver__fx_rates': 1,
    },
}) }}

with

products as (

    select product, lgd from {{ ifrs9_products() }}

),

loans as (

    select * from {{ ref('stg_silver__loans') }}

),

-- each loan's days past due per month, from cure_months + 1 months before the window: its
-- instalment due in the month, or its disbursement month (0 days past due)
history_rows as (

    select
        due_month as report_month,
        loan_id,
        instalment_no,
        days_past_due,
        due_date
    from {{ ref('fct_loan_payments') }}
    where due_month >= {{ months_before_window(p.cure_months + 1) }}
      and due_month < cast('{{ window_max() }}' as date)

    union all by name

    select
        origination_month as report_month,
        loan_id,
        0 as instalment_no,
        0 as days_past_due,
        origination_date as due_date
    from loans
    where origination_month >= {{ months_before_window(p.cure_months + 1) }}
      and origination_month < cast('{{ window_max() }}' as date)

),

history as (

    select
        report_month,
        loan_id,
        max(instalment_no) as instalment_no,
        max(days_past_due) as days_past_due,
        max(due_date) as due_date
    from history_rows
    group by report_month, loan_id

),

pd as (

    select report_month, product, pd_12m from {{ ref('ifrs9_pd_monthly') }}

),

-- the window's months and the month before each (for the previous stage)
loan_months as (

    select
        history.*,
        loans.loan_product as product,
        loans.customer_id,
        loans.currency,
        loans.principal,
        loans.instalment,
        loans.annual_rate,
        loans.term_months,
        loans.origination_date,
        loans.origination_month,
        (
            select max(earlier.days_past_due) from history as earlier
            where earlier.loan_id = history.loan_id
              and earlier.report_month < history.report_month
              and earlier.report_month >= cast(history.report_month - interval {{ p.cure_months }} month as date)
        ) as max_dpd_cure_window
    from history
    inner join loans on history.loan_id = loans.loan_id
    where history.report_month >= {{ months_before_window(1) }}

),

staged as (

    select
        loan_months.*,
        pd_now.pd_12m,
        pd_origination.pd_12m as pd_12m_at_origination,
        case
            when loan_months.days_past_due >= {{ p.stage_3_dpd }} then 3
            when coalesce(loan_months.max_dpd_cure_window, 0) >= {{ p.stage_3_dpd }} then 3
            when loan_months.days_past_due >= {{ p.stage_2_dpd }} then 2
            when coalesce(loan_months.max_dpd_cure_window, 0) >= {{ p.stage_2_dpd }} then 2
            when pd_now.pd_12m >= {{ p.sicr_pd_ratio }} * pd_origination.pd_12m then 2
            else 1
        end as stage,
        case
            when loan_months.days_past_due >= {{ p.stage_3_dpd }} then 'DPD_{{ p.stage_3_dpd }}_PLUS'
            when coalesce(loan_months.max_dpd_cure_window, 0) >= {{ p.stage_3_dpd }} then 'CURE_PERIOD'
            when loan_months.days_past_due >= {{ p.stage_2_dpd }} then 'DPD_{{ p.stage_2_dpd }}_PLUS'
            when coalesce(loan_months.max_dpd_cure_window, 0) >= {{ p.stage_2_dpd }} then 'PROBATION'
            when pd_now.pd_12m >= {{ p.sicr_pd_ratio }} * pd_origination.pd_12m then 'PD_INCREASE'
            else 'PERFORMING'
        end as stage_reason
    from loan_months
    left join pd as pd_now
        on loan_months.report_month = pd_now.report_month and loan_months.product = pd_now.product
    left join pd as pd_origination
        on loan_months.origination_month = pd_origination.report_month and loan_months.product = pd_origination.product

),

-- instalments unpaid at month end: from the first missed due date (month end - days past due + 1)
-- to this month's, one a month; the rest of those due were paid
schedule as (

    select
        *,
        case
            when days_past_due > 0 then least(greatest(
                (year(due_date) * 12 + month(due_date))
                - (year(last_day(report_month) - days_past_due + 1) * 12 + month(last_day(report_month) - days_past_due + 1))
                + 1, 0), instalment_no)
            else 0
        end as n_unpaid
    from staged
    where report_month >= {{ months_before_window(0) }}

),

balances as (

    select
        *,
        instalment_no - n_unpaid as n_paid,
        term_months - (instalment_no - n_unpaid) as remaining_months,
        {{ annuity_balance('principal', 'instalment', 'annual_rate', 'instalment_no - n_unpaid') }} as outstanding_principal,
        last_day(report_month) - cast(origination_date + to_months(instalment_no - n_unpaid) as date) as days_accrued
    from schedule

),

loan_exposures as (

    select
        balances.*,
        -- outstanding x rate x days / 360 as integers (cents x rate in millionths x days over
        -- 360 x 10^8), so that the quotient is exact and rounded once
        {{ money_div('cast(outstanding_principal * 100 as hugeint) * cast(annual_rate * 1000000 as hugeint) * days_accrued', '36000000000') }}
            as accrued_interest
    from balances

),

fx as (

    select currency, rate_to_pen, rate_date from {{ ref('stg_silver__fx_rates') }}

),

loan_rows as (

    select
        loan_exposures.report_month,
        'LOAN' as exposure_type,
        loan_exposures.loan_id as exposure_id,
        loan_exposures.customer_id,
        loan_exposures.product,
        loan_exposures.currency,
        loan_exposures.instalment_no,
        loan_exposures.n_paid,
        loan_exposures.remaining_months,
        loan_exposures.days_past_due,
        loan_exposures.max_dpd_cure_window,
        loan_exposures.stage,
        loan_exposures.stage_reason,
        loan_exposures.pd_12m,
        loan_exposures.pd_12m_at_origination,
        case when loan_exposures.currency = 'PEN' then loan_exposures.outstanding_principal
            else {{ to_money('loan_exposures.outstanding_principal * fx.rate_to_pen') }} end as outstanding_principal_pen,
        case when loan_exposures.currency = 'PEN' then loan_exposures.accrued_interest
            else {{ to_money('loan_exposures.accrued_interest * fx.rate_to_pen') }} end as accrued_interest_pen,
        cast(0 as decimal(18, 2)) as drawn_pen,
        cast(0 as decimal(18, 2)) as undrawn_pen
    from loan_exposures
    asof left join fx
        on loan_exposures.currency = fx.currency
        and last_day(loan_exposures.report_month) >= fx.rate_date

),

previous_loans as (

    select report_month, loan_id, stage from staged

),

worst_loan_stage as (

    select report_month, customer_id, max(stage) as stage
    from loan_rows
    group by report_month, customer_id

),

cards as (

    select * from {{ ref('fct_account_balance_monthly') }}
    where {{ in_window('snapshot_date') }}
      and product = 'CREDIT_CARD'

),

card_rows as (

    select
        cards.snapshot_month as report_month,
        'CARD' as exposure_type,
        cards.account_id as exposure_id,
        cards.customer_id,
        'CREDIT_CARD' as product,
        cards.currency,
        cast(null as bigint) as instalment_no,
        cast(null as bigint) as n_paid,
        {{ p.card_lifetime_months }} as remaining_months,
        cast(null as integer) as days_past_due,
        cast(null as integer) as max_dpd_cure_window,
        coalesce(worst_loan_stage.stage, 1) as stage,
        case when worst_loan_stage.stage > 1 then 'BORROWER_LOAN_STAGE' else 'PERFORMING' end as stage_reason,
        pd.pd_12m,
        cast(null as decimal(18, 6)) as pd_12m_at_origination,
        cast(0 as decimal(18, 2)) as outstanding_principal_pen,
        cast(0 as decimal(18, 2)) as accrued_interest_pen,
        greatest(-cards.balance_pen, 0) as drawn_pen,
        greatest(cards.credit_limit_pen - greatest(-cards.balance_pen, 0), 0) as undrawn_pen
    from cards
    left join worst_loan_stage
        on cards.snapshot_month = worst_loan_stage.report_month and cards.customer_id = worst_loan_stage.customer_id
    left join pd on cards.snapshot_month = pd.report_month and pd.product = 'CREDIT_CARD'

),

exposures as (

    select * from loan_rows
    union all by name
    select * from card_rows

),

customers as (

    select customer_id, segment, valid_from, valid_to from {{ ref('dim_customer') }}

),

with_ead as (

    select
        exposures.*,
        cast(
            exposures.outstanding_principal_pen + exposures.accrued_interest_pen + exposures.drawn_pen
            + {{ to_money('exposures.undrawn_pen * ' ~ p.ccf_cards) }}
            as decimal(18, 2)) as ead_pen,
        case
            when exposures.stage = 3 then cast(1 as decimal(18, 6))
            when exposures.stage = 2 then {{ probability_over_months('exposures.pd_12m', 'greatest(exposures.remaining_months, 1)') }}
            else {{ probability_over_months('exposures.pd_12m', 'least(greatest(exposures.remaining_months, 1), 12)') }}
        end as pd_applied,
        products.lgd,
        -- a card has no previous stage of its own (the join's keys are loan ids: an equi-join)
        case when exposures.exposure_type = 'LOAN' then previous_loans.stage end as previous_stage,
        coalesce(customers.segment, 'UNKNOWN') as segment
    from exposures
    inner join products on exposures.product = products.product
    left join previous_loans
        on previous_loans.loan_id = exposures.exposure_id
        and previous_loans.report_month = cast(exposures.report_month - interval 1 month as date)
    left join customers
        on {{ scd2_version_at('customers', 'customer_id', 'exposures', 'report_month') }}

),

final as (

    select
        report_month,
        exposure_type,
        exposure_id,
        customer_id,
        segment,
        product,
        currency,
        instalment_no,
        n_paid as instalments_paid,
        remaining_months,
        days_past_due,
        max_dpd_cure_window,
        previous_stage,
        stage,
        stage_reason,
        pd_12m,
        pd_12m_at_origination,
        pd_applied,
        lgd,
        outstanding_principal_pen,
        accrued_interest_pen,
        drawn_pen,
        undrawn_pen,
        ead_pen,
        {{ to_money('cast(ead_pen as decimal(38, 2)) * pd_applied * lgd') }} as ecl_pen
    from with_ead

)

select * from final
