{#-
    Data tests check the month they run for. dbt's generic tests read their model through
    get_where_subquery(); this project's version adds the processing window
    [window_min(), window_max()) on the model's partition column, declared once per model as
    `config: meta: partition_column: <column>`. A model without one is tested whole. Inside
    Dagster a build's window is its run's months, so a test's cost follows them, not the history.
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set column = tested_partition_column() -%}
    {%- if column -%}
        {%- do conditions.append(in_window(column)) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The partition column of the model a generic test is attached to (known at execution only). -#}
{% macro tested_partition_column() -%}
    {%- if execute and model.attached_node and model.attached_node in graph.nodes -%}
        {{ return(graph.nodes[model.attached_node].config.meta.get('partition_column')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
