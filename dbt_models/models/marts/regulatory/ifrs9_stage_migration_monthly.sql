-- IFRS 9 stage migration matrix per month (IFRS 7 35H-35I): loans by their stage at the end of
-- last month (from_stage: 1, 2, 3, or NEW for a loan not outstanding then) and at the end of this
-- month (to_stage: 1, 2, 3, or EXIT for a loan no longer outstanding: repaid, settled or closed),
-- with their EAD (this month's; last month's for an exit). Loans only: a card's stage follows its
-- holder's loans. From ifrs9_loan_stage_monthly.
{{ config(meta={'partition_column': 'report_month', 'reads_months_before': {'ifrs9_loan_stage_monthly': 1}}) }}

with

loans as (

    select report_month, exposure_id, stage, ead_pen from {{ ref('ifrs9_loan_stage_monthly') }}
    where exposure_type = 'LOAN'
      and report_month >= {{ months_before_window(1) }}
      and report_month < cast('{{ window_max() }}' as date)

),

current_loans as (

    select * from loans where report_month >= {{ months_before_window(0) }}

),

-- last month's loans, moved to the month they precede (only months of the window)
previous_loans as (

    select cast(report_month + interval 1 month as date) as report_month, exposure_id, stage, ead_pen
    from loans
    where cast(report_month + interval 1 month as date) in (select distinct report_month from current_loans)

),

pairs as (

    select
        coalesce(current_loans.report_month, previous_loans.report_month) as report_month,
        coalesce(cast(previous_loans.stage as varchar), 'NEW') as from_stage,
        coalesce(cast(current_loans.stage as varchar), 'EXIT') as to_stage,
        coalesce(current_loans.ead_pen, previous_loans.ead_pen) as ead_pen
    from current_loans
    full outer join previous_loans
        on current_loans.report_month = previous_loans.report_month
        and current_loans.exposure_id = previous_loans.exposure_id

),

final as (

    select
        report_month,
        from_stage,
        to_stage,
        count(*) as n_loans,
        cast(sum(ead_pen) as decimal(18, 2)) as ead_pen
    from pairs
    group by report_month, from_stage, to_stage

)

select * from final
