-- Real-time monitoring: which accounts moved money out unusually fast on the latest posting day?
-- The alert day of a month is its latest posting day in the data (max(transaction_date) of the
-- month's transactions; nothing reads the clock). For every account with DEBIT transactions that
-- day:
--   n_debits            = the day's DEBIT transactions
--   debit_amount_pen    = their sum of amount_pen
--   lookback            = the 90 days before the alert day, [alert_date - 90, alert_date)
--   lookback_days       = alert_date - the first posting day (bank-wide) inside the lookback:
--                         90 once 90 days of history are loaded, fewer in the bank's first months
--   baseline_daily_pen  = the account's DEBIT amount_pen over the lookback / lookback_days (days
--                         without debits count as 0), exact, rounded half away from zero to cents
-- The rule (a row per account that matches at least one part; `rule` names the parts that matched):
--   COUNT   n_debits >= 5                              (a burst of debits in one day)
--   AMOUNT  n_debits >= 3 and debit_amount_pen >= 10 x the mean daily debits of the lookback,
--           compared exactly on the unrounded sums (debit_amount * lookback_days >= 10 * lookback
--           sum); an account without debits in the lookback has a baseline of 0 and matches with
--           3 debits (a dormant account waking up with a burst)
-- Calibrated on the synthetic small scale: a handful of alerts a month, well under 1 % of accounts.
-- Ids only (account, customer): no PII.
{%- set min_debits_count_rule = 5 %}
{%- set min_debits_amount_rule = 3 %}
{%- set amount_multiple = 10 %}
{%- set lookback_days = 90 %}
{{ config(meta={'partition_column': 'alert_month', 'reads_months_before': {'fct_transactions': 3}}) }}

with

month_transactions as (

    select * from {{ ref('fct_transactions') }}
    where {{ in_window('transaction_ts') }}

),

alert_days as (

    select
        transaction_month as alert_month,
        max(transaction_date) as alert_date
    from month_transactions
    group by transaction_month

),

day_debits as (

    select
        alert_days.alert_month,
        alert_days.alert_date,
        month_transactions.account_id,
        min(month_transactions.customer_id) as customer_id,
        count(*) as n_debits,
        sum(month_transactions.amount_pen) as debit_amount
    from month_transactions
    inner join alert_days
        on month_transactions.transaction_date = alert_days.alert_date
    where month_transactions.direction = 'DEBIT'
    group by alert_days.alert_month, alert_days.alert_date, month_transactions.account_id

),

lookback_transactions as (

    -- every transaction that can fall in an alert day's lookback
    select account_id, direction, amount_pen, transaction_date from {{ ref('fct_transactions') }}
    where transaction_ts >= cast('{{ window_min() }}' as date) - interval {{ lookback_days }} day
      and transaction_ts < cast('{{ window_max() }}' as date)

),

lookback_spans as (

    select
        alert_days.alert_date,
        alert_days.alert_date - min(lookback_transactions.transaction_date) as lookback_days
    from alert_days
    inner join lookback_transactions
        on lookback_transactions.transaction_date >= alert_days.alert_date - {{ lookback_days }}
        and lookback_transactions.transaction_date < alert_days.alert_date
    group by alert_days.alert_date

),

lookback_debits as (

    select
        day_debits.alert_date,
        day_debits.account_id,
        sum(lookback_transactions.amount_pen) as lookback_amount
    from day_debits
    inner join lookback_transactions
        on lookback_transactions.account_id = day_debits.account_id
        and lookback_transactions.transaction_date >= day_debits.alert_date - {{ lookback_days }}
        and lookback_transactions.transaction_date < day_debits.alert_date
    where lookback_transactions.direction = 'DEBIT'
    group by day_debits.alert_date, day_debits.account_id

),

scored as (

    select
        day_debits.*,
        lookback_spans.lookback_days,
        coalesce(lookback_debits.lookback_amount, 0) as lookback_amount,
        day_debits.n_debits >= {{ min_debits_count_rule }} as matches_count,
        day_debits.n_debits >= {{ min_debits_amount_rule }}
            and lookback_spans.lookback_days > 0
            and day_debits.debit_amount * lookback_spans.lookback_days
                >= {{ amount_multiple }} * coalesce(lookback_debits.lookback_amount, 0) as matches_amount
    from day_debits
    left join lookback_spans
        on day_debits.alert_date = lookback_spans.alert_date
    left join lookback_debits
        on day_debits.alert_date = lookback_debits.alert_date
        and day_debits.account_id = lookback_debits.account_id

),

final as (

    select
        -- dates
        alert_date,
        alert_month,

        -- ids
        account_id,
        customer_id,

        -- measures
        n_debits,
        {{ to_money('debit_amount') }} as debit_amount_pen,
        lookback_days,
        {{ money_div('lookback_amount', 'lookback_days') }} as baseline_daily_pen,
        concat_ws('+',
            case when matches_count then 'COUNT' end,
            case when matches_amount then 'AMOUNT' end
        ) as rule

    from scored
    where matches_count or matches_amount

)

select * from final
