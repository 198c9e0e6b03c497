{#-
    The processing window is half-open: [window_min(), window_max()).

    Its bounds come from the environment variables BANK_DBT_MIN_DATE / BANK_DBT_MAX_DATE when set
    (Dagster sets them for a partitioned run: changing an env var only re-parses the models that
    read it, while changing --vars re-parses the whole project), else from the vars min_date /
    max_date (defaults in dbt_project.yml cover everything). Always filter with
    `>= window_min() and < window_max()`, never BETWEEN. Dagster passes month boundaries.
-#}

{% macro window_min() -%}
    {{ return(env_var('BANK_DBT_MIN_DATE', var('min_date'))) }}
{%- endmacro %}

{% macro window_max() -%}
    {{ return(env_var('BANK_DBT_MAX_DATE', var('max_date'))) }}
{%- endmacro %}

{#- `column` falls inside the window (works for DATE and TIMESTAMP columns). -#}
{% macro in_window(column) -%}
    ({{ column }} >= cast('{{ window_min() }}' as date) and {{ column }} < cast('{{ window_max() }}' as date))
{%- endmacro %}

{#- A month-start column whose month overlaps the window. -#}
{% macro month_in_window(month_column) -%}
    ({{ month_column }} >= cast(date_trunc('month', cast('{{ window_min() }}' as date)) as date)
        and {{ month_column }} < cast('{{ window_max() }}' as date))
{%- endmacro %}

{#- The first day of the month `n` months before the window's first month (a DATE literal expression). -#}
{% macro months_before_window(n) -%}
    cast(date_trunc('month', cast('{{ window_min() }}' as date)) - interval {{ n }} month as date)
{%- endmacro %}

{#-
    Pre-hook of every monthly model (set for marts in dbt_project.yml): on an incremental run,
    delete every month of the window from the model's partition column (meta.partition_column),
    then dbt appends what the window holds. A run leaves exactly what the window contains: no
    duplicates, no leftovers, and a month of the window that now has no rows is emptied too.
    Runs inside the model's transaction.
-#}
{% macro delete_window(month_column=none) -%}
    {%- if execute and is_incremental() -%}
        {%- set column = month_column or model.config.meta.get('partition_column') -%}
        {%- if not column -%}
            {{ exceptions.raise_compiler_error(model.name ~ ": an incremental model needs meta.partition_column") }}
        {%- endif -%}
        delete from {{ this }} where {{ month_in_window(column) }}
    {%- endif -%}
{%- endmacro %}
