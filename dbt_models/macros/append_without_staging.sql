{#-
    Incremental models append the window's rows without staging them in a temporary table first.

    dbt-duckdb's incremental materialization builds the model's query into a temporary table,
    then inserts that table into the target: every row of the month is written twice (for
    fct_transactions, a million rows: ~1.5 s of a large month, measured by the benchmark). Here
    the temporary relation of an incremental model is a temporary *view* of the same query, so
    the `insert into target select ... from <temp>` that follows computes the query once and
    writes each row once.

    Same result: the materialization creates the temporary relation after the pre-hooks (our
    delete_window) and inserts from it right away, so a view sees exactly the state a table would
    have captured; the schema-change check (on_schema_change: fail) reads the view's columns the
    same way. Everything else (tables, full refreshes, unit tests) goes to dbt-duckdb's own macro.
    This overrides an adapter macro through dbt's documented dispatch order (the root project's
    `duckdb__create_table_as` is found first); tests/test_pipeline_gold.py builds every model with it,
    and tests/test_library_seams.py fails if dbt-duckdb's materialization changes that order.
-#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if temporary and language == 'sql' and model is defined and model.config.materialized == 'incremental' -%}
        create or replace temporary view {{ relation.include(database=false, schema=false) }} as (
            {{ compiled_code }}
        )
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}
