-- Exploratory: which products go together? Market-basket measures per month over the customers
-- ACTIVE at month end (status 'ACTIVE' in the month's CRM snapshot; N = their number, including
-- those holding no product). The products a customer holds that month are
--   - the product of each of their open accounts (status other than CLOSED) in the month's account
--     snapshot (CHECKING, SAVINGS, CREDIT_CARD, TERM_DEPOSIT), and
--   - the loan product of each of their loans with an instalment due in the month
--     (fct_loan_payments: PERSONAL, AUTO, MORTGAGE, SME),
-- each product counted once per customer. For every ordered pair (product_a, product_b), a <> b,
-- of products held by at least one active customer that month:
--   n_customers_a, n_customers_b = active customers holding a, holding b
--   n_both       = active customers holding both
--   support      = n_both / N
--   confidence   = n_both / n_customers_a                  (share of a's holders who also hold b)
--   lift         = confidence / (n_customers_b / N) = n_both * N / (n_customers_a * n_customers_b)
-- all DECIMAL(18,6), each the exact quotient of the counts rounded once half away from zero (lift
-- is not the ratio of the rounded confidence and share). Lift > 1: b is more common among a's
-- holders than among all active customers. A pair never held together has n_both = 0 and lift 0.
{{ config(meta={'partition_column': 'as_of_month'}) }}

with

active_customers as (

    select customer_id, snapshot_month as as_of_month from {{ ref('stg_silver__customers') }}
    where {{ month_in_window('snapshot_month') }}
      and status = 'ACTIVE'

),

account_products as (

    select customer_id, snapshot_month as as_of_month, product from {{ ref('stg_silver__accounts') }}
    where {{ month_in_window('snapshot_month') }}
      and status <> 'CLOSED'

),

loan_products as (

    select customer_id, due_month as as_of_month, loan_product as product from {{ ref('fct_loan_payments') }}
    where {{ month_in_window('due_month') }}
      and customer_id is not null

),

holdings as (

    select distinct
        active_customers.as_of_month,
        active_customers.customer_id,
        held.product
    from active_customers
    inner join (
        select * from account_products
        union all
        select * from loan_products
    ) as held
        on active_customers.customer_id = held.customer_id
        and active_customers.as_of_month = held.as_of_month

),

month_customers as (

    select as_of_month, count(*) as n_customers
    from active_customers
    group by as_of_month

),

product_holders as (

    select as_of_month, product, count(*) as n_customers_product
    from holdings
    group by as_of_month, product

),

pair_holders as (

    select
        holdings_a.as_of_month,
        holdings_a.product as product_a,
        holdings_b.product as product_b,
        count(*) as n_both
    from holdings as holdings_a
    inner join holdings as holdings_b
        on holdings_a.as_of_month = holdings_b.as_of_month
        and holdings_a.customer_id = holdings_b.customer_id
        and holdings_a.product <> holdings_b.product
    group by holdings_a.as_of_month, holdings_a.product, holdings_b.product

),

pairs as (

    select
        product_a.as_of_month,
        product_a.product as product_a,
        product_b.product as product_b,
        month_customers.n_customers,
        product_a.n_customers_product as n_customers_a,
        product_b.n_customers_product as n_customers_b,
        coalesce(pair_holders.n_both, 0) as n_both
    from product_holders as product_a
    inner join product_holders as product_b
        on product_a.as_of_month = product_b.as_of_month
        and product_a.product <> product_b.product
    inner join month_customers
        on product_a.as_of_month = month_customers.as_of_month
    left join pair_holders
        on product_a.as_of_month = pair_holders.as_of_month
        and product_a.product = pair_holders.product_a
        and product_b.product = pair_holders.product_b

),

final as (

    select
        -- dates and pair
        as_of_month,
        product_a,
        product_b,

        -- counts
        n_customers,
        n_customers_a,
        n_customers_b,
        n_both,

        -- measures
        {{ ratio('n_both', 'n_customers') }} as support,
        {{ ratio('n_both', 'n_customers_a') }} as confidence,
        {{ ratio('n_both * n_customers', 'n_customers_a * n_customers_b') }} as lift

    from pairs

)

select * from final
