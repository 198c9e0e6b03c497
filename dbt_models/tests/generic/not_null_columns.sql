{#-
    Several columns of a model are never NULL, in one query (one test node instead of one per
    column keeps `dbt build` fast). Fails with one row per column that has NULLs.
-#}
{% test not_null_columns(model, column_names) %}
select column_name, n_nulls
from (
    {%- for column in column_names %}
    select '{{ column }}' as column_name, count(*) filter (where {{ column }} is null) as n_nulls
    from {{ model }}
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
) as null_counts
where n_nulls > 0
{% endtest %}
