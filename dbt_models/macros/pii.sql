{#-
    One-way hash of a PII expression (hex SHA-256). With BANK_PII_HASH_SALT unset this is exactly
    sha256(expression); set it in production, because an unsalted hash of a short identifier
    (an 8-digit DNI) can be reversed by enumeration.
-#}
{% macro hash_pii(expression) -%}
    {%- set salt = env_var('BANK_PII_HASH_SALT', '') -%}
    {%- if salt -%}
        sha256('{{ salt }}' || {{ expression }})
    {%- else -%}
        sha256({{ expression }})
    {%- endif -%}
{%- endmacro %}
