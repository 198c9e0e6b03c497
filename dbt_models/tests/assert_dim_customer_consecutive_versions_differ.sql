{{ config(meta={'partition_column': 'valid_from', 'dagster': {'ref': {'name': 'dim_customer'}}}) }}
-- Every version opened in the window starts where the previous version of the customer ends,
-- and the customer was either absent from the previous month's snapshot or differed from it
-- in a tracked attribute. Returns the offending versions.
{#- the tracked attributes of dim_customer.sql's scd2_monthly call -#}
{% set tracked = ['segment', 'district', 'city', 'address_hash', 'income_band', 'employment_status', 'status',
                  'national_id_hash', 'signup_date', 'birth_year'] %}
with

versions as (

    select
        *,
        lag(valid_to) over (partition by customer_id order by valid_from) as previous_valid_to,
        lag(valid_from) over (partition by customer_id order by valid_from) as previous_valid_from
    from {{ ref('dim_customer') }}

),

opened as (

    select * from versions
    where {{ month_in_window('valid_from') }}

),

previous_month as (

    select * from {{ ref('stg_silver__customers') }}

)

select opened.customer_id, opened.valid_from
from opened
left join previous_month
    on previous_month.customer_id = opened.customer_id
    and previous_month.snapshot_month = cast(opened.valid_from - interval 1 month as date)
where (opened.previous_valid_from is not null and opened.previous_valid_to is distinct from opened.valid_from)
   or (
       previous_month.customer_id is not null
       {%- for column in tracked %}
       and previous_month.{{ column }} is not distinct from opened.{{ column }}
       {%- endfor %}
   )
