-- Marketing touch fact, one row per campaign target (a customer drawn for a campaign and its
-- random arm), in the assignment month (the campaign's first month; other months hold no rows).
-- The campaign's window and cost come from the dim_campaign version valid in that month:
-- contact_cost_pen = cost_per_contact_pen for the TREATMENT arm (contacted) and 0 for CONTROL
-- (held out), DECIMAL(18,2) in PEN. Incremental by assignment_month over the window on assigned_date.
{{ config(meta={'partition_column': 'assignment_month', 'reads_months_before': {'dim_campaign': 'all', 'dim_customer': 'all'}}) }}

with

targets as (

    select * from {{ ref('stg_silver__campaign_targets') }}
    where {{ in_window('assigned_date') }}

),

campaigns as (

    select campaign_sk, campaign_id, start_date, end_date, cost_per_contact_pen, valid_from, valid_to
    from {{ ref('dim_campaign') }}

),

customers as (

    select customer_sk, customer_id, valid_from, valid_to from {{ ref('dim_customer') }}

),

final as (

    select
        -- ids
        targets.target_id,
        targets.campaign_id,
        campaigns.campaign_sk,
        targets.customer_id,
        customers.customer_sk,

        -- attributes
        targets.arm,
        targets.arm = 'TREATMENT' as is_treated,
        targets.campaign_parent_status,
        targets.customer_parent_status,

        -- numerics
        cast(
            case when targets.arm = 'TREATMENT' then campaigns.cost_per_contact_pen else 0 end
            as decimal(18, 2)
        ) as contact_cost_pen,

        -- dates
        targets.assigned_date,
        targets.assignment_month,
        campaigns.start_date,
        campaigns.end_date

    from targets
    left join campaigns
        on {{ scd2_version_at('campaigns', 'campaign_id', 'targets', 'assignment_month') }}
    left join customers
        on {{ scd2_version_at('customers', 'customer_id', 'targets', 'assignment_month') }}

)

select * from final
