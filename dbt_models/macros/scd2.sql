{#-
    True when any tracked column differs (NULL-safe) from the previous row of `window_name`:
    the start of a new SCD2 version in a gaps-and-islands pass over ordered snapshots.
-#}
{% macro scd2_changed(columns, window_name) -%}
    (
    {%- for column in columns %}
        lag({{ column }}) over {{ window_name }} is distinct from {{ column }}{{ " or" if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{#- Deterministic surrogate key from a list of column expressions. -#}
{% macro surrogate_key(expressions) -%}
    md5(concat_ws('|', {% for e in expressions %}coalesce(cast({{ e }} as varchar), '~'){{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}

{#-
    A slowly changing dimension (type 2) maintained month by month from monthly snapshots.

    A month's snapshot opens a version for every entity that was absent from the previous month's
    snapshot (new, or back after a gap) or whose tracked attributes differ from it; the version is
    keyed md5(key | valid_from). Only the window's months and the month before are read, so a
    month costs the same however long the history. Attributes in `carried` are taken from the
    version's first snapshot. `scd2_close_versions` (post-hook) then sets valid_to = the next
    version's valid_from and is_current, for every entity with an open or recently closed version,
    so re-running a month (delete + insert of the versions it opened) leaves the same table.
-#}
{% macro scd2_monthly(source, key, tracked, carried, sk_name) -%}
with

snapshots as (

    select * from {{ ref(source) }}
    where snapshot_month >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval 1 month as date)
      and snapshot_month < cast('{{ window_max() }}' as date)

),

compared as (

    select
        current_snapshot.*,
        previous_snapshot.{{ key }} is null as is_new,
        (
        {%- for column in tracked %}
            current_snapshot.{{ column }} is distinct from previous_snapshot.{{ column }}{{ " or" if not loop.last }}
        {%- endfor %}
        ) as has_changed
    from snapshots as current_snapshot
    left join snapshots as previous_snapshot
        on previous_snapshot.{{ key }} = current_snapshot.{{ key }}
        and previous_snapshot.snapshot_month = cast(current_snapshot.snapshot_month - interval 1 month as date)
    where {{ month_in_window('current_snapshot.snapshot_month') }}

),

final as (

    select
        {{ surrogate_key([key, 'snapshot_month']) }} as {{ sk_name }},
        {{ key }},
        {%- for column in tracked + carried %}
        {{ column }},
        {%- endfor %}
        snapshot_month as valid_from,
        cast(null as date) as valid_to,
        true as is_current
    from compared
    where is_new or has_changed

)

select * from final
{%- endmacro %}

{#- Post-hook of scd2_monthly models: valid_to = next version's valid_from, is_current = no next version. -#}
{#-
    Post-hook of an SCD2 dimension: its key and surrogate key come from the model's
    meta.scd2 ({'key': ..., 'surrogate_key': ...}), the one place a dimension declares them (the
    run journal reads them there too: bank_assets/assets/gold_journal.py).
-#}
{% macro scd2_close_versions() -%}
    {#- at parse time the model's config is still being read: the check applies when it runs -#}
    {%- set scd2 = model.config.meta.get('scd2') or {} -%}
    {%- set key, sk_name = scd2.get('key', 'key'), scd2.get('surrogate_key', 'surrogate_key') -%}
    {%- if execute and not (scd2.get('key') and scd2.get('surrogate_key')) -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": scd2_close_versions needs meta.scd2 = {'key': ..., 'surrogate_key': ...}") }}
    {%- endif -%}
    update {{ this }} as dim
    set valid_to = next_versions.next_valid_from,
        is_current = next_versions.next_valid_from is null
    from (
        select
            {{ sk_name }},
            lead(valid_from) over (partition by {{ key }} order by valid_from) as next_valid_from
        from {{ this }}
        where {{ key }} in (
            select {{ key }} from {{ this }}
            where valid_to is null or valid_to >= cast('{{ window_min() }}' as date)
        )
    ) as next_versions
    where dim.{{ sk_name }} = next_versions.{{ sk_name }}
      and (dim.valid_to is distinct from next_versions.next_valid_from
           or dim.is_current is distinct from (next_versions.next_valid_from is null))
{%- endmacro %}

{#-
    The join condition of a fact row to the SCD2 `dimension` version valid in the fact's month:
    same business key, valid_from <= month < valid_to (an open version's valid_to is NULL).
    `fact_key` when the fact names the key differently (applications.product -> product_code).
-#}
{% macro scd2_version_at(dimension, key, fact, month, fact_key=none) -%}
    {{ fact }}.{{ fact_key or key }} = {{ dimension }}.{{ key }}
        and {{ fact }}.{{ month }} >= {{ dimension }}.valid_from
        and {{ fact }}.{{ month }} < coalesce({{ dimension }}.valid_to, date '9999-12-31')
{%- endmacro %}
