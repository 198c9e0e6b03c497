"""Bronze: load one landing file as-is (every column text) and replace its partition atomically.

The fast path reads with pyarrow's multithreaded CSV reader. If a file cannot be parsed, a
line-by-line diagnosis names the file, the line and the rule it breaks; nothing is loaded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from bank_assets.contracts import Contract


class LandingFileError(ValueError):
    """A landing file that cannot be loaded; the message names file, line and rule."""

    def __init__(self, path: Path | str, line: int, rule: str, detail: str) -> None:
        self.path, self.line, self.rule, self.detail = str(path), line, rule, detail
        super().__init__(f"{path}: line {line}: {rule}: {detail}")


def bronze_ddl(contract: Contract) -> str:
    cols = ", ".join(f'"{c}" VARCHAR' for c in contract.column_names)
    return (
        f"CREATE TABLE IF NOT EXISTS bronze.{contract.name} ({cols}, _source_file VARCHAR, "
        f"_source_row BIGINT, _ingested_at TIMESTAMP, _partition_month DATE)"
    )


def diagnose(path: Path, contract: Contract) -> LandingFileError | None:
    """Find the first line of `path` that breaks the landing contract (slow; error path only)."""
    raw = path.read_bytes()
    if not raw.strip():
        return LandingFileError(path, 1, "HEADER_MISSING", "the file is empty; expected a header row")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return LandingFileError(
            path, line, "ENCODING", f"byte 0x{raw[e.start]:02x} is not UTF-8 (files must be UTF-8 encoded)"
        )
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    expected = contract.column_names
    header = next(csv.reader([first]))
    header = [h.strip() for h in header]
    if len(header) == 1 and len(expected) > 1:
        for delim in (";", "\t", "|"):
            if delim in first:
                return LandingFileError(path, 1, "DELIMITER", f"header is split by {delim!r}; landing files use ','")
    if sorted(header) != sorted(expected):
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        return LandingFileError(
            path,
            1,
            "HEADER_MISMATCH",
            f"missing columns {missing}, unexpected columns {extra}; expected exactly {expected}",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader)
    try:
        for row in reader:
            if row and len(row) != len(header):
                return LandingFileError(
                    path, reader.line_num, "COLUMN_COUNT", f"expected {len(header)} fields, found {len(row)}"
                )
    except csv.Error as e:
        return LandingFileError(path, reader.line_num, "MALFORMED_CSV", str(e))
    return None


def read_landing(path: Path, contract: Contract, errors: list[Exception] | None = None) -> pa.RecordBatchReader:
    """Stream a landing file with every contract column as text, in contract order, plus
    ``_source_row`` (1 = first row after the header). Batches of ~1 MB keep memory flat whatever
    the file size. A bad file raises :class:`LandingFileError` (at once for a bad header, while
    streaming otherwise; the error is also appended to `errors`, since a consumer such as
    DuckDB's scan may re-raise it as its own exception)."""
    if not path.exists():
        raise FileNotFoundError(
            f"landing file {path} does not exist: generate it (landing assets) or drop your export there"
        )
    with path.open("rb") as f:
        head = f.readline().decode("utf-8-sig", errors="replace")
    try:
        header = [h.strip() for h in next(csv.reader([head.rstrip("\r\n")]))] if head.strip() else []
    except csv.Error:
        header = []
    if sorted(header) != sorted(contract.column_names):
        expected = f"expected {contract.column_names}"
        raise diagnose(path, contract) or LandingFileError(path, 1, "HEADER_MISMATCH", expected)
    try:
        reader = pcsv.open_csv(
            path,
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:  # the first block does not parse
        raise (diagnose(path, contract) or e) from None
    columns = [*contract.column_names, "_source_row"]
    schema = pa.schema([*(pa.field(c, pa.string()) for c in contract.column_names), ("_source_row", pa.int64())])

    def batches() -> Iterator[pa.RecordBatch]:
        offset = 1
        try:
            for batch in reader:
                n = batch.num_rows
                rows = pa.array(np.arange(offset, offset + n, dtype=np.int64))
                yield pa.RecordBatch.from_arrays([*(batch.column(c) for c in contract.column_names), rows], columns)
                offset += n
        except (pa.ArrowInvalid, UnicodeDecodeError) as e:
            problem = diagnose(path, contract) or e
            if errors is not None:
                errors.append(problem)
            raise problem from None

    return pa.RecordBatchReader.from_batches(schema, batches())


@dataclass(frozen=True)
class BronzeLoad:
    rows: int
    path: str


def load(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, partition: dt.date, ingested_at: dt.datetime
) -> BronzeLoad:
    """Replace the month's partition with the file's rows, atomically."""
    errors: list[Exception] = []
    con.register("_bronze_in", read_landing(path, contract, errors))
    cols = ", ".join(f'"{c}"' for c in contract.column_names)
    where = "_partition_month = $part"
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA IF NOT EXISTS bronze")
        con.execute(bronze_ddl(contract))
        con.execute(f"DELETE FROM bronze.{contract.name} WHERE {where}", {"part": partition})
        con.execute(
            f"INSERT INTO bronze.{contract.name} SELECT {cols}, $file, _source_row, $ts, $part FROM _bronze_in",
            {"file": str(path), "ts": ingested_at, "part": partition},
        )
        n = con.execute(f"SELECT count(*) FROM bronze.{contract.name} WHERE {where}", {"part": partition}).fetchone()[0]
        con.execute("COMMIT")
    except Exception as e:
        con.execute("ROLLBACK")
        if errors:  # the file broke while DuckDB was reading it: report the file's error
            raise errors[0] from e
        raise
    finally:
        con.unregister("_bronze_in")
    return BronzeLoad(rows=n, path=str(path))
