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
    * incremental, the first build of a table in the DuckDB file: `create table ... as` the
      window's rows in one statement.
    * view: `create or replace view` in one statement.

    A window of several months is written in the order of its month column (meta.partition_column).
    DuckDB writes a large unordered insert from each of its threads, leaving several part-filled
    row groups, which the next checkpoint after a later append merges by rewriting them: six small
    months of gold.fct_transactions in one insert, then one month appended, cost that checkpoint
    ~1.7 s unordered and 0.2 s ordered (the insert itself no slower; docs/performance.md). A
    one-month window keeps its unordered insert (one large month: ordering costs more than it saves).

    Everything else (the first build on DuckLake, whose partitioning the adapter applies,
    --full-refresh, a view replacing a table, Python models, an on_schema_change other than fail,
    a strategy other than append or a unique_key, a model without meta.partition_column) goes to
    the adapter's own materialization, unchanged. Grants and persisted docs are not
    configured in this project; the lean path does not apply them. A root-project materialization for the adapter is found before the adapter's own
    (dbt's documented precedence); tests/test_library_seams.py fails if that stops being true or if
    the macros called below disappear, and tests/test_pipeline_gold.py builds every model with it.
-#}

{% materialization incremental, adapter="duckdb", supported_languages=["sql", "python"] -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type="table") -%}
    {%- set month_column = (config.get("meta") or {}).get("partition_column") -%}
    {%- if model.language != "sql" or should_full_refresh() or config.get("on_schema_change") != "fail"
            or config.get("incremental_strategy") not in (none, "append") or config.get("unique_key")
            or not month_column
            or (existing_relation is not none and existing_relation.type != "table")
            or (existing_relation is none and adapter.is_ducklake(target_relation)) -%}
        {{ return(dbt.materialization_incremental_duckdb()) }}
    {%- endif -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if existing_relation is none -%}
        {% call statement("main") -%}
            create table {{ target_relation }} as
            select * from (
                {{ compiled_code }}
            ){{ lean_month_order(month_column) }}
        {%- endcall %}
        {{ return(lean_finish(target_relation)) }}
    {%- endif -%}
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
        ){{ lean_month_order(month_column) }}
    {%- endcall %}
    {{ return(lean_finish(target_relation)) }}
{%- endmaterialization %}

{#- ` order by <month column>` when the window spans several months (see the top of this file), else nothing. -#}
{% macro lean_month_order(month_column) -%}
    {%- set first = modules.datetime.date.fromisoformat(window_min()) -%}
    {%- set after = modules.datetime.date.fromisoformat(window_max()) -%}
    {%- if (after - first).days > 31 %}
        order by {{ adapter.quote(month_column) }}
    {%- endif -%}
{%- endmacro %}

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
