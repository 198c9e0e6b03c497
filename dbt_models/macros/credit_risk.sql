{#-
    Credit-risk quantities that need pow, exp, ln or sqrt (probabilities over a horizon, a
    logistic shift, a Wilson interval, an annuity's balance). They are the one place gold computes
    in DOUBLE: each is formed in DOUBLE and rounded ONCE, half away from zero, to its output scale
    (probabilities DECIMAL(18,6), money DECIMAL(18,2)); everything computed from them afterwards is
    exact DECIMAL (macros/money.sql). tests/test_money_macros.py exempts this file, and only it,
    from the no-DOUBLE rule. docs/ifrs9.md states each formula.
-#}

{#- 1 - (1 - p)^(months / 12): a 12-month probability `p` over `months`, DECIMAL(18,6). -#}
{% macro probability_over_months(p, months) -%}
    cast(round(1 - pow(1 - cast({{ p }} as double), {{ months }} / 12.0), 6) as decimal(18, 6))
{%- endmacro %}

{#- The observed rate defaults / loans over `window_months`, taken to 12 months, DECIMAL(18,6);
    NULL without loans. -#}
{% macro rate_to_12_months(defaults, loans, window_months) -%}
    cast(round(1 - pow(1 - {{ defaults }} / nullif({{ loans }}, 0), 12.0 / {{ window_months }}), 6) as decimal(18, 6))
{%- endmacro %}

{#- A bound of the 95 % Wilson interval (z = 1.96) of defaults / loans, `side` -1 (low) or +1
    (high), DECIMAL(18,6); NULL without loans. -#}
{% macro wilson_bound(defaults, loans, side) -%}
    {%- set n = "cast(nullif(" ~ loans ~ ", 0) as double)" -%}
    {%- set p = "(" ~ defaults ~ " / " ~ n ~ ")" -%}
    cast(round(
        ({{ p }} + 1.96 * 1.96 / (2 * {{ n }})) / (1 + 1.96 * 1.96 / {{ n }})
        {{ '-' if side < 0 else '+' }} 1.96 * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + 1.96 * 1.96 / (4 * {{ n }} * {{ n }}))
            / (1 + 1.96 * 1.96 / {{ n }}),
        6) as decimal(18, 6))
{%- endmacro %}

{#- logistic(logit(p) + ln(odds_ratio) x shift): probability `p` with its odds multiplied by
    `odds_ratio` per unit of `shift`, DECIMAL(18,6). -#}
{% macro odds_shifted(p, odds_ratio, shift) -%}
    cast(round(
        1 / (1 + exp(-(ln(cast({{ p }} as double) / (1 - cast({{ p }} as double)))
            + ln({{ odds_ratio }}) * cast({{ shift }} as double)))),
        6) as decimal(18, 6))
{%- endmacro %}

{#- An annuity's outstanding principal after `n` instalments, P (1 + r)^n - A ((1 + r)^n - 1) / r
    with r = annual_rate / 12 (at least 0), rounded to cents, DECIMAL(18,2). -#}
{% macro annuity_balance(principal, instalment, annual_rate, n) -%}
    {%- set r = "(cast(" ~ annual_rate ~ " as double) / 12)" -%}
    cast(round(greatest(
        cast({{ principal }} as double) * pow(1 + {{ r }}, {{ n }})
        - cast({{ instalment }} as double) * (pow(1 + {{ r }}, {{ n }}) - 1) / {{ r }},
        0), 2) as decimal(18, 2))
{%- endmacro %}
