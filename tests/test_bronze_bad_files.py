"""A corpus of bad landing files: each is refused (file, line, rule; nothing published changes)
or quarantined row by row (reason code, raw text kept), and every landing row is accounted for.

One small warehouse is loaded once for the module (the month's bank data, landing -> gold, for 2024-01
and 2024-02; clean generator data, so every reject below is one we injected). Then:

* unit level (cheap): a copy of that warehouse, one 2024-02 file replaced and reloaded through
  bronze.load -> silver stage/audit/publish (tests/badfiles/corpus.py, Scratch);
* run level (where the run journal matters): a copy of warehouse + landing zone, one file
  replaced, the main job re-run for 2024-02 through bank_assets.run.run_steps; the run must fail
  naming file and rule, and every bronze, silver and gold table must be byte-for-byte the same
  content (count + order-independent hash of all rows, lineage columns included).

Cases that found product bugs (a stray quote, text after a closing quote, CR-only line ends, a
headerless file echoing its first row, FX overflow, padded header names) stay as regression cases.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bank_assets import pseudonym
from bank_assets.contracts import CONTRACTS, MAX_TEXT_LENGTH, NULL_TOKENS
from bank_assets.layout import landing_file
from bank_assets.run import run_steps
from bank_assets.warehouse import bronze
from bank_assets.warehouse.bronze import LandingFileError

from .badfiles.corpus import (
    MONTH,
    MONTH_DATE,
    NOW,
    PREVIOUS,
    Csv,
    Scratch,
    data_rows,
    join,
    lines,
    month_accounting,
    rerun_month,
)
from .pipeline import BANK_DATA_JOB, project_instance, resources

TEST_PII_KEY = "5e" * 32
#: Planted in bad files; must never appear in an error message or anything Dagster stores.
CANARY = "Canary_7f3a"


# --- the loaded warehouse -------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def original(self, table: str, month: str = MONTH) -> bytes:
        return landing_file(self.landing, table, month).read_bytes()


@pytest.fixture(scope="module")
def pii_key():
    """A test key for the PII pseudonyms silver computes (never the project's key file)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(pseudonym.KEY_ENV, TEST_PII_KEY)
        yield


@pytest.fixture(scope="module")
def instance():
    with project_instance() as inst:
        yield inst


@pytest.fixture(scope="module")
def world(tmp_path_factory, instance, pii_key) -> World:
    root = tmp_path_factory.mktemp("world")
    res = resources(root, defect_scale=0.0)
    assert run_steps([PREVIOUS, MONTH], instance, res, job=BANK_DATA_JOB, per_run=2)  # no consumers: none is read
    return World(root)


@pytest.fixture
def scratch(world, tmp_path):
    s = Scratch(world.db, world.landing, tmp_path / "scratch")
    yield s
    s.close()


# --- 1. refused by bronze: file, line, rule; nothing changes ---------------------------------------


def _row_edit(n: int, edit: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Edit physical line n (1 = header) of the file."""

    def apply(data: bytes) -> bytes:
        ls = lines(data)
        ls[n - 1] = edit(ls[n - 1])
        return join(ls)

    return apply


def _columns(edit: Callable[[Csv], None]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        t = Csv(data)
        edit(t)
        return t.bytes()

    return apply


def _drop(name: str) -> Callable[[Csv], None]:
    def edit(t: Csv) -> None:
        i = t.col(name)
        t.header.pop(i)
        for r in t.rows:
            r.pop(i)

    return edit


def _add(name: str, value: str) -> Callable[[Csv], None]:
    def edit(t: Csv) -> None:
        t.header.append(name)
        for r in t.rows:
            r.append(value)

    return edit


def _rename(old: str, new: str) -> Callable[[Csv], None]:
    def edit(t: Csv) -> None:
        t.header[t.col(old)] = new

    return edit


def _header(line: bytes) -> Callable[[bytes], bytes]:
    return lambda data: join([line, *lines(data)[1:]])


def _last_record_cut_at_field(data: bytes) -> bytes:
    ls = lines(data)
    ls[-2] = b",".join(ls[-2].split(b",")[:3])
    return join(ls)


def _quote_mid_field(data: bytes) -> bytes:
    return join([*lines(data)[:3], b'"A0001,"C0001', *lines(data)[3:]])


PASSWD = b"root:x:0:0:" + CANARY.encode() + b":/root:/bin/bash"
PASSWD_WITH_COMMAS = b"daemon:x:1:1:" + CANARY.encode() + b",,,:/usr/sbin:/usr/sbin/nologin"


def last_line(data: bytes) -> int:
    """The line of the file's last record (header + data rows, one line each)."""
    return data_rows(data) + 1


def _first_row_names(data: bytes) -> tuple[str, ...]:
    t = Csv(data)
    return (t.get(0, "first_name"), t.get(0, "last_name"))


@dataclass(frozen=True)
class Refusal:
    id: str
    make: Callable[[bytes], bytes]
    rule: str | tuple[str, ...]
    line: int | Callable[[bytes], int] | None  # of the good file it was made from; None: not meaningful
    names: tuple[str, ...] = ()  # the message names these (column names)
    secrets: tuple[str, ...] | Callable[[bytes], tuple[str, ...]] = ()  # ... and never these (file content)
    table: str = "accounts"
    marks: tuple = ()


REFUSALS = [
    # encoding
    Refusal("latin1-byte-in-row-10", _row_edit(10, lambda ln: ln.replace(b'","', b'\xe9","', 1)), "ENCODING", 10),
    Refusal("utf16-file", lambda d: d.decode("utf-8").encode("utf-16"), "ENCODING", 1),
    Refusal("gzip-named-csv", gzip.compress, "ENCODING", 1),
    # cut files
    Refusal("unclosed-quote-at-eof", lambda d: d.rstrip(b"\n")[:-5], "TRUNCATED", last_line),
    Refusal("last-record-missing-fields", _last_record_cut_at_field, "COLUMN_COUNT", last_line),
    Refusal("extra-field-in-row-6", _row_edit(6, lambda ln: ln + b',"extra"'), "COLUMN_COUNT", 6),
    # a quote closed in the middle of a field: text follows the closing quote
    Refusal("quote-closed-mid-field", _quote_mid_field, "MALFORMED_CSV", 4),
    # header
    Refusal("header-missing-column", _columns(_drop("balance")), "HEADER_MISMATCH", 1, names=("balance",)),
    Refusal("header-extra-column", _columns(_add("branch_manager", "x")), "HEADER_MISMATCH", 1, ("branch_manager",)),
    Refusal("header-renamed-column", _columns(_rename("balance", "saldo")), "HEADER_MISMATCH", 1, ("saldo", "balance")),
    Refusal("header-wrong-case", _columns(_rename("account_id", "Account_ID")), "HEADER_MISMATCH", 1, ("Account_ID",)),
    Refusal(
        "header-duplicate-column-instead-of-one",
        _columns(_rename("balance", "status")),
        "HEADER_MISMATCH",
        1,
        names=("balance",),
    ),
    Refusal("header-duplicate-column-added", _columns(_add("status", "ACTIVE")), "HEADER_MISMATCH", 1),
    Refusal(
        "header-duplicate-column-is-named",
        _columns(_add("status", "ACTIVE")),
        "HEADER_MISMATCH",
        1,
        names=("status", "more than once"),
    ),
    Refusal(
        "header-trailing-comma", lambda d: join([ln + b"," if ln else ln for ln in lines(d)]), "HEADER_MISMATCH", 1
    ),
    Refusal("header-is-etc-passwd", _header(PASSWD), "HEADER_MISSING", 1, secrets=(CANARY, "root:x", "/bin/bash")),
    Refusal(
        "header-is-etc-passwd-with-commas",
        _header(PASSWD_WITH_COMMAS),
        "HEADER_MISSING",
        1,
        secrets=(CANARY, "daemon:x", "nologin"),
    ),
    # delimiter
    Refusal("semicolon-delimiter", lambda d: d.replace(b",", b";"), "DELIMITER", 1),
    Refusal("tab-delimiter", lambda d: d.replace(b",", b"\t"), "DELIMITER", 1),
    # nothing in it
    Refusal("empty-file-0-bytes", lambda d: b"", "HEADER_MISSING", 1),
    Refusal("whitespace-only-file", lambda d: b"\n \n\t\r\n", "HEADER_MISSING", 1),
    Refusal("header-only-file", lambda d: lines(d)[0] + b"\n", "EMPTY_FILE", 1),
    # product bugs found by this corpus, fixed (kept as regression cases)
    Refusal(
        "headerless-file-echoes-first-row",
        lambda d: join(lines(d)[1:]),
        "HEADER_MISSING",
        1,
        secrets=_first_row_names,
        table="customers",
    ),
    Refusal(
        "stray-quote-inside-unquoted-field",
        lambda d: join(
            [*lines(d)[:3], b'A1,C"1,B1,CHECKING,PEN,2019-08-28,,0.00,1.00,ACTIVE,2024-02-29', *lines(d)[3:]]
        ),
        "MALFORMED_CSV",
        4,
    ),
    Refusal(
        "text-after-closing-quote",
        lambda d: join([*lines(d)[:3], b'"A1"x,' + lines(d)[3].split(b",", 1)[1], *lines(d)[4:]]),
        "MALFORMED_CSV",
        4,
    ),
    Refusal(
        "cr-only-line-ends",
        lambda d: d.replace(b"\n", b"\r"),
        ("MALFORMED_CSV", "DELIMITER", "HEADER_MISMATCH"),
        None,
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in REFUSALS])
def test_bad_file_is_refused_with_file_line_and_rule(scratch, world, case: Refusal):
    before = scratch.fingerprint()
    good = world.original(case.table)
    bad = case.make(good)
    line = case.line(good) if callable(case.line) else case.line
    secrets = case.secrets(good) if callable(case.secrets) else case.secrets
    with pytest.raises(LandingFileError) as err:
        scratch.bronze(case.table, bad)
    e, path = err.value, str(scratch.path(case.table))
    message = str(e)
    assert e.path == path and message.startswith(path), message
    assert e.rule in ((case.rule,) if isinstance(case.rule, str) else case.rule), message
    assert f": {e.rule}: " in message
    if line is not None:
        assert e.line == line, message
        assert f"line {line}: " in message
    for name in case.names:
        assert name in message, (name, message)
    for secret in secrets:
        assert secret not in message, (secret, message)
    # nothing published changed, and the month loaded before still reconciles with its file
    assert scratch.fingerprint() == before
    scratch.written[case.table] = world.original(case.table)
    assert scratch.accounting(case.table).balanced()


def test_malformed_csv_detail_says_what_is_wrong(scratch, world):
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("accounts", _quote_mid_field(world.original("accounts")))
    assert err.value.rule == "MALFORMED_CSV" and err.value.detail != "'…'", err.value.detail


def test_header_names_with_padding_inside_quotes_load_or_are_refused(scratch, world):
    """'" account_id"': the loader strips header names when it compares them, so it must read the
    column by its stripped name, or refuse the file with a rule."""
    data = world.original("accounts").replace(b'"account_id"', b'" account_id "', 1)
    assert scratch.bronze("accounts", data) == data_rows(data)


# --- 2. refused late in the file: the streaming path (a file larger than one read block) -----------


def _tripled(data: bytes) -> bytes:
    """The file's rows written three times over: for transactions ~2.8 MB, several of the 1 MB blocks
    the reader parses one at a time, so a problem near the end surfaces while DuckDB streams it."""
    ls = lines(data)
    body = [ln for ln in ls[1:] if ln]
    return join([ls[0], *body, *body, *body, b""])


@pytest.mark.parametrize(
    ("rule", "edit"),
    [
        ("COLUMN_COUNT", lambda ln: ln + b',"' + CANARY.encode() + b'"'),
        ("ENCODING", lambda ln: ln.replace(b'","', b'\xff","', 1)),
        ("TRUNCATED", None),
    ],
)
def test_error_after_the_first_block_names_the_right_line(scratch, world, rule, edit):
    data = _tripled(world.original("transactions"))
    n_lines = len(lines(data)) - 1
    ls = lines(data)
    line = n_lines - 2  # near the end: read while streaming, not when the reader opens
    if edit is None:
        data = data.rstrip(b"\n")[:-4]
        line = n_lines
    else:
        ls[line - 1] = edit(ls[line - 1])
        data = join(ls)
    before = scratch.fingerprint()
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("transactions", data)
    assert (err.value.rule, err.value.line) == (rule, line), str(err.value)
    assert CANARY not in str(err.value)
    assert scratch.fingerprint() == before


# --- 3. accepted variants of a good file: same silver as the original -------------------------------


def _reordered(data: bytes) -> bytes:
    return join([b",".join(reversed(ln.split(b","))) if ln else ln for ln in lines(data)])


ACCEPTED = {
    "utf8-bom": lambda d: b"\xef\xbb\xbf" + d,
    "crlf-quoted": lambda d: d.replace(b"\n", b"\r\n"),
    "crlf-unquoted": lambda d: Csv(d).bytes("\r\n", csv.QUOTE_MINIMAL),
    "bom-and-crlf": lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"),
    "no-final-newline": lambda d: d.rstrip(b"\n"),
    "trailing-blank-lines": lambda d: d + b"\n\n\n",
    "columns-in-another-order": _reordered,
    "padded-and-mixed-case-codes": _columns(
        lambda t: [t.set(i, "product", f"  {t.get(i, 'product').lower()} ") for i in range(len(t.rows))]
    ),
}


@pytest.mark.parametrize("variant", list(ACCEPTED))
def test_harmless_variant_loads_to_the_same_silver(scratch, world, variant):
    expected = scratch.business_checksum("silver", "accounts")
    got = scratch.load("accounts", ACCEPTED[variant](world.original("accounts")))
    assert got.balanced() and (got.rejects, got.duplicates_removed) == (0, 0), got
    assert scratch.business_checksum("silver", "accounts") == expected
    cols = CONTRACTS["accounts"].column_names
    leaked = " OR ".join(f'contains("{c}", chr(13)) OR contains("{c}", chr(65279))' for c in cols)
    (polluted,) = scratch.con.execute(
        f"SELECT count(*) FROM bronze.accounts WHERE _partition_month = $m AND ({leaked})", {"m": MONTH_DATE}
    ).fetchone()
    assert polluted == 0, "a BOM or \\r leaked into bronze values"


def test_header_only_file_of_a_table_that_may_be_empty(scratch):
    """loan_payments may have no instalment due in a month: its header-only file loads 0 rows."""
    got = scratch.load("loan_payments", lines(scratch.original("loan_payments"))[0] + b"\n")
    assert got.balanced() and got.silver_rows == 0, got


def test_header_only_file_loads_when_the_run_allows_it(scratch, world):
    assert scratch.bronze("accounts", lines(world.original("accounts"))[0] + b"\n", allow_empty=True) == 0


# --- 4. volume collapse -----------------------------------------------------------------------------


def _first_rows(data: bytes, n: int) -> bytes:
    return join([*lines(data)[: n + 1], b""])


def test_volume_collapse_is_refused_below_ten_percent_of_the_trailing_mean(scratch, world):
    (january,) = scratch.con.execute(
        "SELECT bronze_rows FROM silver._partition_stats WHERE table_name = 'accounts' AND partition_month = $m",
        {"m": dt.date(2024, 1, 1)},
    ).fetchone()
    floor = -(-january // 10)  # the smallest row count that is not a collapse (one trailing month)
    before = scratch.fingerprint()
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("accounts", _first_rows(world.original("accounts"), floor - 1))
    assert err.value.rule == "VOLUME_COLLAPSE" and err.value.path == str(scratch.path("accounts"))
    assert "allow_empty_or_collapsed_month" in str(err.value)  # says how to load it anyway
    assert scratch.fingerprint() == before
    assert scratch.bronze("accounts", _first_rows(world.original("accounts"), floor)) == floor
    assert scratch.bronze("accounts", _first_rows(world.original("accounts"), 3), allow_empty=True) == 3


# --- 5. paths: symlinks, outside the landing root, missing ------------------------------------------


def test_symlinked_landing_file_is_refused(scratch, world):
    path = scratch.path("accounts")
    path.parent.mkdir(parents=True)
    path.symlink_to(landing_file(world.landing, "accounts", MONTH))
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("accounts")
    assert (err.value.rule, err.value.path) == ("UNSAFE_PATH", str(path))


def test_symlink_out_of_the_landing_root_never_shows_the_target(scratch, tmp_path):
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_text(f"root:{CANARY}:19000:0:99999:7:::\n")
    path = scratch.path("accounts")
    path.parent.mkdir(parents=True)
    path.symlink_to(secret)
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("accounts")
    assert (err.value.rule, err.value.path) == ("UNSAFE_PATH", str(path))
    assert CANARY not in str(err.value)


def test_parent_folder_symlinked_out_of_the_landing_root_is_refused(scratch, tmp_path):
    """Not the file but its month folder is a link: the file resolves outside the root."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "accounts.csv").write_bytes(scratch.original("accounts"))
    scratch.root.joinpath("accounts").mkdir(parents=True)
    scratch.root.joinpath("accounts", MONTH).symlink_to(outside, target_is_directory=True)
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("accounts")
    assert err.value.rule == "UNSAFE_PATH" and "outside the landing root" in str(err.value)


def test_directory_in_place_of_the_file_is_refused(scratch):
    scratch.path("accounts").mkdir(parents=True)
    with pytest.raises(LandingFileError) as err:
        scratch.bronze("accounts")
    assert err.value.rule == "UNSAFE_PATH"


def test_missing_file_names_the_path(scratch):
    before = scratch.fingerprint()
    with pytest.raises(FileNotFoundError) as err:
        bronze.load(scratch.con, CONTRACTS["accounts"], scratch.path("accounts"), MONTH_DATE, NOW)
    assert str(scratch.path("accounts")) in str(err.value)
    assert scratch.fingerprint() == before


# --- 6. duplicates and re-sent rows --------------------------------------------------------------------


def test_exact_duplicate_rows_are_removed_and_counted(scratch, world):
    t = Csv(world.original("accounts"))
    t.rows += [list(t.rows[i]) for i in (0, 1, 2, 2)]  # row 3 three times in all
    expected = scratch.business_checksum("silver", "accounts")
    got = scratch.load("accounts", t.bytes())
    assert got.balanced() and (got.duplicates_removed, got.rejects) == (4, 0), got
    assert scratch.business_checksum("silver", "accounts") == expected


@pytest.mark.parametrize("changed_last", [True, False], ids=["correction-after", "correction-before"])
def test_resent_row_with_a_changed_value_last_row_wins(scratch, world, changed_last):
    t = Csv(world.original("accounts"))
    account, old = t.get(3, "account_id"), t.get(3, "balance")
    resent = list(t.rows[3])
    resent[t.col("balance")] = "4242.42"
    if changed_last:
        t.rows.append(resent)
    else:
        t.rows.insert(0, resent)
    got = scratch.load("accounts", t.bytes())
    assert got.balanced() and (got.duplicates_removed, got.rejects) == (1, 0), got
    (balance, n) = scratch.con.execute(
        "SELECT any_value(balance), count(*) FROM silver.accounts WHERE _partition_month = $m AND account_id = $a",
        {"m": MONTH_DATE, "a": account},
    ).fetchone()
    assert n == 1 and balance == (Decimal("4242.42") if changed_last else Decimal(old))


def test_resent_row_that_is_invalid_is_quarantined_and_the_valid_row_kept(scratch, world):
    t = Csv(world.original("accounts"))
    bad = list(t.rows[3])
    bad[t.col("balance")] = "12,50"
    t.rows.append(bad)
    got = scratch.load("accounts", t.bytes())
    assert got.balanced() and (got.duplicates_removed, got.rejects) == (0, 1), got
    assert scratch.silver_row("accounts", 4)["balance"] == Decimal(t.get(3, "balance"))
    assert scratch.rejects("accounts")[len(t.rows)].record["balance"] == "12,50"


# --- 7. row-level quarantine: one dirty file per table, each bad cell checked on its own ------------


@dataclass(frozen=True)
class Cell:
    """One data row of `table` with `values` written in; `reason` is the reject reason (None:
    accepted, and `expect` holds silver values)."""

    id: str
    table: str
    values: dict[str, str]
    reason: str | None = None
    column: str | None = None  # reason_column, default: the first of `values`
    expect: dict = field(default_factory=dict)

    @property
    def reason_column(self) -> str:
        return self.column or next(iter(self.values))


def _show(raw: str) -> str:
    return repr(raw) if len(raw) <= 40 else f"{raw[:8]!r}...({len(raw)} chars)"


def _bad(table: str, column: str, reason: str, *raws: str, **other: str) -> list[Cell]:
    return [Cell(f"{reason}:{column}={_show(raw)}", table, {column: raw, **other}, reason) for raw in raws]


def _ok(table: str, column: str, raw: str, value: object, **other: str) -> Cell:
    return Cell(f"OK:{column}={_show(raw)}", table, {column: raw, **other}, expect={column: value})


TS = dt.datetime
MONEY_MAX = "9999999999999999.99"  # the largest DECIMAL(18,2)
BIG_PEN = "9999999999.99"  # amount x rate still computes (see test_amount_too_large_for_the_fx_check)
BIG_USD = "2000000000.00"

CELLS: list[Cell] = [
    # null tokens in a required column, and in optional ones
    *_bad("accounts", "branch_id", "NULL_REQUIRED", *NULL_TOKENS, "   ", "\t", " N/A ", "\r\n"),
    _ok("accounts", "closed_date", "N/A", None),
    _ok("accounts", "credit_limit", "NULL", None),
    _ok("customers", "city", "NONE", "NONE"),  # tokens are exact: NONE is a value
    # dates: exactly YYYY-MM-DD and a real day
    *_bad(
        "accounts",
        "opened_date",
        "INVALID_DATE",
        "2024-02-2",
        "31/01/2024",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "20240201",
        "2024-2-01",
        "2024-02-01T00:00:00",
    ),
    _ok("accounts", "opened_date", " 2020-02-29 ", dt.date(2020, 2, 29)),
    *_bad("customers", "birth_date", "INVALID_DATE", "1988-06-31", "04/06/1988"),
    # the event column places the row in its month
    *_bad("accounts", "snapshot_date", "OUT_OF_PARTITION", "2024-01-31", "2024-03-01"),
    _ok("accounts", "snapshot_date", "2024-02-01", dt.date(2024, 2, 1)),
    # timestamps: offsets are converted to bank time (UTC-05:00)
    _ok("transactions", "transaction_ts", "2024-02-10 10:00:00", TS(2024, 2, 10, 10)),
    _ok("transactions", "transaction_ts", "2024-02-10T10:00:00", TS(2024, 2, 10, 10)),
    _ok("transactions", "transaction_ts", "2024-02-10T15:00:00Z", TS(2024, 2, 10, 10)),
    _ok("transactions", "transaction_ts", "2024-02-10T10:00:00-05:00", TS(2024, 2, 10, 10)),
    _ok("transactions", "transaction_ts", "2024-02-10T16:00:00+01:00", TS(2024, 2, 10, 10)),
    _ok("transactions", "transaction_ts", "2024-02-10 10:00:00+05:30", TS(2024, 2, 9, 23, 30)),
    _ok("transactions", "transaction_ts", "2024-03-01T03:00:00Z", TS(2024, 2, 29, 22)),  # Feb in Lima
    _ok("transactions", "transaction_ts", "2024-02-29 23:59:59", TS(2024, 2, 29, 23, 59, 59)),
    *_bad("transactions", "transaction_ts", "OUT_OF_PARTITION", "2024-02-01T04:59:59Z", "2024-03-01 00:00:00"),
    *_bad(
        "transactions",
        "transaction_ts",
        "INVALID_TIMESTAMP",
        "2024-02-10 25:00:00",
        "2024-02-10 10:00",
        "2024-02-30 10:00:00",
        "10/02/2024 10:00:00",
        "2024-02-10T10:00:00+15:00",
        "2024-02-10T10:00:00.123",
        "2024-02-10 10:00:00 PM",
    ),
    # money: at most 2 decimals, '.', no exponent, no thousands separator, no comma decimal
    *_bad(
        "transactions",
        "amount",
        "INVALID_NUMBER",
        "12.345",
        "1e3",
        "1,000.00",
        "12,50",
        "12.995",
        "+12.00",
        ".50",
        "12.",
        "1 000.00",
        "S/ 12.00",
        "0x1F",
        "Infinity",
        "10000000000000000.00",
    ),
    *_bad("transactions", "amount", "NULL_REQUIRED", "NaN"),  # a null token before a number
    *_bad("transactions", "amount", "NEGATIVE_AMOUNT", "-5.00"),
    *_bad("accounts", "credit_limit", "NEGATIVE_AMOUNT", "-0.01"),
    *_bad("accounts", "balance", "INVALID_NUMBER", "12,50", "1.000,50"),
    _ok("accounts", "balance", "-1500.00", Decimal("-1500.00")),
    _ok("transactions", "amount", " 12.50 ", Decimal("12.50")),
    _ok("transactions", "amount", "12", Decimal("12.00")),
    _ok("transactions", "amount", "0012.5", Decimal("12.50")),
    _ok("transactions", "amount", BIG_PEN, Decimal(BIG_PEN), currency="PEN"),
    _ok("transactions", "amount", BIG_USD, Decimal(BIG_USD), currency="USD"),
    # codes
    *_bad("transactions", "currency", "UNKNOWN_CURRENCY", "XXX", "US$", "SOL"),
    _ok("transactions", "currency", " usd ", "USD"),
    *_bad("transactions", "direction", "NOT_ACCEPTED", "SIDEWAYS", "DEBIT;DROP TABLE silver.accounts"),
    _ok("transactions", "direction", "debit", "DEBIT"),
    # foreign keys never seen
    *_bad("transactions", "account_id", "ORPHAN_FK", "A99999999999"),
    *_bad("transactions", "merchant_id", "ORPHAN_FK", "M999999"),
    *_bad("accounts", "customer_id", "ORPHAN_FK", "C9999999999"),
    # text: control characters (a quoted newline is one) and length
    *_bad("merchants", "merchant_name", "CONTROL_CHARACTER", "Bodega\nLima", "Bodega\tLima", "Bodega\x07"),
    *_bad("accounts", "account_id", "CONTROL_CHARACTER", "A0000\n0000010"),
    *_bad("merchants", "merchant_name", "VALUE_TOO_LONG", "x" * (MAX_TEXT_LENGTH + 1), "y" * 5000),
    _ok("merchants", "merchant_name", "z" * MAX_TEXT_LENGTH, "z" * MAX_TEXT_LENGTH),
    _ok("merchants", "merchant_name", "  Café Ñandú 🍕 ", "Café Ñandú 🍕"),
    _ok("customers", "email", " Laura.X@Example.COM ", "laura.x@example.com"),
]
CELL_IDS = [c.id for c in CELLS]
assert len(set(CELL_IDS)) == len(CELL_IDS), "cell ids must be unique"
LOAD_ORDER = ("customers", "accounts", "merchants", "transactions")


@dataclass
class DirtyLoad:
    scratch: Scratch
    source_row: dict[str, int]  # cell id -> _source_row
    files: dict[str, bytes]
    parents: dict[str, str]  # scenario -> key


@pytest.fixture(scope="module")
def dirty(world, tmp_path_factory) -> DirtyLoad:
    """customers, accounts, merchants and transactions of 2024-02 with every CELL written into
    its own row, plus a parent scenario:
    * customer Q's row is quarantined (its birth_date is bad): Q's accounts are kept, QUARANTINED;
    * customer E is missing from the month's file (known from 2024-01): E's accounts, EARLIER_MONTH;
    * account AQ's row is quarantined: its transactions are kept, QUARANTINED."""
    s = Scratch(world.db, world.landing, tmp_path_factory.mktemp("dirty"))
    files = {t: Csv(s.original(t)) for t in LOAD_ORDER}
    acc, cus, trx = files["accounts"], files["customers"], files["transactions"]
    january = {r[0] for r in Csv(world.original("customers", PREVIOUS)).rows}

    # the parent scenario, on rows the cells below do not touch
    q_customer = acc.get(10, "customer_id")
    e_customer = next(acc.get(i, "customer_id") for i in range(20, 90) if acc.get(i, "customer_id") in january)
    assert q_customer != e_customer
    aq = trx.get(50, "account_id")
    aq_row = acc.find("account_id", aq)
    cus.set(cus.find("customer_id", q_customer), "birth_date", "31/01/2024")
    acc.set(aq_row, "balance", "12.345")
    owner, account = acc.col("customer_id"), trx.col("account_id")
    reserved = {
        "customers": {cus.find("customer_id", q_customer), cus.find("customer_id", e_customer)},
        "accounts": {aq_row} | {i for i, r in enumerate(acc.rows) if r[owner] in (q_customer, e_customer)},
        "transactions": {i for i, r in enumerate(trx.rows) if r[account] == aq},
        "merchants": set(),
    }

    rows: dict[str, list[str]] = {}  # cell id -> the row (list object) it was written into
    cursor = {"customers": 30, "accounts": 100, "merchants": 5, "transactions": 100}
    for cell in CELLS:
        t = files[cell.table]
        while cursor[cell.table] in reserved[cell.table]:
            cursor[cell.table] += 1
        i = cursor[cell.table]
        cursor[cell.table] += 1
        for col, raw in cell.values.items():
            t.set(i, col, raw)
        rows[cell.id] = t.rows[i]
    cus.rows.remove(cus.rows[cus.find("customer_id", e_customer)])  # E is gone this month

    written = {}
    for table in LOAD_ORDER:
        written[table] = files[table].bytes()
        s.load(table, written[table])
    source_row = {}
    for cell in CELLS:
        t = files[cell.table]
        source_row[cell.id] = next(n for n, r in enumerate(t.rows, 1) if r is rows[cell.id])
    load = DirtyLoad(s, source_row, written, {"Q": q_customer, "E": e_customer, "AQ": aq})
    yield load
    s.close()


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_cell(dirty, cell: Cell):
    row = dirty.source_row[cell.id]
    rejects = dirty.scratch.rejects(cell.table)
    if cell.reason is None:
        assert row not in rejects, rejects.get(row)
        got = dirty.scratch.silver_row(cell.table, row)
        assert got is not None, f"row {row} is neither in silver nor in the rejects"
        for col, value in cell.expect.items():
            assert got[col] == value, (col, got[col])
        return
    assert row in rejects, f"row {row} was not rejected"
    r = rejects[row]
    assert (r.reason_code, r.reason_column) == (cell.reason, cell.reason_column), r
    raw = cell.values[cell.reason_column].strip(" \t\r\n")
    kept = None if raw in NULL_TOKENS else raw
    assert r.record[cell.reason_column] == kept, "the raw text is kept in the reject's record"
    assert dirty.scratch.silver_row(cell.table, row) is None


@pytest.mark.parametrize("table", LOAD_ORDER)
def test_dirty_file_every_landing_row_is_accounted_for(dirty, table):
    got = dirty.scratch.accounting(table)
    assert got.landing_rows == data_rows(dirty.files[table])
    assert got.balanced(), got
    injected = sum(1 for c in CELLS if c.table == table and c.reason)
    injected += {"customers": 1, "accounts": 1}.get(table, 0)  # the parent scenario's quarantined rows
    assert (got.rejects, got.duplicates_removed) == (injected, 0), got


def test_large_usd_amount_is_converted_exactly(dirty):
    """A large USD amount is converted at the day's rate, rounded to cents."""
    cell = next(c for c in CELLS if c.id == f"OK:amount={BIG_USD!r}")
    got = dirty.scratch.silver_row("transactions", dirty.source_row[cell.id])
    (rate,) = dirty.scratch.con.execute(
        "SELECT rate_to_pen FROM silver.fx_rates WHERE currency = 'USD' AND rate_date = $d",
        {"d": got["transaction_ts"].date()},
    ).fetchone()
    assert got["amount_pen"] == (got["amount"] * rate).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("currency", "amount", "reason"),
    [
        pytest.param("USD", MONEY_MAX, "FX_OVERFLOW", id="usd-max-overflows-in-pen"),
        pytest.param("USD", "3000000000.00", None, id="usd-3e9-fits-in-pen"),
        pytest.param("PEN", MONEY_MAX, None, id="pen-max-fits"),
        pytest.param("PEN", "10000000000.00", None, id="pen-1e10-fits"),
    ],
)
def test_amount_too_large_for_the_fx_check(scratch, world, currency, amount, reason):
    t = Csv(world.original("transactions"))
    t.set(7, "currency", currency).set(7, "amount", amount)
    got = scratch.load("transactions", t.bytes())
    assert got.balanced(), got
    if reason:
        assert scratch.rejects("transactions")[8].reason_code == reason
    else:
        assert scratch.silver_row("transactions", 8)["amount"] == Decimal(amount)


def _parent_status(dirty: DirtyLoad, table: str, fk: str, key: str) -> set[str]:
    return {
        r[0]
        for r in dirty.scratch.con.execute(
            f"SELECT _{fk}_parent FROM silver.{table} WHERE _partition_month = $m AND {fk} = $k",
            {"m": MONTH_DATE, "k": key},
        ).fetchall()
    }


def test_children_of_a_quarantined_parent_are_kept_and_flagged(dirty):
    assert _parent_status(dirty, "accounts", "customer_id", dirty.parents["Q"]) == {"QUARANTINED"}
    assert _parent_status(dirty, "transactions", "account_id", dirty.parents["AQ"]) == {"QUARANTINED"}
    assert _parent_status(dirty, "accounts", "customer_id", dirty.parents["E"]) == {"EARLIER_MONTH"}
    orphans = [r for r in dirty.scratch.rejects("accounts").values() if r.reason_code == "ORPHAN_FK"]
    assert [r.record["customer_id"] for r in orphans] == ["C9999999999"]  # only the never-seen key
    (valid,) = dirty.scratch.con.execute(
        "SELECT count(*) FROM silver.accounts WHERE _partition_month = $m AND _customer_id_parent = 'VALID'",
        {"m": MONTH_DATE},
    ).fetchone()
    assert valid > 500


# --- 8. run level: the main job re-run for the month with one bad file ------------------------------


def _replace(table: str, make: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = landing_file(root, table, MONTH)
        path.write_bytes(make(path.read_bytes()))

    return edit


def _symlink_outside(root: Path) -> None:
    secret = root.parent / "outside" / "accounts.csv"
    secret.parent.mkdir()
    secret.write_text(f"account_id,{CANARY}\n{CANARY},1\n")
    path = landing_file(root, "accounts", MONTH)
    path.unlink()
    path.symlink_to(secret)


def _remove(table: str) -> Callable[[Path], None]:
    return lambda root: landing_file(root, table, MONTH).unlink()


def _late_column_count(data: bytes) -> bytes:
    ls = lines(_tripled(data))
    ls[-3] = ls[-3] + b',"' + CANARY.encode() + b'"'
    return join(ls)


@dataclass(frozen=True)
class RunCase:
    id: str
    edit: Callable[[Path], None]
    table: str
    step: str  # the step that fails
    says: str  # the rule (or, for a missing file, the words) the failure message holds
    line: int | Callable[[bytes], int] | None = None  # a callable gets the unedited file
    #: the in-process executor runs the bronze steps in name order: by the time this one fails, the
    #: run has replaced partitions of the tables before it, and the journal must restore them
    restored: bool = False


RUN_CASES = [
    RunCase(
        "loan-payments-truncated",
        _replace("loan_payments", lambda d: d.rstrip(b"\n")[:-2]),
        "loan_payments",
        "bronze__loan_payments",
        "TRUNCATED",
        line=last_line,  # the truncated record is the file's last
        restored=True,
    ),
    RunCase(
        "transactions-bad-row-after-the-first-block",
        _replace("transactions", _late_column_count),
        "transactions",
        "bronze__transactions",
        "COLUMN_COUNT",
        restored=True,
    ),
    RunCase(
        "customers-header-is-etc-passwd",
        _replace("customers", _header(PASSWD)),
        "customers",
        "bronze__customers",
        "HEADER_MISSING",
        line=1,
        restored=True,
    ),
    RunCase(
        "transactions-volume-collapse",
        _replace("transactions", lambda d: _first_rows(d, 100)),
        "transactions",
        "bronze__transactions",
        "VOLUME_COLLAPSE",
        restored=True,
    ),
    RunCase("accounts-symlink-outside-the-root", _symlink_outside, "accounts", "landing_files", "UNSAFE_PATH"),
    RunCase("accounts-file-missing", _remove("accounts"), "accounts", "landing_files", "is missing"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", RUN_CASES, ids=[c.id for c in RUN_CASES])
def test_run_with_a_bad_file_fails_and_publishes_nothing(world, instance, tmp_path, case: RunCase):
    out = rerun_month(world.root, tmp_path / "run", instance, case.edit)
    assert not out.success
    path = str(landing_file(out.root / "landing", case.table, MONTH))
    failure = out.failure(case.step)
    said = failure.message + "\n" + failure.causes
    assert path in said and case.says in said, said
    assert path in out.summary and case.says in out.summary, out.summary  # what `python -m bank_assets.run` prints
    if case.step.startswith("bronze__"):
        assert failure.metadata.get("file") == path and failure.metadata.get("rule") == case.says, failure.metadata
        if case.line is not None:
            good = landing_file(world.root / "landing", case.table, MONTH).read_bytes()
            line = case.line(good) if callable(case.line) else case.line
            assert failure.metadata.get("line") == line, failure.metadata
        restored = re.search(r"\((\d+) partitions of bronze, silver and gold\) were rolled back", failure.message)
        if case.restored:
            assert restored and int(restored.group(1)) > 0, failure.message
    # nothing published changed: bronze, silver and gold, lineage columns included
    changed = {k for k in out.before.keys() | out.after.keys() if out.before.get(k) != out.after.get(k)}
    assert not changed, changed
    # ... so the month still holds the previous file, every row of it accounted for
    b, s, dups, rejects, stats = month_accounting(out.root / "warehouse.duckdb", case.table)
    assert b == stats == s + dups + rejects == data_rows(world.original(case.table))
    # the planted file content is nowhere in what the run stored (events, logs, errors and causes)
    assert path in out.stored  # (the failure itself is in there)
    assert CANARY not in out.stored
    assert "/bin/bash" not in out.stored


@pytest.mark.slow
def test_run_with_rows_to_quarantine_succeeds_and_accounts_for_every_row(world, instance, tmp_path):
    """Row-level problems never fail the run: the month is published with its rejects, and the
    step's metadata counts them by reason."""
    q_customer: list[str] = []

    def dirty_customers(root: Path) -> None:
        path = landing_file(root, "customers", MONTH)
        t = Csv(path.read_bytes())
        t.set(1, "first_name", "N/A").set(2, "birth_date", "2024-02-30").set(3, "segment", "VIP")
        t.rows.append(list(t.rows[4]))  # an exact duplicate
        q_customer.append(t.get(2, "customer_id"))
        path.write_bytes(t.bytes())

    out = rerun_month(world.root, tmp_path / "run", instance, dirty_customers, gold=False)
    assert out.success, out.summary
    assert out.before["silver.customers"] != out.after["silver.customers"]  # (the checksum sees a change)
    path = out.root / "warehouse.duckdb"
    b, s, dups, rejects, stats = month_accounting(path, "customers")
    landing = data_rows(landing_file(out.root / "landing", "customers", MONTH).read_bytes())
    assert (b, dups, rejects) == (landing, 1, 3) and b == stats == s + dups + rejects
    (meta,) = [m.metadata for m in out.result.asset_materializations_for_node("silver__customers")]
    assert meta["rejects_by_reason"].value == {"NULL_REQUIRED": 1, "INVALID_DATE": 1, "NOT_ACCEPTED": 1}
    with duckdb.connect(str(path), read_only=True) as con:
        (statuses,) = con.execute(
            "SELECT list(DISTINCT _customer_id_parent) FROM silver.accounts "
            "WHERE _partition_month = $m AND customer_id = $c",
            {"m": MONTH_DATE, "c": q_customer[0]},
        ).fetchone()
    assert statuses == ["QUARANTINED"]  # the customer's accounts are kept and flagged
