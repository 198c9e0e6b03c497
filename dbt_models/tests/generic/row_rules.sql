{#-
    Every rule of a model in ONE test node: one scan of the month's rows for the row rules, one
    query per key or reference rule, instead of one dbt node (~45 ms) per rule per month.

    Fails with one row per broken rule and month: `month` (the month of the model's partition
    column, meta.partition_column; NULL for a model without one), `rule` (its name, e.g.
    "not_null(customer_sk)"), `failures` (offending rows; for `unique`, keys duplicated within the
    month) and `examples` (up to five offending values). The test's failure count is the sum of
    `failures`. Rules hold month by month, so a window of several months is checked exactly as
    each of its months would be alone. Inside Dagster, on the embedded default, dbt compiles this
    test and the gold step runs its query after the build (bank_assets.assets.gold_rules), reading
    these rows into the Dagster check of each month; elsewhere dbt runs it in the build and the
    step re-runs the compiled query when it fails (bank_assets.assets.gold_checks).

    `rules` is a list; each rule is one of
      {not_null: [col, ...]}                     the columns are never NULL (one rule per column)
      {unique: [col, ...]}                       the combination is unique (one column: NULLs ignored)
      {column: c, accepted_values: [v, ...]}     non-NULL values are among these
      {column: c, min: x, max: y}                non-NULL values lie in [min, max] (either optional)
      {column: c, references: model, field: f}   non-NULL values exist in model.f
      {expression: "sql"}                        every row satisfies it (false or NULL fails)
    and any rule may add `where: "sql"`: it then applies to the rows satisfying that condition.
    The model's rows are the window's (macros/test_window.sql); a referenced model is read whole.
-#}
{% test row_rules(model, rules) %}
{{ config(fail_calc='coalesce(sum(failures), 0)') }}
{%- set partition_column = tested_partition_column() -%}
{%- set month = ("cast(date_trunc('month', " ~ partition_column ~ ") as date)") if partition_column else 'cast(null as date)' -%}
{%- set row_checks = [] -%}
{%- set set_checks = [] -%}
{%- for rule in rules -%}
    {%- set where = rule.get('where') -%}
    {%- set scope = (' and (' ~ where ~ ')') if where else '' -%}
    {%- set suffix = (' where ' ~ where) if where else '' -%}
    {%- if 'not_null' in rule -%}
        {%- for column in rule['not_null'] -%}
            {%- do row_checks.append(('not_null(' ~ column ~ ')' ~ suffix, column ~ ' is null' ~ scope, none)) -%}
        {%- endfor -%}
    {%- elif 'unique' in rule -%}
        {%- set columns = rule['unique'] -%}
        {%- set nulls = (' and ' ~ columns[0] ~ ' is not null') if columns | length == 1 else '' -%}
        {%- do set_checks.append((
            'unique(' ~ columns | join(', ') ~ ')' ~ suffix,
            "select _rule_month, concat_ws('|', " ~ columns | join(', ') ~ ") as example from checked where true"
            ~ nulls ~ scope ~ ' group by _rule_month, ' ~ columns | join(', ') ~ ' having count(*) > 1'
        )) -%}
    {%- elif 'accepted_values' in rule -%}
        {%- set values = [] -%}
        {%- for v in rule['accepted_values'] -%}
            {%- do values.append("'" ~ (v | string | replace("'", "''")) ~ "'" if v is string else v | string) -%}
        {%- endfor -%}
        {%- do row_checks.append((
            'accepted_values(' ~ rule['column'] ~ ')' ~ suffix,
            rule['column'] ~ ' is not null and ' ~ rule['column'] ~ ' not in (' ~ values | join(', ') ~ ')' ~ scope,
            rule['column']
        )) -%}
    {%- elif 'references' in rule -%}
        {%- set column = rule['column'] -%}
        {%- do set_checks.append((
            'references(' ~ column ~ ' -> ' ~ rule['references'] ~ '.' ~ rule['field'] ~ ')' ~ suffix,
            'select child._rule_month, ' ~ column ~ ' as example from checked as child where ' ~ column ~ ' is not null' ~ scope
            ~ ' and not exists (select 1 from ' ~ ref(rule['references']) ~ ' as parent where parent.'
            ~ rule['field'] ~ ' = child.' ~ column ~ ')'
        )) -%}
    {%- elif 'min' in rule or 'max' in rule -%}
        {%- set column = rule['column'] -%}
        {%- set low = rule.get('min') -%}
        {%- set high = rule.get('max') -%}
        {%- set bounds = [] -%}
        {%- if low is not none -%}{%- do bounds.append(column ~ ' < ' ~ low) -%}{%- endif -%}
        {%- if high is not none -%}{%- do bounds.append(column ~ ' > ' ~ high) -%}{%- endif -%}
        {%- set label = ((low | string ~ ' <= ') if low is not none else '') ~ column ~ ((' <= ' ~ high | string) if high is not none else '') -%}
        {%- do row_checks.append((
            'range(' ~ label ~ ')' ~ suffix,
            column ~ ' is not null and (' ~ bounds | join(' or ') ~ ')' ~ scope,
            column
        )) -%}
    {%- elif 'expression' in rule -%}
        {%- do row_checks.append((rule['expression'] ~ suffix, 'not coalesce((' ~ rule['expression'] ~ '), false)' ~ scope, none)) -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": unknown rule " ~ rule ~ " (see tests/generic/row_rules.sql)") }}
    {%- endif -%}
{%- endfor %}
with checked as (select *, {{ month }} as _rule_month from {{ model }})
{%- if row_checks %},
row_counts as (
    select
        _rule_month,
    {%- for name, condition, example in row_checks %}
        count(*) filter (where {{ condition }}) as failures_{{ loop.index }},
        {% if example -%}
        list_slice(list(distinct cast({{ example }} as varchar)) filter (where {{ condition }}), 1, 5)
        {%- else -%}
        cast(null as varchar[])
        {%- endif %} as examples_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from checked
    group by _rule_month
)
{%- endif %},
results as (
    {%- for name, condition, example in row_checks %}
    select _rule_month as month, '{{ name | replace("'", "''") }}' as rule, failures_{{ loop.index }} as failures,
        examples_{{ loop.index }} as examples
    from row_counts
    union all
    {%- endfor %}
    {%- for name, query in set_checks %}
    select _rule_month as month, '{{ name | replace("'", "''") }}' as rule, count(*) as failures,
        list_slice(list(distinct cast(example as varchar)), 1, 5) as examples
    from ({{ query }}) as offending
    group by _rule_month
    union all
    {%- endfor %}
    select cast(null as date) as month, null as rule, 0 as failures, cast(null as varchar[]) as examples where false
)
select month, rule, failures, examples from results where failures > 0
{% endtest %}
