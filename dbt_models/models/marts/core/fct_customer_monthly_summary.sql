-- Periodic snapshot: one row per customer per month, for the customers in that month's CRM
-- snapshot (int_customer_month_activity rows with in_snapshot), with the month's banking activity
-- and contacts with the bank:
--   is_active          = status = 'ACTIVE'
--   tenure_months      = date_diff('month', signup_date, snapshot_date)
--   n_purchases        = the month's PURCHASE transactions of the customer (fct_transactions)
--   n_interactions     = the month's interactions (fct_customer_interactions), of which
--   n_complaints       (reason COMPLAINT) and n_inquiries (reason INQUIRY)
--   avg_satisfaction   = sum of the answered satisfaction scores / their number, exact and rounded
--                        once half away from zero to 2 decimals (the ratio macro); NULL without answers
-- Money columns are the exact DECIMAL(18,2) sums of int_customer_month_activity. Interactions of a
-- customer absent from the month's CRM snapshot have no row here (they stay in the fact).
{{ config(meta={'partition_column': 'summary_month'}) }}

with

activity as (

    select * from {{ ref('int_customer_month_activity') }}
    where {{ month_in_window('activity_month') }}
      and in_snapshot

),

purchases as (

    select
        customer_id,
        transaction_month,
        count(*) as n_purchases
    from {{ ref('fct_transactions') }}
    where {{ month_in_window('transaction_month') }}
      and txn_type = 'PURCHASE'
      and customer_id is not null
    group by customer_id, transaction_month

),

interactions as (

    select
        customer_id,
        interaction_month,
        count(*) as n_interactions,
        count(*) filter (where reason = 'COMPLAINT') as n_complaints,
        count(*) filter (where reason = 'INQUIRY') as n_inquiries,
        count(satisfaction_score) as n_satisfaction_answers,
        sum(satisfaction_score) as satisfaction_total
    from {{ ref('fct_customer_interactions') }}
    where {{ month_in_window('interaction_month') }}
    group by customer_id, interaction_month

),

final as (

    select
        -- ids
        activity.customer_id,

        -- attributes in the month's CRM snapshot
        activity.segment,
        activity.district,
        activity.status,
        activity.status = 'ACTIVE' as is_active,
        date_diff('month', activity.signup_date, activity.snapshot_date) as tenure_months,

        -- banking activity in the month
        activity.n_transactions,
        coalesce(purchases.n_purchases, 0) as n_purchases,
        activity.purchases_pen,
        activity.spend_pen,
        activity.income_pen,
        activity.positive_balance_pen,
        activity.products_held,

        -- contacts with the bank in the month
        coalesce(interactions.n_interactions, 0) as n_interactions,
        coalesce(interactions.n_complaints, 0) as n_complaints,
        coalesce(interactions.n_inquiries, 0) as n_inquiries,
        coalesce(interactions.n_satisfaction_answers, 0) as n_satisfaction_answers,
        {{ ratio('interactions.satisfaction_total', 'interactions.n_satisfaction_answers', 2) }} as avg_satisfaction,

        -- dates
        activity.activity_month as summary_month

    from activity
    left join purchases
        on activity.customer_id = purchases.customer_id
        and activity.activity_month = purchases.transaction_month
    left join interactions
        on activity.customer_id = interactions.customer_id
        and activity.activity_month = interactions.interaction_month

)

select * from final
