"""A landing file that cannot be parsed fails with file, line and rule, and loads nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from bank_assets.contracts import CONTRACTS
from bank_assets.layout import landing_file
from bank_assets.warehouse import bronze
from bank_assets.warehouse.bronze import LandingFileError

ACCOUNTS = CONTRACTS["accounts"]
MONTH = dt.date(2024, 1, 1)
NOW = dt.datetime(2026, 1, 1)


@pytest.fixture
def good(dirty_landing, tmp_path) -> Path:
    path = tmp_path / "accounts.csv"
    shutil.copy(landing_file(dirty_landing, "accounts", "2024-01"), path)
    return path


@pytest.fixture
def con(good):
    con = duckdb.connect()
    bronze.load(con, ACCOUNTS, good, MONTH, NOW)  # a good load first: a failure must leave it intact
    return con


def rows(con) -> int:
    return con.execute("SELECT count(*) FROM bronze.accounts").fetchone()[0]


def corrupt(path: Path, edit) -> Path:
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(edit(lines)))
    return path


@pytest.mark.parametrize(
    ("edit", "line", "rule"),
    [
        (lambda ls: [ls[0].replace(b'"balance"', b'"saldo"'), *ls[1:]], 1, "HEADER_MISMATCH"),
        (lambda ls: [ls[0].replace(b",", b";"), *[x.replace(b",", b";") for x in ls[1:]]], 1, "DELIMITER"),
        (lambda ls: [*ls[:5], ls[5] + b',"extra"', *ls[6:]], 6, "COLUMN_COUNT"),
        (lambda ls: [*ls[:9], ls[9].replace(b"PEN", b"P\xe9N", 1), *ls[10:]], 10, "ENCODING"),
        (lambda ls: [*ls[:3], b'"A0001,"C0001', *ls[3:]], 4, None),  # a quote that never closes
    ],
)
def test_unparseable_file_names_file_line_and_rule(con, good, edit, line, rule):
    before = rows(con)
    corrupt(good, edit)
    with pytest.raises(LandingFileError) as err:
        bronze.load(con, ACCOUNTS, good, MONTH, NOW)
    assert err.value.path == str(good) and str(good) in str(err.value)
    if rule:
        assert (err.value.line, err.value.rule) == (line, rule)
    else:
        assert err.value.line >= line and err.value.rule in ("MALFORMED_CSV", "COLUMN_COUNT")
    assert rows(con) == before  # nothing loaded, previous partition intact


def test_empty_file(con, good):
    good.write_bytes(b"")
    with pytest.raises(LandingFileError, match="HEADER_MISSING"):
        bronze.load(con, ACCOUNTS, good, MONTH, NOW)


def test_missing_file_names_the_path(con, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        bronze.load(con, ACCOUNTS, tmp_path / "nope.csv", MONTH, NOW)


def test_columns_in_another_order_load_by_name(con, good):
    import csv
    import io

    text = good.read_text(encoding="utf-8")
    data = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([list(reversed(r)) for r in data])
    good.write_text(out.getvalue(), encoding="utf-8")
    assert bronze.load(con, ACCOUNTS, good, MONTH, NOW).rows == len(data) - 1
    first = con.execute("SELECT account_id, currency FROM bronze.accounts ORDER BY _source_row LIMIT 1").fetchone()
    assert first == (data[1][0], data[1][4])


def test_reload_replaces_the_partition_exactly(con, good):
    n = rows(con)
    bronze.load(con, ACCOUNTS, good, MONTH, NOW)
    assert rows(con) == n
    assert con.execute("SELECT min(_source_row), max(_source_row) FROM bronze.accounts").fetchone() == (1, n)
