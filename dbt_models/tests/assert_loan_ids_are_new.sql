-- A loan_id of the window's months never appeared in an earlier month (silver checks uniqueness
-- inside a month; this catches an id re-sent in a later month's file). Reads the month's ids and
-- the ids of earlier months only.
{{ config(meta={'partition_column': 'origination_month'}) }}
select current_month.loan_id, current_month.origination_month
from {{ ref('stg_silver__loans') }} as current_month
where {{ month_in_window('current_month.origination_month') }}
  and exists (
        select 1 from {{ ref('stg_silver__loans') }} as earlier
        where earlier.loan_id = current_month.loan_id
          and earlier.origination_month < current_month.origination_month
    )
