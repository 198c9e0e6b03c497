-- IQR anomaly rate of card purchases per month and customer segment.
-- is_evaluated = the group reached the 30-purchase minimum and has a threshold; otherwise
-- q1/q3/threshold and anomaly_rate are NULL and n_anomalies is 0.
{{ config(meta={'partition_column': 'report_month'}) }}

with

purchases as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}
      and txn_type = 'PURCHASE'

),

thresholds as (

    select * from {{ ref('int_purchase_iqr_thresholds') }}
    where {{ month_in_window('transaction_month') }}

),

anomalies as (

    select * from {{ ref('transaction_anomalies') }}
    where {{ in_window('transaction_ts') }}

),

purchase_counts as (

    select
        transaction_month,
        segment,
        count(*) as n_purchases,
        sum(amount_pen) as purchase_amount
    from purchases
    group by transaction_month, segment

),

anomaly_counts as (

    select
        transaction_month,
        segment,
        count(*) as n_anomalies,
        sum(amount_pen) as anomalous_amount
    from anomalies
    group by transaction_month, segment

),

final as (

    select
        purchase_counts.transaction_month as report_month,
        purchase_counts.segment,
        purchase_counts.n_purchases,
        coalesce(anomaly_counts.n_anomalies, 0) as n_anomalies,
        thresholds.threshold is not null as is_evaluated,
        case
            when thresholds.threshold is not null
                then {{ ratio('coalesce(anomaly_counts.n_anomalies, 0)', 'purchase_counts.n_purchases') }}
        end as anomaly_rate,
        {{ to_money('purchase_counts.purchase_amount') }} as purchase_amount_pen,
        {{ to_money('coalesce(anomaly_counts.anomalous_amount, 0)') }} as anomalous_amount_pen,
        thresholds.q1,
        thresholds.q3,
        thresholds.threshold
    from purchase_counts
    left join thresholds
        on purchase_counts.transaction_month = thresholds.transaction_month
        and purchase_counts.segment = thresholds.segment
    left join anomaly_counts
        on purchase_counts.transaction_month = anomaly_counts.transaction_month
        and purchase_counts.segment is not distinct from anomaly_counts.segment

)

select * from final
