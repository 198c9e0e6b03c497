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

{#-
    Pre-hook of the monthly incremental models: on an incremental run, delete every month of the
    window before the delete+insert. delete+insert on the month key alone replaces the months that
    come back with rows; this also clears a month of the window that now has no rows at all, so a
    run leaves exactly what the window contains: no duplicates, no leftovers. Runs inside the
    model's transaction.
-#}
{% macro delete_window(month_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ month_in_window(month_column) }}
    {%- endif -%}
{%- endmacro %}
