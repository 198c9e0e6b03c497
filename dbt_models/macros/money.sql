{#-
    Money and ratios in gold: exact arithmetic and ONE rounding rule.

    THE ROUNDING RULE. Every money and ratio column is computed exactly (DECIMAL and HUGEINT
    arithmetic, never DOUBLE) and rounded once, at the end, to its output scale, half away from
    zero: a value exactly halfway between two steps goes to the step farther from zero
    (2.345 -> 2.35, -2.345 -> -2.35, 0.0000005 -> 0.000001 for a ratio). Money is DECIMAL(18,2)
    in PEN (cents), ratios are DECIMAL(18,6). It is the rule of DuckDB's round() on DECIMAL and of
    Python's decimal.ROUND_HALF_UP; tests/test_money_macros.py holds these macros to it.

    Why the macros: in DuckDB `/` on DECIMAL or integers and avg() of DECIMAL return DOUBLE, whose
    binary rounding error decides half-cent ties at random. Gold therefore never uses `/`, avg()
    or a DOUBLE cast on money or ratios:
      - to_money(x)          a DECIMAL sum, difference or product (exact in DuckDB) to DECIMAL(18,2);
      - money_div(n, d)      the quotient n / d to DECIMAL(18,2);
      - ratio(n, d, scale)   the quotient n / d to DECIMAL(18,scale), scale 6 by default.
-#}

{#- Money: a DECIMAL (or integer) expression rounded half away from zero to cents, DECIMAL(18,2).
    Only for exact expressions (sums, differences, products of DECIMALs); a quotient goes through
    money_div. -#}
{% macro to_money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}

{#- Exact quotient numerator / denominator rounded half away from zero to `scale` decimals,
    DECIMAL(18, scale); NULL when the denominator is 0 or NULL (or the numerator is NULL).

    Arguments: DECIMAL or integer expressions with at most 6 decimals (money has 2, ratios 6,
    counts 0), below 10^22 in absolute value. Both are scaled by 10^6 to HUGEINT integers N and D
    (same factor, same quotient), then with Q = N * 10^scale:
        units  = sign(N) * sign(D) * ((2 * |Q| + |D|) // (2 * |D|))
    i.e. |Q| / |D| rounded half up on the magnitude (`//` truncates, and on non-negative integers
    floor((2q + d) / 2d) adds one exactly when the remainder is at least half of d), with the sign
    of the quotient put back afterwards: half away from zero. The result is units * 10^-scale,
    a DECIMAL multiplication (exact). Overflow raises an error, never a wrong value. -#}
{% macro exact_div(numerator, denominator, scale) -%}
    {%- set n = "cast(cast((" ~ numerator ~ ") as decimal(38, 6)) * 1000000 as hugeint)" -%}
    {%- set d = "cast(cast((" ~ denominator ~ ") as decimal(38, 6)) * 1000000 as hugeint)" -%}
    {%- set step = "1" if scale == 0 else "0." ~ ("0" * (scale - 1)) ~ "1" -%}
    case
        when {{ d }} <> 0 then cast(
            cast(
                sign({{ n }}) * sign({{ d }})
                * ((2 * abs({{ n }}) * {{ 10 ** scale }} + abs({{ d }})) // (2 * abs({{ d }})))
                as decimal(38, 0)
            ) * {{ step }}
            as decimal(18, {{ scale }}))
    end
{%- endmacro %}

{#- Money quotient numerator / denominator (e.g. a 12-month sum / months), DECIMAL(18,2), exact and
    rounded half away from zero to cents; NULL when the denominator is 0 or NULL. -#}
{% macro money_div(numerator, denominator) -%}
    {{ exact_div(numerator, denominator, 2) }}
{%- endmacro %}

{#- Ratio numerator / denominator, DECIMAL(18, scale) (scale 6 by default), exact and rounded half
    away from zero; NULL when the denominator is 0 or NULL. -#}
{% macro ratio(numerator, denominator, scale=6) -%}
    {{ exact_div(numerator, denominator, scale) }}
{%- endmacro %}
