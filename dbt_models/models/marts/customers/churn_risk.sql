-- RFM churn risk per customer per as-of month (a periodic snapshot over customer_360's rows):
--   recency_days = as_of_date - date of the customer's last transaction in the trailing 12 months
--                  (NULL: none)
--   frequency    = transactions in the last 3 months (the as-of month and the two before)
--   monetary_pen = DEBIT amount_pen in those 3 months
--   r/f/m_score  = ntile(5) among the as-of month's customers, 5 = best (most recent, most
--                  frequent, highest spend); ties broken by customer_id; no transaction ranks lowest
--   risk_band    = HIGH   if status is DORMANT or CLOSED, or no transaction in the last 3 months,
--                         or rfm_score (r + f + m, 3..15) <= 6
--                  MEDIUM if rfm_score <= 9
--                  LOW    otherwise
{{ config(meta={'partition_column': 'as_of_month', 'reads_months_before': {'int_customer_month_activity': 2}}) }}

with

customers as (

    select customer_id, segment, status, last_transaction_date, as_of_month, as_of_date
    from {{ ref('customer_360') }}
    where {{ month_in_window('as_of_month') }}

),

as_of_months as (

    select distinct as_of_month from customers

),

recent as (

    select
        as_of_months.as_of_month,
        activity.customer_id,
        sum(activity.n_transactions) as frequency,
        sum(activity.debits_pen) as monetary
    from as_of_months
    inner join {{ ref('int_customer_month_activity') }} as activity
        on activity.activity_month <= as_of_months.as_of_month
        and activity.activity_month >= cast(as_of_months.as_of_month - interval 2 month as date)
    group by as_of_months.as_of_month, activity.customer_id

),

joined as (

    select
        customers.*,
        date_diff('day', customers.last_transaction_date, customers.as_of_date) as recency_days,
        coalesce(recent.frequency, 0) as frequency,
        coalesce(recent.monetary, 0) as monetary
    from customers
    left join recent
        on customers.customer_id = recent.customer_id
        and customers.as_of_month = recent.as_of_month

),

scored as (

    select
        *,
        ntile(5) over (partition by as_of_month order by recency_days desc nulls first, customer_id) as r_score,
        ntile(5) over (partition by as_of_month order by frequency, customer_id) as f_score,
        ntile(5) over (partition by as_of_month order by monetary, customer_id) as m_score
    from joined

),

final as (

    select
        -- ids
        customer_id,

        -- attributes
        segment,
        status,

        -- rfm
        recency_days,
        frequency,
        {{ to_money('monetary') }} as monetary_pen,
        r_score,
        f_score,
        m_score,
        r_score + f_score + m_score as rfm_score,
        case
            when status in ('DORMANT', 'CLOSED') then 'HIGH'
            when frequency = 0 then 'HIGH'
            when r_score + f_score + m_score <= 6 then 'HIGH'
            when r_score + f_score + m_score <= 9 then 'MEDIUM'
            else 'LOW'
        end as risk_band,

        -- dates
        last_transaction_date,
        as_of_month,
        as_of_date

    from scored

)

select * from final
