{#- The combination of columns is unique (the grain of the model). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(", ") }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(", ") }}
having count(*) > 1
{% endtest %}
