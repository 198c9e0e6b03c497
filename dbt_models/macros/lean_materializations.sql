{#-
    The two materializations every build runs, in the fewest statements (DuckDB and DuckLake).

    A month's gold is 60 models; dbt-duckdb's own `incremental` and dbt's `view` spend ~70 ms of
    Python (Jinja) and ~8 SQL statements on each (temporary relation, two DESCRIBEs, column type
    expansion, renames, backups, drops), far more than the month's data work at small scale.

    * incremental, on an existing table (the monthly path): the pre-hook deletes the window's
      months (macros/window.sql, delete_window), one query compares the query's columns with the
      table's (on_schema_change: fail, with the differing columns named), and one
      `insert ... by name` appends the window's rows, all in the model's transaction. Each row
      is computed once and written once.
    * view: `create or replace view` in one statement.

    Everything else (the first build of a table, --full-refresh, a view replacing a table, Python
    models, an on_schema_change other than fail, a strategy other than append or a unique_key)
    goes to the adapter's own materialization, unchanged. Grants and persisted docs are not
    configured in this project; the lean path does not apply them. A root-project materialization for the adapter is found before the adapter's own
    (dbt's documented precedence); tests/test_library_seams.py fails if that stops being true or if
    the macros called below disappear, and tests/test_pipeline_gold.py builds every model with it.
-#}

{% materialization incremental, adapter="duckdb", supported_languages=["sql", "python"] -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if model.language != "sql" or existing_relation is none or existing_relation.type != "table"
            or should_full_refresh() or config.get("on_schema_change") != "fail"
            or config.get("incremental_strategy") not in (none, "append") or config.get("unique_key") -%}
        {{ return(dbt.materialization_incremental_duckdb()) }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type="table") -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- set differences = run_query(lean_column_differences(target_relation, compiled_code)) -%}
    {%- if differences.rows | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "The source and target schemas on this incremental model are out of sync (on_schema_change: fail): "
            ~ (differences.rows | map("join", " only in the ") | join("; "))
            ~ ". Run with --full-refresh to rebuild " ~ target_relation ~ ".") }}
    {%- endif -%}
    {% call statement("main") -%}
        insert into {{ target_relation }} by name
        select * from (
            {{ compiled_code }}
        )
    {%- endcall %}
    {{ return(lean_finish(target_relation)) }}
{%- endmaterialization %}

{#- The columns only the table has or only the query has, one row each: (column, "table" or "query"). -#}
{% macro lean_column_differences(relation, compiled_code) -%}
    with table_columns as (select column_name from (describe {{ relation }})),
    query_columns as (select column_name from (describe (
        {{ compiled_code }}
    )))
    select column_name, 'query' from query_columns where column_name not in (select column_name from table_columns)
    union all
    select column_name, 'table' from table_columns where column_name not in (select column_name from query_columns)
{%- endmacro %}

{% materialization view, adapter="duckdb" -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is not none and existing_relation.type != "view" -%}
        {{ return(dbt.materialization_view_default()) }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type="view") -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {% call statement("main") -%}
        create or replace view {{ target_relation }} as (
            {{ sql }}
        )
    {%- endcall %}
    {{ return(lean_finish(target_relation)) }}
{%- endmaterialization %}

{#- The end of both: post-hooks inside the model's transaction, COMMIT, post-hooks after it. -#}
{% macro lean_finish(relation) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({"relations": [relation]}) }}
{%- endmacro %}
