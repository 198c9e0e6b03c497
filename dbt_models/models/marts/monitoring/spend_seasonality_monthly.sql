-- Exploratory: which months are seasonally high for which spend category? Per month and spend
-- category of spend_by_category_monthly (card purchases, read from that mart rather than from the
-- transactions):
--   purchases_pen                = the month's purchases of the category (its spend_pen)
--   trailing_12m_purchases_pen   = the category's purchases over the trailing 12 months [M - 11, M],
--                                  this month included (a loaded month without purchases of the
--                                  category counts as 0)
--   n_history_months             = months of [M - 11, M] loaded in spend_by_category_monthly (any
--                                  category), 1 to 12
--   seasonal_index               = purchases_pen / (trailing_12m_purchases_pen / 12)
--                                = 12 * purchases_pen / trailing_12m_purchases_pen: the month against
--                                  the mean month of the trailing year (1 = an average month), exact,
--                                  rounded once half away from zero to DECIMAL(18,6); NULL while
--                                  fewer than 12 months of history are loaded
-- calendar_month (1-12) groups the index across years. A month reads itself and the 11 before.
{{ config(meta={'partition_column': 'report_month', 'reads_months_before': {'spend_by_category_monthly': 11}}) }}

with

history as (

    select * from {{ ref('spend_by_category_monthly') }}
    where report_month >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval 11 month as date)
      and report_month < cast('{{ window_max() }}' as date)

),

loaded_months as (

    select distinct report_month from history

),

current_months as (

    select * from history
    where {{ month_in_window('report_month') }}

),

trailing_totals as (

    select
        current_months.report_month,
        current_months.category,
        sum(history.spend_pen) as trailing_purchases
    from current_months
    inner join history
        on history.category = current_months.category
        and history.report_month >= cast(current_months.report_month - interval 11 month as date)
        and history.report_month <= current_months.report_month
    group by current_months.report_month, current_months.category

),

history_months as (

    select
        months.report_month,
        count(*) as n_history_months
    from (select distinct report_month from current_months) as months
    inner join loaded_months
        on loaded_months.report_month >= cast(months.report_month - interval 11 month as date)
        and loaded_months.report_month <= months.report_month
    group by months.report_month

),

final as (

    select
        -- dates and category
        current_months.report_month,
        month(current_months.report_month) as calendar_month,
        current_months.category,

        -- measures
        current_months.spend_pen as purchases_pen,
        {{ to_money('trailing_totals.trailing_purchases') }} as trailing_12m_purchases_pen,
        history_months.n_history_months,
        case when history_months.n_history_months = 12 then
            {{ ratio('12 * current_months.spend_pen', 'trailing_totals.trailing_purchases') }}
        end as seasonal_index

    from current_months
    inner join trailing_totals
        on current_months.report_month = trailing_totals.report_month
        and current_months.category = trailing_totals.category
    inner join history_months
        on current_months.report_month = history_months.report_month

)

select * from final
