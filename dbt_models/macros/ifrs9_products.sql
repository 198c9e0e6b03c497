{#- vars.ifrs9.products as a relation: product, prior_pd_12m, lgd (both DECIMAL(18,6)). -#}
{% macro ifrs9_products() -%}
    (select * from (values
        {%- for product, q in var('ifrs9').products.items() %}
        ('{{ product }}', cast({{ q.prior_pd_12m }} as decimal(18, 6)), cast({{ q.lgd }} as decimal(18, 6)))
        {{- "," if not loop.last }}
        {%- endfor %}
    ) as t (product, prior_pd_12m, lgd))
{%- endmacro %}
