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
