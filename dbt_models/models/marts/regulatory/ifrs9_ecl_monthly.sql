-- IFRS 9 loss allowance per month, customer segment, product and stage (5.5.3, 5.5.5, IFRS 7
-- 35H): exposures, EAD, ECL, coverage (ECL / EAD) and the month's provision charge (this month's
-- ECL - last month's, per group; a group that emptied releases its whole allowance, and in the
-- first month loaded the charge is the whole allowance). From ifrs9_loan_stage_monthly.
{{ config(meta={'partition_column': 'report_month', 'reads_months_before': {'ifrs9_loan_stage_monthly': 1}}) }}

with

exposures as (

    select * from {{ ref('ifrs9_loan_stage_monthly') }}
    where report_month >= {{ months_before_window(1) }}
      and report_month < cast('{{ window_max() }}' as date)

),

groups as (

    select
        report_month,
        segment,
        product,
        stage,
        count(*) as n_exposures,
        sum(ead_pen) as ead_pen,
        sum(ecl_pen) as ecl_pen
    from exposures
    group by report_month, segment, product, stage

),

current_groups as (

    select * from groups where report_month >= {{ months_before_window(0) }}

),

-- last month's groups, moved to the month they precede (only months of the window)
previous_groups as (

    select
        cast(groups.report_month + interval 1 month as date) as report_month,
        segment,
        product,
        stage,
        ecl_pen
    from groups
    where cast(groups.report_month + interval 1 month as date) in (select distinct report_month from current_groups)

),

final as (

    select
        coalesce(current_groups.report_month, previous_groups.report_month) as report_month,
        coalesce(current_groups.segment, previous_groups.segment) as segment,
        coalesce(current_groups.product, previous_groups.product) as product,
        coalesce(current_groups.stage, previous_groups.stage) as stage,
        coalesce(current_groups.n_exposures, 0) as n_exposures,
        cast(coalesce(current_groups.ead_pen, 0) as decimal(18, 2)) as ead_pen,
        cast(coalesce(current_groups.ecl_pen, 0) as decimal(18, 2)) as ecl_pen,
        {{ ratio('current_groups.ecl_pen', 'current_groups.ead_pen') }} as coverage_ratio,
        cast(coalesce(previous_groups.ecl_pen, 0) as decimal(18, 2)) as previous_ecl_pen,
        cast(coalesce(current_groups.ecl_pen, 0) - coalesce(previous_groups.ecl_pen, 0) as decimal(18, 2))
            as provision_charge_pen
    from current_groups
    full outer join previous_groups
        on current_groups.report_month = previous_groups.report_month
        and current_groups.segment = previous_groups.segment
        and current_groups.product = previous_groups.product
        and current_groups.stage = previous_groups.stage

)

select * from final
