-- One row per anomalous card purchase: amount_pen strictly above the IQR threshold of its
-- (month, customer segment), see int_purchase_iqr_thresholds. Purchases in a (month, segment)
-- with fewer than 30 purchases are never flagged.
{{ config(meta={'partition_column': 'transaction_month'}) }}

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

    select
        -- ids
        purchases.transaction_id,
        purchases.customer_id,
        purchases.account_id,
        purchases.merchant_id,

        -- attributes
        purchases.category,
        purchases.segment,
        purchases.district,
        purchases.zone,

        -- numerics
        purchases.amount_pen,
        thresholds.q1,
        thresholds.q3,
        thresholds.threshold,

        -- timestamps
        purchases.transaction_ts,
        purchases.transaction_month

    from purchases
    inner join thresholds
        on purchases.transaction_month = thresholds.transaction_month
        and purchases.segment = thresholds.segment
    where purchases.amount_pen > thresholds.threshold

)

select * from anomalies
