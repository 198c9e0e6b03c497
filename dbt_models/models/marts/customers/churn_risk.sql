-- RFM churn risk per customer of customer_360, as of its as-of date (the latest snapshot in the
-- window). Transactions: inside the window, up to the as-of date.
--   recency_days = as_of_date - date of the customer's last transaction (NULL: none in the window)
--   frequency    = transactions in the last 3 months (the as-of month and the two before)
--   monetary_pen = DEBIT amount_pen in those 3 months
--   r/f/m_score  = ntile(5), 5 = best (most recent, most frequent, highest spend); ties are broken
--                  by customer_id so the split is deterministic; no transaction at all ranks lowest
--   risk_band    = HIGH   if status is DORMANT or CLOSED, or no transaction in the last 3 months,
--                         or rfm_score (r + f + m, 3..15) <= 6
--                  MEDIUM if rfm_score <= 9
--                  LOW    otherwise
with

customers as (

    select customer_id, segment, status, as_of_month, as_of_date from {{ ref('customer_360') }}

),

as_of as (

    select distinct as_of_month, as_of_date from customers

),

transactions as (

    select transactions.*
    from {{ ref('int_transactions_enriched') }} as transactions
    cross join as_of
    where {{ in_window('transactions.transaction_ts') }}
      and transactions.transaction_date <= as_of.as_of_date

),

rfm_inputs as (

    select
        transactions.customer_id,
        max(transactions.transaction_date) as last_transaction_date,
        count(*) filter (
            where transactions.transaction_month >= as_of.as_of_month - interval 2 month
        ) as frequency,
        coalesce(sum(transactions.amount_pen) filter (
            where transactions.transaction_month >= as_of.as_of_month - interval 2 month
              and transactions.direction = 'DEBIT'
        ), 0) as monetary
    from transactions
    cross join as_of
    group by transactions.customer_id

),

joined as (

    select
        customers.*,
        rfm_inputs.last_transaction_date,
        date_diff('day', rfm_inputs.last_transaction_date, customers.as_of_date) as recency_days,
        coalesce(rfm_inputs.frequency, 0) as frequency,
        coalesce(rfm_inputs.monetary, 0) as monetary
    from customers
    left join rfm_inputs on customers.customer_id = rfm_inputs.customer_id

),

scored as (

    select
        *,
        ntile(5) over (order by recency_days desc nulls first, customer_id) as r_score,
        ntile(5) over (order by frequency, customer_id) as f_score,
        ntile(5) over (order by monetary, customer_id) as m_score
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
