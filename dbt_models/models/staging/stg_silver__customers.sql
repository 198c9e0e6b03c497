{{ config(meta={'partition_column': 'snapshot_month'}) }}

-- PII stops here: names, email, phone, street and national id are dropped; only the keyed
-- pseudonyms of the national id and of the address leave staging. Silver computes them
-- (HMAC-SHA256, bank_assets/pseudonym.py) so that the key never appears in SQL or dbt artifacts.
with

source as (

    select * from {{ source('silver', 'customers') }}

),

renamed as (

    select

        -- ids
        customer_id,
        national_id_hash,

        -- attributes
        segment,
        income_band,
        employment_status,
        status,
        district,
        city,
        address_hash,

        -- dates
        birth_date,
        year(birth_date) as birth_year,
        signup_date,
        snapshot_date,
        cast(date_trunc('month', snapshot_date) as date) as snapshot_month

    from source

)

select * from renamed
