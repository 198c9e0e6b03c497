"""The money macros of dbt_models/macros/money.sql, compiled by dbt itself and run in DuckDB, against
Python's decimal: exact quotients rounded half away from zero (ROUND_HALF_UP), on random cases,
exact ties and their neighbours, negatives, zero and NULL denominators, every argument type the
models pass. Plus the IQR quartiles' exactness and a guard that no model divides or averages in
DOUBLE."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bank_assets.assets.dbt_project import dbt_project

PROJECT = Path(dbt_project.project_dir)
COLUMNS = {"money": 2, "ratio6": 6, "ratio4": 4}  # output column -> scale
TEMPLATE = (
    "select n, d, {{ money_div('n', 'd') }} as money, {{ ratio('n', 'd') }} as ratio6, "
    "{{ ratio('n', 'd', 4) }} as ratio4 from cases"
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> str:
    """TEMPLATE as dbt compiles it (the macros exactly as the models get them)."""
    tmp = tmp_path_factory.mktemp("money_macros")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT),
        "BANK_WAREHOUSE": str(tmp / "scratch.duckdb"),
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    args = [dbt, "compile", "--inline", TEMPLATE, "--output", "json", "--quiet"]
    args += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    out = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    sql = json.loads(out.stdout[out.stdout.index("{") :])["compiled"]
    assert "double" not in sql.lower() and "float" not in sql.lower()
    return sql


def expected(n: Decimal | None, d: Decimal | None, scale: int) -> Decimal | None:
    """n / d rounded half away from zero to `scale` decimals. 100 significant digits first: the
    quotient of two numbers of at most 38 digits is never within 10^-60 of a tie without being one."""
    if n is None or d is None or d == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 100
        return (n / d).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def is_tie(n: Decimal, d: Decimal, scale: int) -> bool:
    """n / d lies exactly halfway between two steps of 10^-scale."""
    x = Fraction(n) / Fraction(d) * 10**scale
    return x - math.floor(x) == Fraction(1, 2)


def decimals(x: Decimal) -> int:
    return max(0, -x.normalize().as_tuple().exponent) if x != 0 else 0


# SQL type -> (decimals it holds, largest absolute value it holds)
TYPES = {
    "BIGINT": (0, Decimal(2) ** 63 - 1),
    "INTEGER": (0, Decimal(2) ** 31 - 1),
    "HUGEINT": (0, Decimal(10) ** 30),
    "DECIMAL(18,2)": (2, Decimal(10) ** 16),
    "DECIMAL(38,2)": (2, Decimal(10) ** 24),
    "DECIMAL(38,4)": (4, Decimal(10) ** 24),
    "DECIMAL(18,6)": (6, Decimal(10) ** 12),
}
# (numerator type, denominator type) as the models use them: money / months, money / money,
# count / count, 0.18 * money + 0.02 * money (4 decimals) / 12, plus 6-decimal arguments.
PAIRS = [
    ("DECIMAL(38,2)", "BIGINT"),
    ("DECIMAL(18,2)", "INTEGER"),
    ("DECIMAL(38,2)", "DECIMAL(38,2)"),
    ("BIGINT", "BIGINT"),
    ("HUGEINT", "HUGEINT"),
    ("DECIMAL(38,4)", "INTEGER"),
    ("DECIMAL(18,6)", "BIGINT"),
    ("DECIMAL(18,6)", "DECIMAL(18,6)"),
]


def fits(x: Decimal | None, sql_type: str) -> bool:
    places, limit = TYPES[sql_type]
    return x is None or (decimals(x) <= places and abs(x) <= limit)


def cases(seed: int = 11) -> list[tuple[Decimal | None, Decimal | None]]:
    """Random quotients, exact ties at 0, 2, 4 and 6 decimals and their nearest non-ties, both signs."""
    rng = random.Random(seed)
    out: list[tuple[Decimal | None, Decimal | None]] = []

    def signed(x: Decimal) -> Decimal:
        return -x if rng.random() < 0.5 else x

    for _ in range(6000):  # random numerators and denominators at several sizes and scales
        n = Decimal(rng.randint(0, 10 ** rng.choice([1, 3, 6, 10, 14]))).scaleb(-rng.choice([0, 2, 2, 4, 6]))
        d = Decimal(rng.randint(1, 10 ** rng.choice([1, 1, 2, 4, 8]))).scaleb(-rng.choice([0, 0, 2, 6]))
        out.append((signed(n), signed(d)))
    for _ in range(6000):  # n / d = (2u + 1) / (2 * 10^s) exactly: a tie at s decimals
        s = rng.choice([0, 2, 4, 6])
        u = rng.randint(0, 10 ** rng.choice([1, 2, 5, 8]))
        m = rng.randint(1, 10 ** rng.choice([1, 1, 2, 3]))
        if rng.random() < 0.3:  # integer arguments: d = 2m * 10^s, n = m * (2u + 1)
            d, n = Decimal(2 * m * 10**s), Decimal(m * (2 * u + 1))
        else:
            d = Decimal(2 * m).scaleb(-rng.choice([0, 0, 2]))
            n = d * (2 * u + 1) / (2 * Decimal(10) ** s)
        unit = Decimal(1).scaleb(-max(decimals(n), decimals(d), 2))
        for delta in (0, unit, -unit):  # the tie, and the nearest numerators either side of it
            out.append((signed(n + delta), signed(d)))
    for months in range(1, 13):  # the customer_360 shape: cents / months, every residue
        for cents in range(-300, 301):
            out.append((Decimal(cents).scaleb(-2), Decimal(months)))
    out += [(Decimal("1.00"), Decimal(0)), (Decimal(0), Decimal(0)), (None, Decimal(3)), (Decimal(1), None)]
    out += [(Decimal(0), Decimal(-7)), (Decimal("0.29"), Decimal(2)), (Decimal("-0.29"), Decimal(2))]
    return out


def run(con: duckdb.DuckDBPyConnection, sql: str, rows: list, n_type: str, d_type: str) -> list[tuple]:
    frame = pd.DataFrame(
        {"n": [None if n is None else str(n) for n, _ in rows], "d": [None if d is None else str(d) for _, d in rows]}
    )
    con.register("raw", frame)
    con.execute(f"CREATE OR REPLACE TABLE cases AS SELECT n::{n_type} AS n, d::{d_type} AS d FROM raw")
    con.unregister("raw")
    return con.execute(sql).fetchall()


@pytest.mark.parametrize(("n_type", "d_type"), PAIRS)
def test_quotients_are_exact_and_round_half_away_from_zero(compiled, n_type, d_type):
    rows = [
        (n, d)
        for n, d in cases()
        if fits(n, n_type)
        and fits(d, d_type)
        # results must fit DECIMAL(18, 6) (bigger quotients raise: test_overflow_is_an_error)
        and (n is None or d is None or d == 0 or abs(n / d) < Decimal(10) ** 11)
    ]
    assert len(rows) > 1000
    con = duckdb.connect()
    got = run(con, compiled, rows, n_type, d_type)
    assert len(got) == len(rows)
    ties = 0
    for (n, d), (_, _, *values) in zip(rows, got, strict=True):
        for (column, scale), value in zip(COLUMNS.items(), values, strict=True):
            want = expected(n, d, scale)
            assert value == want, f"{column}: {n} / {d} gave {value}, want {want} ({n_type} / {d_type})"
            ties += want is not None and is_tie(n, d, scale)
    assert ties > 100  # the cases do exercise exact halves
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {compiled}").fetchall()}
    assert types["money"] == "DECIMAL(18,2)" and types["ratio6"] == "DECIMAL(18,6)"
    assert types["ratio4"] == "DECIMAL(18,4)"


def test_double_arithmetic_breaks_ties_this_rule_does_not(compiled):
    """Why the macros exist: DuckDB's `/` (DOUBLE) puts 0.29 / 2 = 0.145 at 0.14499999..., so
    round() gives 0.14; avg() of DECIMAL is DOUBLE too. The rule gives 0.15 (and -0.15)."""
    con = duckdb.connect()
    naive = con.execute("SELECT round(0.29::DECIMAL(18,2) / 2, 2), round(avg(x), 2) FROM (VALUES (0.14), (0.15)) t(x)")
    assert naive.fetchone() == (0.14, 0.14)
    rows = [(Decimal("0.29"), Decimal(2)), (Decimal("-0.29"), Decimal(2)), (Decimal("0.29"), Decimal(2))]
    got = [r[2] for r in run(con, compiled, rows, "DECIMAL(38,2)", "BIGINT")]
    assert got == [Decimal("0.15"), Decimal("-0.15"), Decimal("0.15")]


def test_overflow_is_an_error_not_a_wrong_value(compiled):
    con = duckdb.connect()
    with pytest.raises(duckdb.Error):
        run(con, compiled, [(Decimal(10) ** 17, Decimal(1))], "DECIMAL(38,2)", "BIGINT")


def test_iqr_quartiles_are_exact_linear_interpolation():
    """int_purchase_iqr_thresholds relies on quantile_cont over DECIMAL(18,6) being exact for cent
    amounts (interpolation weights 0, 1/4, 1/2, 3/4): held here against Decimal arithmetic."""
    rng = random.Random(5)
    groups = []
    for g in range(300):
        size = rng.randint(30, 400)
        top = 10 ** rng.choice([3, 5, 7, 9])
        groups += [(g, Decimal(rng.randint(1, top)).scaleb(-2)) for _ in range(size)]
    con = duckdb.connect()
    con.register("raw", pd.DataFrame({"g": [g for g, _ in groups], "x": [str(x) for _, x in groups]}))
    got = con.execute(
        """SELECT g, quantile_cont(x::DECIMAL(18,6), 0.25), quantile_cont(x::DECIMAL(18,6), 0.75)
        FROM (SELECT g, x::DECIMAL(18,2) AS x FROM raw) GROUP BY g ORDER BY g"""
    ).fetchall()
    by_group: dict[int, list[Decimal]] = {}
    for g, x in groups:
        by_group.setdefault(g, []).append(x)
    for g, q1, q3 in got:
        xs = sorted(by_group[g])
        for q, value in ((Decimal("0.25"), q1), (Decimal("0.75"), q3)):
            h = (len(xs) - 1) * q
            lo = int(h)
            want = xs[lo] + (h - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])
            assert value == want, (g, q, value, want)


def sql_without_comments(path: Path) -> str:
    text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


#: the one file allowed DOUBLE: the credit-risk formulas that need pow, exp, ln or sqrt, each
#: rounded once to its output scale (its header says so)
DOUBLE_ALLOWED = Path("macros/credit_risk.sql")


def test_no_model_divides_or_averages_in_double():
    """Money and ratios go through money.sql: no `/`, avg(), DOUBLE or FLOAT in models or macros
    (`//`, integer division inside the macros, is fine), but for DOUBLE_ALLOWED."""
    files = sorted((PROJECT / "models").rglob("*.sql")) + sorted((PROJECT / "macros").glob("*.sql"))
    offenders = []
    for path in files:
        if path.relative_to(PROJECT) == DOUBLE_ALLOWED:
            continue
        sql = sql_without_comments(path)
        for pattern in (r"(?<!/)/(?!/)", r"\bavg\s*\(", r"\bdouble\b", r"\bfloat\d*\b", r"\breal\b"):
            if re.search(pattern, sql, flags=re.I):
                offenders.append((path.relative_to(PROJECT), pattern))
    assert not offenders
