-- IFRS 9 probability of default per product and month, point in time (5.5.17, B5.5.52):
--   1. observed: the share of loans whose outcome window closed by the month (originated at least
--      outcome_months before it) that defaulted, i.e. had an instalment among the first
--      outcome_months reach default_dpd days past due: the default definition of the analytics
--      default model (bank_assets/analytics/credit.py), with its 95 % Wilson interval;
--   2. to 12 months: 1 - (1 - observed)^(12 / outcome_months);
--   3. through the cycle: credibility-weighted with the declared prior, z = n / (n + credibility_loans);
--   4. forward-looking: the odds multiplied by macro_odds_ratio_per_pp per point of policy-rate change
--      over the last macro_window_months (a persistence forecast of the next ones).
-- Every parameter is var('ifrs9') (dbt_project.yml). Probabilities are formed in DOUBLE and
-- rounded half away from zero to 6 decimals where each column is formed (macros/credit_risk.sql);
-- docs/ifrs9.md.
{%- set p = var('ifrs9') %}
{{ config(meta={
    'partition_column': 'report_month',
    'reads_months_before': {'fct_loan_payments': 'all', 'stg_silver__loans': 'all', 'dim_economic_indicators': p.macro_window_months},
}) }}

with

months as (

    select indicator_month as report_month, policy_rate
    from {{ ref('dim_economic_indicators') }}
    where {{ month_in_window('indicator_month') }}

),

rates as (

    select indicator_month, policy_rate from {{ ref('dim_economic_indicators') }}

),

products as (

    select product, prior_pd_12m from {{ ifrs9_products() }}

),

loans as (

    select loan_id, loan_product as product, origination_month from {{ ref('stg_silver__loans') }}

),

defaulted as (

    select distinct loan_id
    from {{ ref('fct_loan_payments') }}
    where instalment_no <= {{ p.outcome_months }}
      and days_past_due >= {{ p.default_dpd }}

),

observed as (

    select
        months.report_month,
        loans.product,
        count(*) as n_loans,
        count(defaulted.loan_id) as n_defaults
    from months
    inner join loans
        on loans.origination_month <= cast(months.report_month - interval {{ p.outcome_months }} month as date)
    left join defaulted on loans.loan_id = defaulted.loan_id
    group by months.report_month, loans.product

),

base as (

    select
        months.report_month,
        products.product,
        products.prior_pd_12m,
        coalesce(observed.n_loans, 0) as n_loans,
        coalesce(observed.n_defaults, 0) as n_defaults,
        coalesce(cast((months.policy_rate - earlier.policy_rate) * 100 as decimal(18, 6)), 0) as policy_rate_change_pp
    from months
    cross join products
    left join observed
        on months.report_month = observed.report_month and products.product = observed.product
    left join rates as earlier
        on earlier.indicator_month = cast(months.report_month - interval {{ p.macro_window_months }} month as date)

),

through_the_cycle as (

    select
        *,
        {{ ratio('n_loans', 'n_loans + ' ~ p.credibility_loans) }} as credibility_weight,
        {{ rate_to_12_months('n_defaults', 'n_loans', p.outcome_months) }} as observed_pd_12m
    from base

),

weighted as (

    select
        *,
        cast(round(
            credibility_weight * coalesce(observed_pd_12m, 0) + (1 - credibility_weight) * prior_pd_12m, 6
        ) as decimal(18, 6)) as pd_12m_ttc
    from through_the_cycle

),

final as (

    select
        report_month,
        product,
        n_loans as n_loans_observed,
        n_defaults as n_defaults_observed,
        {{ ratio('n_defaults', 'n_loans') }} as observed_default_rate,
        {{ wilson_bound('n_defaults', 'n_loans', -1) }} as observed_ci_low,
        {{ wilson_bound('n_defaults', 'n_loans', 1) }} as observed_ci_high,
        observed_pd_12m,
        prior_pd_12m,
        credibility_weight,
        pd_12m_ttc,
        policy_rate_change_pp,
        {{ odds_shifted('pd_12m_ttc', p.macro_odds_ratio_per_pp, 'policy_rate_change_pp') }} as pd_12m
    from weighted

)

select * from final
