{#-
    On DuckLake (the lakehouse target) every gold table is partitioned by its month: the column a
    model names once as meta.partition_column, as year(col), month(col) (`year=/month=` folders).
    Runs writing different months then delete and insert in disjoint files. An explicit
    `partitioned_by` config still wins; on the embedded DuckDB file nothing changes (dbt-duckdb
    partitions DuckLake relations only).
-#}
{% macro duckdb__get_partitioned_by(relation, temporary) -%}
    {%- set explicit = config.get('partitioned_by', none) or config.get('partition_by', none) -%}
    {%- set column = (config.get('meta') or {}).get('partition_column') -%}
    {%- if temporary or explicit or not column or not adapter.is_ducklake(relation) -%}
        {{ return(dbt.duckdb__get_partitioned_by(relation, temporary)) }}
    {%- endif -%}
    {{ return('year(' ~ column ~ '), month(' ~ column ~ ')') }}
{%- endmacro %}
