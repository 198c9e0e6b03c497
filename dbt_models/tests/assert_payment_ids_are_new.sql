-- A payment_id of the window's months never appeared in an earlier month (silver checks uniqueness
-- inside a month; this catches an id re-sent in a later month's file). Reads the month's ids and
-- the ids of earlier months only.
{{ config(meta={'partition_column': 'due_month'}) }}
select current_month.payment_id, current_month.due_month
from {{ ref('stg_silver__loan_payments') }} as current_month
where {{ month_in_window('current_month.due_month') }}
  and exists (
        select 1 from {{ ref('stg_silver__loan_payments') }} as earlier
        where earlier.payment_id = current_month.payment_id
          and earlier.due_month < current_month.due_month
    )
