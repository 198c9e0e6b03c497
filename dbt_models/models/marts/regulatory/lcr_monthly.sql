-- Basel III liquidity coverage ratio (BCBS 238) per month: HQLA over 30-day net cash outflows,
-- every rate from var('lcr') (dbt_project.yml). Amounts are exact DECIMAL arithmetic; each
-- reported amount is rounded half away from zero to cents where it is formed (a haircut, a
-- run-off, a cap), and the ratio once, to 6 decimals (macros/money.sql). docs/regulatory.md.
{{ config(meta={'partition_column': 'report_month', 'reads_months_before': {'dim_customer': 'all'}}) }}

{%- set p = var('lcr') %}

with

positions as (

    select * from {{ ref('stg_silver__treasury_positions') }}
    where {{ in_window('snapshot_date') }}

),

balances as (

    select * from {{ ref('fct_account_balance_monthly') }}
    where {{ in_window('snapshot_date') }}

),

customers as (

    select customer_sk, segment from {{ ref('dim_customer') }}

),

payments as (

    select * from {{ ref('fct_loan_payments') }}
    where {{ in_window('due_date') }}

),

-- para 49-54: unencumbered assets by level, Level 2 after its haircut
stock as (

    select
        snapshot_month as report_month,
        coalesce(sum(market_value_pen) filter (where hqla_level = 'LEVEL_1' and not is_encumbered), 0) as level_1,
        {{ to_money("coalesce(sum(market_value_pen) filter (where hqla_level = 'LEVEL_2A' and not is_encumbered), 0) * (1 - " ~ p.haircut_level_2a ~ ")") }} as level_2a,
        {{ to_money("coalesce(sum(market_value_pen) filter (where hqla_level = 'LEVEL_2B' and not is_encumbered), 0) * (1 - " ~ p.haircut_level_2b ~ ")") }} as level_2b,
        coalesce(sum(market_value_pen) filter (where is_encumbered and hqla_level <> 'NON_HQLA'), 0) as encumbered
    from positions
    group by snapshot_month

),

-- Annex 1: the 15 % cap on Level 2B, then the 40 % cap on all Level 2 (each fraction to cents)
cap_15 as (

    select
        *,
        greatest(
            level_2b - {{ money_div('15 * (level_1 + level_2a)', '85') }},
            level_2b - {{ money_div('15 * level_1', '60') }},
            0
        ) as adjustment_15
    from stock

),

hqla as (

    select
        *,
        greatest(level_2a + level_2b - adjustment_15 - {{ money_div('2 * level_1', '3') }}, 0) as adjustment_40
    from cap_15

),

deposits as (

    select
        balances.snapshot_month as report_month,
        balances.product,
        coalesce(customers.segment, 'MASS') = 'SME' as is_sme,
        balances.balance_pen,
        balances.credit_limit_pen
    from balances
    left join customers on balances.customer_sk = customers.customer_sk

),

-- para 73-111: deposits by category; para 131(a): undrawn card limits
outflow_base as (

    select
        report_month,
        coalesce(sum(least(balance_pen, {{ p.deposit_insurance_limit_pen }}))
            filter (where not is_sme and product = 'CHECKING' and balance_pen > 0), 0) as retail_stable,
        coalesce(sum(balance_pen - least(balance_pen, {{ p.deposit_insurance_limit_pen }}))
            filter (where not is_sme and product = 'CHECKING' and balance_pen > 0), 0)
        + coalesce(sum(balance_pen)
            filter (where not is_sme and product in ('SAVINGS', 'TERM_DEPOSIT') and balance_pen > 0), 0)
            as retail_less_stable,
        coalesce(sum(balance_pen) filter (where is_sme and product = 'CHECKING' and balance_pen > 0), 0) as operational,
        coalesce(sum(balance_pen)
            filter (where is_sme and product in ('SAVINGS', 'TERM_DEPOSIT') and balance_pen > 0), 0) as non_operational,
        coalesce(sum(greatest(credit_limit_pen + least(balance_pen, 0), 0)) filter (where product = 'CREDIT_CARD'), 0)
            as undrawn_cards
    from deposits
    group by report_month

),

outflows as (

    select
        report_month,
        {{ to_money('retail_stable * ' ~ p.run_off_retail_stable) }} as outflow_retail_stable,
        {{ to_money('retail_less_stable * ' ~ p.run_off_retail_less_stable) }} as outflow_retail_less_stable,
        {{ to_money('operational * ' ~ p.run_off_operational) }} as outflow_operational,
        {{ to_money('non_operational * ' ~ p.run_off_non_operational) }} as outflow_non_operational,
        {{ to_money('undrawn_cards * ' ~ p.draw_down_undrawn_cards) }} as outflow_undrawn_cards
    from outflow_base

),

-- para 153: the next 30 days' instalments of performing loans (under 90 days past due), proxied
-- by their instalments due in the month
inflows as (

    select
        due_month as report_month,
        {{ to_money('coalesce(sum(amount_due_pen) filter (where days_past_due < 90), 0) * ' ~ p.inflow_rate_performing_loans) }}
            as inflows
    from payments
    group by due_month

),

totals as (

    select
        outflows.*,
        outflow_retail_stable + outflow_retail_less_stable + outflow_operational
            + outflow_non_operational + outflow_undrawn_cards as total_outflows,
        coalesce(inflows.inflows, 0) as inflows
    from outflows
    left join inflows on outflows.report_month = inflows.report_month

),

capped as (

    select
        *,
        {{ to_money('least(inflows, total_outflows * ' ~ p.inflow_cap ~ ')') }} as capped_inflows
    from totals

),

final as (

    select
        capped.report_month,
        cast(coalesce(hqla.level_1, 0) as decimal(18, 2)) as level_1_pen,
        cast(coalesce(hqla.level_2a, 0) as decimal(18, 2)) as level_2a_pen,
        cast(coalesce(hqla.level_2b, 0) as decimal(18, 2)) as level_2b_pen,
        cast(coalesce(hqla.adjustment_15, 0) as decimal(18, 2)) as cap_adjustment_15_pen,
        cast(coalesce(hqla.adjustment_40, 0) as decimal(18, 2)) as cap_adjustment_40_pen,
        cast(coalesce(hqla.level_1 + hqla.level_2a + hqla.level_2b - hqla.adjustment_15 - hqla.adjustment_40, 0)
            as decimal(18, 2)) as hqla_pen,
        cast(coalesce(hqla.encumbered, 0) as decimal(18, 2)) as encumbered_excluded_pen,
        outflow_retail_stable as outflow_retail_stable_pen,
        outflow_retail_less_stable as outflow_retail_less_stable_pen,
        outflow_operational as outflow_operational_pen,
        outflow_non_operational as outflow_non_operational_pen,
        outflow_undrawn_cards as outflow_undrawn_cards_pen,
        cast(total_outflows as decimal(18, 2)) as total_outflows_pen,
        cast(inflows as decimal(18, 2)) as inflows_pen,
        capped_inflows as capped_inflows_pen,
        cast(total_outflows - capped_inflows as decimal(18, 2)) as net_cash_outflows_pen
    from capped
    left join hqla on capped.report_month = hqla.report_month

)

select
    *,
    {{ ratio('hqla_pen', 'net_cash_outflows_pen') }} as lcr
from final
