-- Two consecutive versions of a customer must differ in at least one tracked attribute,
-- and each non-current version must end where the next one starts.
with

versions as (

    select
        *,
        lead(valid_from) over by_version as next_valid_from,
        lag(segment) over by_version as prev_segment,
        lag(district) over by_version as prev_district,
        lag(city) over by_version as prev_city,
        lag(address_hash) over by_version as prev_address_hash,
        lag(income_band) over by_version as prev_income_band,
        lag(employment_status) over by_version as prev_employment_status,
        lag(status) over by_version as prev_status,
        lag(customer_id) over by_version as prev_customer_id
    from {{ ref('dim_customer') }}
    window by_version as (partition by customer_id order by valid_from)

)

select customer_id, valid_from
from versions
where valid_to is distinct from next_valid_from
   or (
       prev_customer_id is not null
       and segment is not distinct from prev_segment
       and district is not distinct from prev_district
       and city is not distinct from prev_city
       and address_hash is not distinct from prev_address_hash
       and income_band is not distinct from prev_income_band
       and employment_status is not distinct from prev_employment_status
       and status is not distinct from prev_status
   )
