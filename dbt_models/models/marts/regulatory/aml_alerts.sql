-- Anti-money-laundering alerts, one row per account, month and typology, with its evidence
-- (FATF typologies; rules and parameters: var('aml') in dbt_project.yml, docs/aml.md):
--   STRUCTURING             >= structuring_min_deposits cash deposits (BRANCH or ATM) each in
--                           [structuring_band x cash_threshold_pen, cash_threshold_pen) within
--                           structuring_window_days;
--   RAPID_IN_OUT            a credit (TRANSFER_IN or DEPOSIT) >= rapid_min_in_pen followed within
--                           rapid_window_hours by debits (TRANSFER_OUT, WITHDRAWAL) taking at
--                           least rapid_out_share of it;
--   ROUND_NEW_COUNTERPARTY  >= round_min_count transfers out of whole round_unit amounts (in their
--                           currency), each >= round_min_pen, to a counterparty the account had
--                           not paid in the round_lookback_months before;
--   DORMANT_REACTIVATION    an account DORMANT at last month's snapshot whose customer-initiated
--                           flows this month (in and out; not loan payments, bills, auto-debits,
--                           salary or pension) reach dormant_min_flow_pen.
-- A month's rules see that month's movements (and, for new counterparties, the months before):
-- a pattern straddling a month end is judged on its part in each month.
{%- set p = var('aml') %}
{{ config(meta={
    'partition_column': 'alert_month',
    'reads_months_before': {'fct_transactions': p.round_lookback_months, 'fct_account_balance_monthly': 1},
}) }}

with

-- the window's movements and, for the new-counterparty test, the transfers out of the
-- round_lookback_months before
history as (

    select
        transaction_month,
        transaction_id,
        account_id,
        customer_id,
        counterparty_id,
        txn_type,
        channel,
        direction,
        amount,
        amount_pen,
        transaction_ts
    from {{ ref('fct_transactions') }}
    where transaction_ts >= {{ months_before_window(p.round_lookback_months) }}
      and transaction_ts < cast('{{ window_max() }}' as date)
      and ({{ in_window('transaction_ts') }} or (txn_type = 'TRANSFER_OUT' and counterparty_id is not null))

),

movements as (

    select * from history where {{ in_window('transaction_ts') }}

),

-- STRUCTURING ---------------------------------------------------------------------------------
cash_deposits as (

    select * from movements
    where txn_type = 'DEPOSIT' and channel in ('BRANCH', 'ATM') and direction = 'CREDIT'
      and amount_pen >= {{ p.structuring_band }} * {{ p.cash_threshold_pen }}
      and amount_pen < {{ p.cash_threshold_pen }}

),

structuring_windows as (

    select first.account_id, first.transaction_month, count(*) as n_in_window
    from cash_deposits as first
    inner join cash_deposits as later
        on later.account_id = first.account_id
        and later.transaction_month = first.transaction_month
        and later.transaction_ts >= first.transaction_ts
        and later.transaction_ts < first.transaction_ts + interval {{ p.structuring_window_days }} day
    group by first.account_id, first.transaction_month, first.transaction_id

),

structuring as (

    select
        cash_deposits.transaction_month as alert_month,
        'STRUCTURING' as typology,
        cash_deposits.account_id,
        any_value(cash_deposits.customer_id) as customer_id,
        count(*) as n_transactions,
        sum(cash_deposits.amount_pen) as amount_in_pen,
        cast(0 as decimal(18, 2)) as amount_out_pen,
        min(cash_deposits.transaction_ts) as first_ts,
        max(cash_deposits.transaction_ts) as last_ts,
        string_agg(cash_deposits.transaction_id, ',' order by cash_deposits.transaction_ts, cash_deposits.transaction_id)
            as evidence_transaction_ids,
        format('{} cash deposits of {:,.2f} to {:,.2f} PEN (threshold {:,.2f}), up to {} within {} days',
            count(*), min(cash_deposits.amount_pen), max(cash_deposits.amount_pen), {{ p.cash_threshold_pen }},
            any_value(flagged.max_in_window), {{ p.structuring_window_days }}) as evidence
    from cash_deposits
    inner join (
        select account_id, transaction_month, max(n_in_window) as max_in_window
        from structuring_windows
        group by account_id, transaction_month
        having max(n_in_window) >= {{ p.structuring_min_deposits }}
    ) as flagged
        on cash_deposits.account_id = flagged.account_id
        and cash_deposits.transaction_month = flagged.transaction_month
    group by cash_deposits.transaction_month, cash_deposits.account_id

),

-- RAPID_IN_OUT --------------------------------------------------------------------------------
large_credits as (

    select * from movements
    where direction = 'CREDIT' and txn_type in ('TRANSFER_IN', 'DEPOSIT')
      and amount_pen >= {{ p.rapid_min_in_pen }}

),

passed_through as (

    select
        large_credits.transaction_month,
        large_credits.account_id,
        large_credits.customer_id,
        large_credits.transaction_id,
        large_credits.transaction_ts,
        large_credits.amount_pen as in_pen,
        sum(debits.amount_pen) as out_pen,
        max(debits.transaction_ts) as last_out_ts,
        string_agg(debits.transaction_id, ',' order by debits.transaction_ts, debits.transaction_id) as out_ids,
        count(*) as n_out
    from large_credits
    inner join movements as debits
        on debits.account_id = large_credits.account_id
        and debits.transaction_month = large_credits.transaction_month
        and debits.direction = 'DEBIT'
        and debits.txn_type in ('TRANSFER_OUT', 'WITHDRAWAL')
        and debits.transaction_ts > large_credits.transaction_ts
        and debits.transaction_ts <= large_credits.transaction_ts + interval {{ p.rapid_window_hours }} hour
    group by all
    having sum(debits.amount_pen) >= {{ p.rapid_out_share }} * large_credits.amount_pen

),

rapid as (

    select
        transaction_month as alert_month,
        'RAPID_IN_OUT' as typology,
        account_id,
        any_value(customer_id) as customer_id,
        cast(sum(1 + n_out) as bigint) as n_transactions,
        sum(in_pen) as amount_in_pen,
        sum(out_pen) as amount_out_pen,
        min(transaction_ts) as first_ts,
        max(last_out_ts) as last_ts,
        string_agg(transaction_id || ',' || out_ids, ',' order by transaction_ts, transaction_id) as evidence_transaction_ids,
        format('{:,.2f} PEN in, {:,.2f} PEN ({}%) out within {} hours',
            sum(in_pen), sum(out_pen), {{ ratio('100 * sum(out_pen)', 'sum(in_pen)', 1) }}, {{ p.rapid_window_hours }}) as evidence
    from passed_through
    group by transaction_month, account_id

),

-- ROUND_NEW_COUNTERPARTY ----------------------------------------------------------------------
transfers_out as (

    select
        *,
        lag(transaction_ts) over (
            partition by account_id, counterparty_id order by transaction_ts, transaction_id
        ) as previous_payment_ts
    from history
    where txn_type = 'TRANSFER_OUT' and counterparty_id is not null

),

round_to_new as (

    select * from transfers_out
    where {{ in_window('transaction_ts') }}
      and cast(amount * 100 as bigint) % ({{ p.round_unit }} * 100) = 0
      and amount_pen >= {{ p.round_min_pen }}
      and (previous_payment_ts is null
          or previous_payment_ts < transaction_ts - interval {{ p.round_lookback_months }} month)

),

round_new as (

    select
        transaction_month as alert_month,
        'ROUND_NEW_COUNTERPARTY' as typology,
        account_id,
        any_value(customer_id) as customer_id,
        count(*) as n_transactions,
        cast(0 as decimal(18, 2)) as amount_in_pen,
        sum(amount_pen) as amount_out_pen,
        min(transaction_ts) as first_ts,
        max(transaction_ts) as last_ts,
        string_agg(transaction_id, ',' order by transaction_ts, transaction_id) as evidence_transaction_ids,
        format('{} round transfers ({:,.2f} PEN) to {} new counterparties',
            count(*), sum(amount_pen), count(distinct counterparty_id)) as evidence
    from round_to_new
    group by transaction_month, account_id
    having count(*) >= {{ p.round_min_count }}

),

-- DORMANT_REACTIVATION ------------------------------------------------------------------------
dormant_last_month as (

    select account_id, cast(snapshot_month + interval 1 month as date) as alert_month
    from {{ ref('fct_account_balance_monthly') }}
    where status = 'DORMANT'
      and snapshot_month >= {{ months_before_window(1) }}
      and snapshot_month < cast('{{ window_max() }}' as date)

),

dormant as (

    select
        movements.transaction_month as alert_month,
        'DORMANT_REACTIVATION' as typology,
        movements.account_id,
        any_value(movements.customer_id) as customer_id,
        count(*) as n_transactions,
        coalesce(sum(movements.amount_pen) filter (where movements.direction = 'CREDIT'), 0) as amount_in_pen,
        coalesce(sum(movements.amount_pen) filter (where movements.direction = 'DEBIT'), 0) as amount_out_pen,
        min(movements.transaction_ts) as first_ts,
        max(movements.transaction_ts) as last_ts,
        string_agg(movements.transaction_id, ',' order by movements.transaction_ts, movements.transaction_id)
            as evidence_transaction_ids,
        format('dormant at last month end; {:,.2f} PEN of customer-initiated flows in {} movements',
            sum(movements.amount_pen), count(*)) as evidence
    from movements
    inner join dormant_last_month
        on movements.account_id = dormant_last_month.account_id
        and movements.transaction_month = dormant_last_month.alert_month
    where movements.txn_type not in ('LOAN_PAYMENT', 'BILL_PAYMENT', 'AUTO_DEBIT', 'SALARY', 'PENSION')
    group by movements.transaction_month, movements.account_id
    having sum(movements.amount_pen) >= {{ p.dormant_min_flow_pen }}

),

alerts as (

    select * from structuring
    union all by name
    select * from rapid
    union all by name
    select * from round_new
    union all by name
    select * from dormant

),

final as (

    select
        alert_month,
        typology || '-' || account_id || '-' || strftime(alert_month, '%Y%m') as alert_id,
        typology,
        account_id,
        customer_id,
        n_transactions,
        cast(amount_in_pen as decimal(18, 2)) as amount_in_pen,
        cast(amount_out_pen as decimal(18, 2)) as amount_out_pen,
        first_ts,
        last_ts,
        evidence_transaction_ids,
        evidence
    from alerts

)

select * from final
