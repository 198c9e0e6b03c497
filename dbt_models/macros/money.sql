{#- Money in the reporting currency: DECIMAL(18,2), rounded half away from zero to cents. -#}
{% macro to_money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}

{#- A ratio as DECIMAL(18,6); NULL when the denominator is 0 or NULL. -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast(round(cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0), 6) as decimal(18, 6))
{%- endmacro %}
