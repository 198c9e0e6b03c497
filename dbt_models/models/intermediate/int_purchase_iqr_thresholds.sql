-- Incremental by month like the marts: the month's thresholds are computed once from the month's
-- rows of fct_transactions (already built, enriched with the month's segment), then read by
-- transaction_anomalies, anomaly_rate_monthly and the tests, instead of each re-running the
-- enriched-transactions view over all of history.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_window() }}",
        meta={'partition_column': 'transaction_month'}
    )
}}

-- IQR outlier thresholds of card purchases per (month, customer segment).
-- Population: txn_type = 'PURCHASE'; segment = the customer's segment in that month's snapshot.
-- q1/q3 = quantile_cont(amount_pen, 0.25/0.75) (linear interpolation), threshold = q3 + 1.5 * (q3 - q1).
-- Only groups with at least 30 purchases get a threshold.
-- Amounts are widened to DECIMAL(18,6) first: quantile_cont on DECIMAL(18,2) would round the
-- interpolated quartiles to cents, while with 6 decimals q1, q3 and the threshold are exact
-- (they have at most 5 decimals), so `amount_pen > threshold` is the exact rule.
-- Exactness of quantile_cont on DECIMAL(18,6): DuckDB interpolates lo + (hi - lo) * f on the
-- integer micro-PEN values, f = the fractional part of (n - 1) * 0.25 (or 0.75), so f is 0, 1/4,
-- 1/2 or 3/4; it forms that product in floating point, but (hi - lo) is a whole number of cents
-- (a multiple of 10^4 micro-PEN) and a quarter of it is a whole number of micro-PEN, exactly
-- representable below 2^53 micro-PEN (about 9 * 10^9 PEN). No rounding happens;
-- tests/test_money_macros.py holds quantile_cont to exact Decimal interpolation. iqr and threshold
-- are DECIMAL subtraction and multiplication (exact). These are statistics, not money outputs;
-- they are published as q1/q3/threshold in transaction_anomalies and anomaly_rate_monthly.
with

purchases as (

    select * from {{ ref('fct_transactions') }}
    where {{ month_in_window('transaction_month') }}
      and txn_type = 'PURCHASE'

),

quartiles as (

    select
        transaction_month,
        segment,
        count(*) as n_purchases,
        cast(quantile_cont(cast(amount_pen as decimal(18, 6)), 0.25) as decimal(18, 6)) as q1,
        cast(quantile_cont(cast(amount_pen as decimal(18, 6)), 0.75) as decimal(18, 6)) as q3
    from purchases
    group by transaction_month, segment
    having count(*) >= 30

),

thresholds as (

    select
        transaction_month,
        segment,
        n_purchases,
        q1,
        q3,
        cast(q3 - q1 as decimal(18, 6)) as iqr,
        cast(q3 + 1.5 * (q3 - q1) as decimal(18, 6)) as threshold
    from quartiles

)

select * from thresholds
