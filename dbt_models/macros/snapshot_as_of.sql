{#-
    CTEs giving each row of `rows` the `columns` ({alias: column}) of the latest snapshot of its
    `key` at or before its `month` (`snapshots` has one row per key and snapshot_month), as the
    CTE `name`. The row's own month's snapshot is found by an equality join; the ASOF join (a sort
    of both sides) runs only for the rows without one, over the snapshots of their keys alone. With
    one snapshot per key and month, both paths pick the row an ASOF join of everything would.
-#}
{% macro snapshot_as_of(name, rows, snapshots, key, month, columns) -%}
{{ name }}_same_month as (

    select
        {{ rows }}.*,
        {{ snapshots }}.{{ key }} is not null as found_in_month,
        {%- for alias, column in columns.items() %}
        {{ snapshots }}.{{ column }} as {{ alias }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ rows }}
    left join {{ snapshots }}
        on {{ rows }}.{{ key }} = {{ snapshots }}.{{ key }}
        and {{ rows }}.{{ month }} = {{ snapshots }}.snapshot_month

),

{{ name }}_earlier as (

    select * exclude (found_in_month, {{ columns.keys() | join(', ') }})
    from {{ name }}_same_month
    where not found_in_month

),

{{ name }} as (

    select * exclude (found_in_month) from {{ name }}_same_month where found_in_month

    union all by name

    select
        {{ name }}_earlier.*,
        {%- for alias, column in columns.items() %}
        latest.{{ column }} as {{ alias }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ name }}_earlier
    asof left join (
        select * from {{ snapshots }}
        where {{ key }} in (select {{ key }} from {{ name }}_earlier)
    ) as latest
        on {{ name }}_earlier.{{ key }} = latest.{{ key }}
        and {{ name }}_earlier.{{ month }} >= latest.snapshot_month

)
{%- endmacro %}
