-- Agent dimension, one row per agent, opened in the month the agent handles a first interaction
-- (the partition column is first_seen_month). Built incrementally from the month's interactions:
-- an agent already in the table with an earlier first_seen_month is skipped, so a month reads
-- only its own interactions and the dimension's earlier rows, never the history of interactions.
-- agent_team is the team of the agent's first interaction (earliest interaction_ts, ties broken
-- by interaction_id). Months are built in order (assert_previous_month_loaded).
{{ config(meta={'partition_column': 'first_seen_month', 'reads_months_before': {'stg_silver__customer_interactions': 'all'}}) }}

with

interactions as (

    select * from {{ ref('stg_silver__customer_interactions') }}
    where {{ in_window('interaction_ts') }}

),

{% if is_incremental() %}
known_agents as (

    -- agents first seen before the window (the pre-hook already deleted the window's months)
    select agent_id from {{ this }}
    where first_seen_month < cast(date_trunc('month', cast('{{ window_min() }}' as date)) as date)

),

{% endif %}
first_interactions as (

    select
        -- ids
        agent_id,

        -- attributes
        agent_team,

        -- dates
        interaction_date as first_seen_date,
        interaction_month as first_seen_month

    from interactions
    {% if is_incremental() %}
    where agent_id not in (select agent_id from known_agents)
    {% endif %}
    qualify row_number() over (partition by agent_id order by interaction_ts, interaction_id) = 1

)

select * from first_interactions
