-- Interaction fact, one row per customer contact (call, branch visit, chat, email). Incremental
-- by interaction_month over the window on interaction_ts. customer_sk points at the dim_customer
-- version valid in the interaction's month; is_complaint = reason 'COMPLAINT'.
{{ config(meta={'partition_column': 'interaction_month', 'reads_months_before': {'dim_customer': 'all'}}) }}

with

interactions as (

    select * from {{ ref('stg_silver__customer_interactions') }}
    where {{ in_window('interaction_ts') }}

),

customers as (

    select customer_sk, customer_id, valid_from, valid_to from {{ ref('dim_customer') }}

),

final as (

    select
        -- ids
        interactions.interaction_id,
        interactions.customer_id,
        customers.customer_sk,
        interactions.agent_id,

        -- attributes
        interactions.channel,
        interactions.reason,
        interactions.reason = 'COMPLAINT' as is_complaint,
        interactions.agent_team,
        interactions.customer_parent_status,

        -- numerics
        interactions.handle_minutes,
        interactions.satisfaction_score,

        -- timestamps
        interactions.interaction_ts,
        interactions.interaction_date,
        interactions.interaction_month

    from interactions
    left join customers
        on {{ scd2_version_at('customers', 'customer_id', 'interactions', 'interaction_month') }}

)

select * from final
