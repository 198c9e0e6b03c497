"""Bronze: load a month's landing files as-is (every column text) and replace its partition atomically.

The files are read as the source profile in force declares them (``bank_assets.source_profile``:
CSV in any encoding, delimiter and quote, with or without a header, or Parquet; several files a
month), every value kept as delivered text under the contract's column names. CSV is read with
pyarrow's multithreaded reader. If a file cannot be parsed, a line-by-line diagnosis names the
file, the line and the rule it breaks; nothing is loaded. The profile (name and digest) that loaded
each month is recorded in ``bronze._loads``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from bank_assets.contracts import Contract
from bank_assets.lakehouse.profile import create_partitioned, retry_on_conflict, table_exists
from bank_assets.source_profile import SourceProfile, TableSource, active_profile, default_source
from bank_assets.warehouse.connection import rollback_if_open
from bank_assets.warehouse.journal import Saver, Scope, month_scope


class LandingFileError(ValueError):
    """A landing file that cannot be loaded; the message names file, line and rule."""

    def __init__(self, path: Path | str, line: int, rule: str, detail: str) -> None:
        self.path, self.line, self.rule, self.detail = str(path), line, rule, detail
        where = f"line {line}: " if line else ""
        super().__init__(f"{path}: {where}{rule}: {detail}")


#: A header name we may repeat in an error message; anything else is file content, never echoed.
_HEADER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: A month whose row count falls below this share of the trailing months' mean is refused.
VOLUME_COLLAPSE_RATIO = 0.10
VOLUME_COLLAPSE_TRAILING = 3
VOLUME_COLLAPSE_MIN_MEAN = 20  # below this trailing mean, a small month is noise, not a collapse


def shown(names: list[str], header: list[str], expected: list[str]) -> str:
    """Unexpected header names for an error message, without echoing data: only identifier-like
    names, and only when the first line shares a column with the contract (else it is not a header at
    all, and its values may be personal data)."""
    if not names:
        return "[]"
    if set(header).isdisjoint(expected):
        return f"{len(names)} values (not shown: the first line shares no column name with the contract)"
    ok = [n for n in names if _HEADER_NAME.match(n)]
    hidden = len(names) - len(ok)
    return str(ok) + (f" and {hidden} more that are not column names (not shown)" if hidden else "")


def header_mismatch(path: Path, header: list[str], expected: list[str]) -> LandingFileError:
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    repeated = sorted({c for c in header if header.count(c) > 1 and c in expected})
    if not missing and not extra and repeated:
        return LandingFileError(path, 1, "HEADER_MISMATCH", f"columns {repeated} appear more than once")
    if not header or set(header).isdisjoint(expected):
        return LandingFileError(
            path, 1, "HEADER_MISSING", f"the first line is not a header row; expected the columns {expected}"
        )
    return LandingFileError(
        path,
        1,
        "HEADER_MISMATCH",
        f"missing columns {missing}, unexpected columns {shown(extra, header, expected)}; expected exactly {expected}",
    )


def check_landing_path(root: Path, path: Path) -> None:
    """Refuse symlinks and any path that resolves outside the landing root."""
    if path.is_symlink():
        raise LandingFileError(path, 0, "UNSAFE_PATH", "is a symbolic link; landing files must be regular files")
    resolved, base = path.resolve(), Path(root).resolve()
    if not resolved.is_relative_to(base):
        raise LandingFileError(path, 0, "UNSAFE_PATH", f"resolves outside the landing root {base}")
    if path.exists() and not path.is_file():
        raise LandingFileError(path, 0, "UNSAFE_PATH", "is not a regular file")


def bronze_ddl(contract: Contract) -> str:
    cols = ", ".join(f'"{c}" VARCHAR' for c in contract.column_names)
    return (
        f"CREATE TABLE IF NOT EXISTS bronze.{contract.name} ({cols}, _source_file VARCHAR, "
        f"_source_row BIGINT, _ingested_at TIMESTAMP, _partition_month DATE)"
    )


def diagnose(path: Path, contract: Contract, source: TableSource | None = None) -> LandingFileError | None:
    """Find the first line of `path` that breaks the landing contract (slow; error path only)."""
    source = source or default_source(contract.name)
    raw = path.read_bytes()
    if not raw.strip():
        return LandingFileError(path, 1, "HEADER_MISSING", "the file is empty; expected a header row")
    try:
        text = raw.decode(source.encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return LandingFileError(
            path,
            line,
            "ENCODING",
            f"byte 0x{raw[e.start]:02x} is not {source.encoding} (the profile declares {source.encoding})",
        )
    text = text.removeprefix("\ufeff")
    if "\r" in text and "\n" not in text.rstrip("\r\n"):
        return LandingFileError(
            path, 1, "MALFORMED_CSV", "lines end with a bare carriage return (\\r); use \\n or \\r\\n line ends"
        )
    dialect = {"delimiter": source.delimiter, "quotechar": source.quote}
    expected = source.source_names
    if source.header:
        first = text.split("\n", 1)[0].rstrip("\r")
        try:
            header = [h.strip() for h in next(csv.reader([first], **dialect))]
        except csv.Error:
            return LandingFileError(path, 1, "MALFORMED_CSV", "the header row is not valid CSV")
        if len(header) == 1 and len(expected) > 1:
            for delim in (",", ";", "\t", "|"):
                if delim != source.delimiter and delim in first:
                    return LandingFileError(
                        path, 1, "DELIMITER", f"header is split by {delim!r}; the profile declares {source.delimiter!r}"
                    )
        if sorted(header) != sorted(expected):
            return header_mismatch(path, header, expected)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, **dialect)
    if source.header:
        next(reader)
    try:
        for row in reader:
            if row and len(row) != len(expected):
                return LandingFileError(
                    path, reader.line_num, "COLUMN_COUNT", f"expected {len(expected)} fields, found {len(row)}"
                )
    except csv.Error as e:
        if "unexpected end of data" in str(e) or "EOF" in str(e):
            return LandingFileError(
                path,
                reader.line_num,
                "TRUNCATED",
                "a quoted field is never closed: the file ends inside its last record",
            )
        return LandingFileError(path, reader.line_num, "MALFORMED_CSV", _plain_csv_error(e))
    if text.count(source.quote) % 2:
        return LandingFileError(path, text.count("\n") + 1, "TRUNCATED", "unbalanced quotes: the last record is cut")
    return None


def _plain_csv_error(e: csv.Error) -> str:
    """Python's csv error without any quoted file content."""
    return re.sub(r"'[^']*'", "'…'", str(e))


def unparsed(path: Path) -> LandingFileError:
    """The CSV reader refused the file and the line-by-line diagnosis found nothing more precise.
    (The reader's own message quotes the row; it is not passed on.)"""
    return LandingFileError(path, 0, "MALFORMED_CSV", "the CSV reader could not parse the file")


_LF, _CR = 10, 13


@functools.cache
def _quote_tables(delimiter: int, quote: int) -> tuple[np.ndarray, np.ndarray]:
    """Bytes after which a quote may stand (it opens a field, or is the second of a doubled
    pair), and bytes before which it may stand (it closes a field, or is the first of a pair)."""
    precede, follow = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
    precede[[delimiter, _LF, quote]] = True
    follow[[delimiter, _LF, _CR, quote]] = True
    return precede, follow


#: bytes scanned at a time: small enough for the CPU cache (a quoted export has a quote every ~6 bytes)
_CHUNK = 1 << 18


def quote_problem(path: Path, delimiter: str = ",", quote: str = '"') -> LandingFileError | None:
    """Quotes that break RFC 4180, found vectorized (pyarrow's reader is lenient about them).

    A quote must open a field (after a comma or a line start), close one (before a comma, a line
    end or the end of the file), or be doubled. Anything else is a stray quote (`C"1`: a quote
    inside an unquoted field; `"A1"x`: text after a closing quote) and is refused with its line.
    An odd number of quotes means the file ends inside a quoted field: the last record is cut.
    """
    quote_code = ord(quote)
    may_precede, may_follow = _quote_tables(ord(delimiter), quote_code)
    quote_byte = quote.encode("latin-1")
    total, lines_before, prev_last = 0, 0, _LF
    with path.open("rb") as f:
        if f.read(3) != b"\xef\xbb\xbf":  # a UTF-8 BOM is not content
            f.seek(0)
        chunk = f.read(_CHUNK)
        while chunk:
            after = f.read(_CHUNK)
            n_quotes = chunk.count(quote_byte)  # bytes.count is a fast C scan: most exports quote nothing
            total += n_quotes
            if n_quotes:
                buf = np.frombuffer(chunk, dtype=np.uint8)
                q = np.flatnonzero(buf == quote_code)
                before = buf[q - 1]  # q = 0 wraps around: set below
                if q[0] == 0:
                    before[0] = prev_last
                following = buf[np.minimum(q + 1, buf.size - 1)]
                if q[-1] == buf.size - 1:
                    following[-1] = after[0] if after else _LF  # the end of the file acts like a line end
                stray = q[~(may_precede[before] | may_follow[following])]
                if stray.size:
                    pos = int(stray[0])
                    line = lines_before + int(np.count_nonzero(buf[:pos] == _LF)) + 1
                    return LandingFileError(
                        path, line, "MALFORMED_CSV", "a stray quote: inside an unquoted field or after a closing quote"
                    )
            lines_before += chunk.count(b"\n")
            prev_last = chunk[-1]
            chunk = after
    if total % 2:
        return LandingFileError(path, 0, "TRUNCATED", "unbalanced quotes: the file ends inside its last record")
    return None


def read_csv(path: Path, contract: Contract, source: TableSource) -> Iterator[pa.RecordBatch]:
    """A CSV file in the profile's dialect, streamed in ~1 MB batches (memory stays flat whatever
    the file size): the contract's columns as text, renamed from the file's, + ``_source_row``
    (1 = the first data row). A bad header or stray quote raises :class:`LandingFileError` at
    once; a file that breaks while streaming raises it from the batches."""
    expected = source.source_names
    if source.header:
        with path.open(encoding=source.encoding, errors="replace", newline="") as f:
            head = f.readline().removeprefix("\ufeff")
        try:
            found = (
                [
                    h.strip()
                    for h in next(csv.reader([head.rstrip("\r\n")], delimiter=source.delimiter, quotechar=source.quote))
                ]
                if head.strip()
                else []
            )
        except csv.Error:
            found = []
        if sorted(found) != sorted(expected):
            raise diagnose(path, contract, source) or header_mismatch(path, found, expected)
    else:
        found = expected
    if source.encoding.replace("-", "").replace("_", "") in ("utf8", "latin1", "iso88591", "cp1252", "ascii"):
        problem = quote_problem(path, source.delimiter, source.quote)
        if problem is not None:
            raise (diagnose(path, contract, source) if problem.rule == "TRUNCATED" else None) or problem
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=found, skip_rows=1 if source.header else 0, encoding=source.encoding
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=source.delimiter, quote_char=source.quote, newlines_in_values=True
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in found},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise (diagnose(path, contract, source) or unparsed(path)) from None
    by_contract = {target: name for name, target in source.columns}

    def batches() -> Iterator[pa.RecordBatch]:
        offset = 1
        try:
            for batch in reader:
                rows = pa.array(np.arange(offset, offset + batch.num_rows, dtype=np.int64))
                cols = [batch.column(by_contract[c]) for c in contract.column_names]
                yield pa.RecordBatch.from_arrays([*cols, rows], [*contract.column_names, "_source_row"])
                offset += batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise (diagnose(path, contract, source) or unparsed(path)) from None

    return batches()


def _as_text(values: pa.Array, source: TableSource) -> pa.Array:
    """A Parquet column as the text the profile's formats read: dates and timestamps in its
    formats, numbers with its decimal separator; text as it is."""
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return values.cast(pa.string())
    if pa.types.is_date(t):
        return pc.strftime(values.cast(pa.timestamp("s")), format=source.date_format)
    if pa.types.is_timestamp(t):
        tz = source.timezone if t.tz is not None else None  # an instant: the profile's zone's local time
        values = values.cast(pa.timestamp(t.unit, tz))
        seconds = values.cast(pa.timestamp("s", tz), safe=False)
        text = pc.strftime(seconds, format=source.timestamp_format or "%Y-%m-%d %H:%M:%S")
        # a fraction of a second is kept visible, so that silver refuses it (nothing is truncated)
        exact = pc.equal(seconds.cast(pa.timestamp(t.unit, tz)), values)
        return pc.if_else(pc.fill_null(exact, True), text, pc.binary_join_element_wise(text, ".fraction", ""))
    if pa.types.is_decimal(t) or pa.types.is_floating(t) or pa.types.is_integer(t):
        text = values.cast(pa.string())
        return text if source.decimal_separator == "." else pc.replace_substring(text, ".", source.decimal_separator)
    if pa.types.is_boolean(t):
        return values.cast(pa.string())
    raise ValueError(f"Parquet type {t} is not read; use text, date, timestamp, decimal, integer or boolean")


def _read_parquet(path: Path, contract: Contract, source: TableSource) -> Iterator[pa.RecordBatch]:
    """A Parquet file: the declared columns as text (see :func:`_as_text`) + ``_source_row``."""
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise LandingFileError(
            path, 0, "MALFORMED_PARQUET", f"not a readable Parquet file ({type(e).__name__})"
        ) from None
    found, expected = pf.schema_arrow.names, source.source_names
    if sorted(found) != sorted(expected):
        raise header_mismatch(path, found, expected)
    by_contract = {target: name for name, target in source.columns}

    def batches() -> Iterator[pa.RecordBatch]:
        offset = 1
        for batch in pf.iter_batches(batch_size=65_536, columns=expected):
            try:
                cols = [_as_text(batch.column(by_contract[c]), source) for c in contract.column_names]
            except ValueError as e:
                raise LandingFileError(path, 0, "PARQUET_TYPE", str(e)) from None
            rows = pa.array(np.arange(offset, offset + batch.num_rows, dtype=np.int64))
            yield pa.RecordBatch.from_arrays([*cols, rows], [*contract.column_names, "_source_row"])
            offset += batch.num_rows

    return batches()


def read_month(
    paths: list[Path], contract: Contract, source: TableSource, errors: list[Exception] | None = None
) -> pa.RecordBatchReader:
    """Every file of a month in path order, as text under the contract's names, with
    ``_source_file`` and ``_source_row`` (1 = first data row of that file). Every file is opened
    (and its header checked) before the first row is read."""
    opened: list[tuple[Path, Iterator[pa.RecordBatch]]] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(
                f"landing file {path} does not exist: generate it (landing assets) or drop your export there"
            )
        if source.format == "parquet":
            opened.append((path, _read_parquet(path, contract, source)))
        else:
            opened.append((path, read_csv(path, contract, source)))
    names = [*contract.column_names, "_source_row", "_source_file"]
    schema = pa.schema(
        [
            *(pa.field(c, pa.string()) for c in contract.column_names),
            ("_source_row", pa.int64()),
            ("_source_file", pa.string()),
        ]
    )

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for path, stream in opened:
                for b in stream:
                    file_col = pa.array([str(path)] * b.num_rows, pa.string())
                    yield pa.RecordBatch.from_arrays([*b.columns, file_col], names)
        except LandingFileError as e:
            if errors is not None:
                errors.append(e)
            raise

    return pa.RecordBatchReader.from_batches(schema, batches())


@dataclass(frozen=True)
class BronzeLoad:
    rows: int
    path: str
    #: a month loaded before and delivered again: business keys added, removed and changed (any
    #: column) against the rows it replaced; None for a month's first load
    restatement: dict[str, int] | None = None

    @property
    def restated(self) -> bool:
        return bool(self.restatement and any(self.restatement.values()))


def published_after(con: duckdb.DuckDBPyConnection, month: dt.date) -> list[str]:
    """Months after `month` that silver has published (YYYY-MM): what a restatement reaches."""
    if not table_exists(con, "silver._partition_stats"):
        return []
    rows = con.execute(
        "SELECT DISTINCT partition_month FROM silver._partition_stats WHERE partition_month > $m ORDER BY 1",
        {"m": month},
    ).fetchall()
    return [f"{r[0]:%Y-%m}" for r in rows]


def restatement_diff(con: duckdb.DuckDBPyConnection, contract: Contract, new: str, month: dt.date) -> dict[str, int]:
    """Business keys of the month's published bronze rows against `new` (the re-delivered file's
    rows, as text): keys only in the new file, only in the old one, and in both with any value
    changed (a key delivered several times compares as the set of its rows)."""
    keys = ", ".join(f'"{k}"' for k in contract.key)
    row = ", ".join(f'"{c}"' for c in contract.column_names)
    side = "SELECT {keys}, sum(hash({row})) AS h, count(*) AS n FROM {src} GROUP BY {keys}"
    old = side.format(keys=keys, row=row, src=f"bronze.{contract.name} WHERE _partition_month = $part")
    fresh = side.format(keys=keys, row=row, src=new)
    added, removed, changed = con.execute(
        f"SELECT count(*) FILTER (WHERE o.n IS NULL), count(*) FILTER (WHERE f.n IS NULL), "
        f"count(*) FILTER (WHERE o.n IS NOT NULL AND f.n IS NOT NULL AND (o.h <> f.h OR o.n <> f.n)) "
        f"FROM ({old}) o FULL OUTER JOIN ({fresh}) f USING ({keys})",
        {"part": month},
    ).fetchone()
    return {"rows_added": int(added), "rows_removed": int(removed), "rows_changed": int(changed)}


def bronze_scope(contract: Contract, month: dt.date) -> Scope:
    return month_scope(f"bronze.{contract.name}", "_partition_month", month)


def loads_scope(contract: Contract, month: dt.date) -> Scope:
    return Scope("bronze._loads", f"table_name = '{contract.name}' AND partition_month = DATE '{month:%Y-%m-%d}'")


def trailing_rows(con: duckdb.DuckDBPyConnection, table: str, month: dt.date) -> list[int]:
    """Bronze row counts of the table's latest months before `month` (from silver's stats)."""
    if not table_exists(con, "silver._partition_stats"):
        return []
    rows = con.execute(
        "SELECT bronze_rows FROM silver._partition_stats WHERE table_name = ? AND partition_month < ? "
        "ORDER BY partition_month DESC LIMIT ?",
        [table, month, VOLUME_COLLAPSE_TRAILING],
    ).fetchall()
    return [r[0] for r in rows]


def check_volume(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, month: dt.date, rows: int, allow: bool
) -> None:
    """Refuse an empty file (unless the contract says the table may be empty for a month) and a
    month whose rows collapse against the trailing months, unless the run explicitly allows it."""
    if allow:
        return
    hint = "if this is expected, re-run with the bronze config allow_empty_or_collapsed_month: true"
    if rows == 0 and not contract.may_be_empty:
        raise LandingFileError(path, 1, "EMPTY_FILE", f"the file has a header but no data rows; {hint}")
    trailing = trailing_rows(con, contract.name, month)
    mean = sum(trailing) / len(trailing) if trailing else 0.0
    if contract.steady_volume and mean >= VOLUME_COLLAPSE_MIN_MEAN and rows < VOLUME_COLLAPSE_RATIO * mean:
        raise LandingFileError(
            path,
            0,
            "VOLUME_COLLAPSE",
            f"{rows:,} rows, below {VOLUME_COLLAPSE_RATIO:.0%} of the mean of the {len(trailing)} months "
            f"before ({mean:,.0f} rows); {hint}",
        )


LOADS_DDL = """CREATE TABLE IF NOT EXISTS bronze._loads (table_name VARCHAR, partition_month DATE,
profile VARCHAR, profile_digest VARCHAR, files VARCHAR, loaded_at TIMESTAMP)"""


class ProfileChangedError(RuntimeError):
    """A month loaded with one source profile, loaded or typed again under another."""


def loaded_profile(con: duckdb.DuckDBPyConnection, table: str, month: dt.date) -> tuple[str, str] | None:
    """(profile, digest) that loaded the table's month into bronze; None if not recorded."""
    if not table_exists(con, "bronze._loads"):
        return None
    row = con.execute(
        "SELECT profile, profile_digest FROM bronze._loads WHERE table_name = ? AND partition_month = ?",
        [table, month],
    ).fetchone()
    return (row[0], row[1]) if row else None


def load(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    paths: Path | list[Path],
    partition: dt.date,
    ingested_at: dt.datetime,
    save: Saver | None = None,
    allow_empty: bool = False,
    *,
    profile: SourceProfile | None = None,
    accept_new_profile: bool = False,
) -> BronzeLoad:
    """Replace the month's partition with its files' rows, read as `profile` (default: the one in
    force) declares them,
    atomically. `save` (the run journal) copies the rows replaced, in the same transaction. An
    empty or collapsed month is refused, and so is a month loaded before under another profile
    unless `accept_new_profile`. A month loaded before is compared with its new files first
    (:func:`restatement_diff`)."""
    cols = ", ".join(f'"{c}"' for c in contract.column_names)
    where = "_partition_month = $part"
    paths = [paths] if isinstance(paths, Path) else paths
    profile = profile or active_profile()
    source = profile.table(contract.name)

    def attempt() -> tuple[int, dict[str, int] | None]:
        errors: list[Exception] = []
        before = loaded_profile(con, contract.name, partition)
        if before is not None and before[1] != source.digest and not accept_new_profile:
            raise ProfileChangedError(
                f"bronze.{contract.name} {partition:%Y-%m} was loaded with source profile {before[0]} "
                f"(its {contract.name} settings {before[1]}); the profile in force is {profile.label} "
                f"({contract.name} settings {source.digest}). Loading a month again under other settings "
                "must be asked for: re-materialize it with the bronze config accept_new_profile: true "
                "(python -m bank_assets.run --accept-new-profile)"
            )
        con.register("_bronze_in", read_month(paths, contract, source, errors))
        source_sql, restatement = "_bronze_in", None
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute("CREATE SCHEMA IF NOT EXISTS bronze")
            if save is not None:
                save(bronze_scope(contract, partition), loads_scope(contract, partition))
            create_partitioned(con, f"bronze.{contract.name}", bronze_ddl(contract), "_partition_month")
            create_partitioned(con, "bronze._loads", LOADS_DDL, "partition_month")
            loaded = con.execute(
                f"SELECT count(*) > 0 FROM bronze.{contract.name} WHERE {where}", {"part": partition}
            ).fetchone()[0]
            if loaded:  # a re-delivery: compare it with what it replaces (the stream is read once)
                con.execute("CREATE OR REPLACE TEMP TABLE _bronze_redelivered AS SELECT * FROM _bronze_in")
                source_sql = "_bronze_redelivered"
                restatement = restatement_diff(con, contract, source_sql, partition)
            con.execute(f"DELETE FROM bronze.{contract.name} WHERE {where}", {"part": partition})
            con.execute(
                f"INSERT INTO bronze.{contract.name} SELECT {cols}, _source_file, _source_row, $ts, $part "
                f"FROM {source_sql}",
                {"ts": ingested_at, "part": partition},
            )
            n = con.execute(
                f"SELECT count(*) FROM bronze.{contract.name} WHERE {where}", {"part": partition}
            ).fetchone()
            check_volume(con, contract, paths[0], partition, n[0], allow_empty)
            con.execute(
                "DELETE FROM bronze._loads WHERE table_name = ? AND partition_month = ?", [contract.name, partition]
            )
            con.execute(
                "INSERT INTO bronze._loads VALUES (?, ?, ?, ?, ?, ?)",
                [contract.name, partition, profile.label, source.digest, "\n".join(str(p) for p in paths), ingested_at],
            )
            con.execute("COMMIT")
            return int(n[0]), restatement
        except Exception as e:
            rollback_if_open(con)
            if errors:  # a file broke while DuckDB was reading it: report the file's error
                raise errors[0] from e
            raise
        finally:
            con.unregister("_bronze_in")
            if source_sql != "_bronze_in":
                con.execute("DROP TABLE IF EXISTS _bronze_redelivered")

    n, restatement = retry_on_conflict(attempt, what=f"bronze.{contract.name} {partition:%Y-%m}")
    return BronzeLoad(rows=n, path=", ".join(str(p) for p in paths), restatement=restatement)
