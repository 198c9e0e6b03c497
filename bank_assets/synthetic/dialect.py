"""Write the synthetic bank in a source profile's dialect (``python -m bank_assets.synthetic --profile``).

The generator builds each table in the built-in dialect; this module rewrites it as the profile
declares: its file names (a pattern with ``*`` gets two files, the rows split in order), columns
named and ordered as the profile maps them, its encoding, delimiter and quote, header or none, its
date, timestamp and number formats, its first null token, and Parquet where declared (typed
columns where every value parses). Values the built-in dialect rejects stay rejected: such a value
that the profile's format would accept is written with a leading ``#``. So the same month loaded
through either profile gives the same silver and gold (``tests/test_source_profiles.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from bank_assets.contracts import BANK_TIMEZONE, CONTRACTS, FORMATS, NULL_TOKENS, Column
from bank_assets.source_profile import PLACEHOLDERS, TableSource, format_regex
from bank_assets.synthetic.generate import World, build
from bank_assets.synthetic.months import month_label
from bank_assets.synthetic.writer import write_atomic
from bank_assets.warehouse.silver import number_pattern

_ISO_TS = re.compile(FORMATS["timestamp"])
_WS = " \t\r\n"


def number_regex(kind: str, source: TableSource) -> re.Pattern[str]:
    """What silver accepts for a number column under `source` (silver's own pattern)."""
    return re.compile(number_pattern(kind, source))


def _number(text: str, source: TableSource) -> str:
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = body.partition(".")
    if source.thousands_separator is not None:
        whole = f"{int(whole):,}".replace(",", source.thousands_separator)
    return sign + whole + (source.decimal_separator + frac if frac else "")


def _timestamp(text: str, source: TableSource) -> str:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(BANK_TIMEZONE))
    local = value.astimezone(ZoneInfo(source.timezone)).replace(tzinfo=None)
    return local.strftime(source.timestamp_format or "%Y-%m-%d %H:%M:%S")


def _valid_in(c: Column, text: str, source: TableSource) -> bool:
    """Whether silver would accept `text` in column `c` under `source`."""
    if c.type == "date":
        ok = re.fullmatch(format_regex(source.date_format), text)
        return bool(ok) and _parses(text, source.date_format)
    if c.type == "timestamp":
        if source.timestamp_format is None:
            return bool(_ISO_TS.fullmatch(text)) and _iso_parses(text)
        return bool(re.fullmatch(format_regex(source.timestamp_format), text)) and _parses(
            text, source.timestamp_format
        )
    if c.type in ("money", "decimal", "int"):
        return bool(number_regex(c.type, source).fullmatch(text))
    return True


def _iso_parses(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _parses(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def convert_value(c: Column, raw: str | None, source: TableSource, default: TableSource) -> str | None:
    """One built-in-dialect value as `source` writes it (see the module docstring)."""
    if raw is None:
        return source.null_tokens[0]
    text = raw.strip(_WS)
    if text in NULL_TOKENS:
        return source.null_tokens[0]
    if c.type not in ("date", "timestamp", "money", "decimal", "int"):
        return raw
    if not _valid_in(c, text, default):
        return "#" + raw if _valid_in(c, text, source) else raw
    if c.type == "date":
        return dt.date.fromisoformat(text).strftime(source.date_format)
    if c.type == "timestamp":
        return _timestamp(text, source)
    return _number(text, source)


def file_names(source: TableSource, root: Path, month: str, parts: int) -> list[Path]:
    """Concrete files for the month: the first pattern filled in (``*`` numbered 1..parts)."""
    y, m = int(month[:4]), int(month[5:7])
    text = source.files[0].format(**{k: v.format(y=y, m=m) for k, v in PLACEHOLDERS.items()})
    if "*" not in text:
        return [Path(root) / text]
    return [Path(root) / text.replace("*", str(i + 1), 1).replace("*", "") for i in range(parts)]


def _typed_column(c: Column, values: list[str | None], source: TableSource) -> pa.Array:
    """A Parquet column: typed when every value parses in `source`'s formats, else text."""
    try:
        if c.type == "date":
            return pa.array(
                [None if v in (None, "") else dt.datetime.strptime(v, source.date_format).date() for v in values]
            )
        if c.type in ("money", "decimal"):
            scale = 2 if c.type == "money" else 6
            plain = [None if v in (None, "") else _plain_number(v, source) for v in values]
            return pa.array([None if v is None else Decimal(v) for v in plain], pa.decimal128(18, scale))
        if c.type == "int":
            return pa.array([None if v in (None, "") else int(_plain_number(v, source)) for v in values], pa.int32())
    except (ValueError, ArithmeticError, pa.ArrowInvalid):
        pass
    return pa.array(values, pa.string())


def _plain_number(text: str, source: TableSource) -> str:
    if not number_regex("money", source).fullmatch(text) and not number_regex("decimal", source).fullmatch(text):
        raise ValueError(text)
    if source.thousands_separator:
        text = text.replace(source.thousands_separator, "")
    return text.replace(source.decimal_separator, ".")


def write_in_profile(
    world: World, table: str, m: int, root: Path, source: TableSource
) -> tuple[list[Path], int, int, dict[str, int]]:
    """Generate `table` for month `m` and write it as `source` declares; returns the files, the
    rows, the clean rows and the injected defects."""
    from bank_assets.source_profile import default_source

    contract = CONTRACTS[table]
    data, clean_rows, defects = build(world, table, m)
    default = default_source(table)
    by_contract = {target: name for name, target in source.columns}
    columns = {
        c.name: [convert_value(c, v, source, default) for v in data.column(c.name).to_pylist()]
        for c in contract.columns
    }
    order = [target for _, target in source.columns]
    parts = 2 if "*" in source.files[0] and data.num_rows > 1 else 1
    paths = file_names(source, root, month_label(m), parts)
    bounds = [round(i * data.num_rows / len(paths)) for i in range(len(paths) + 1)]
    for path, lo, hi in zip(paths, bounds, bounds[1:], strict=False):
        if source.format == "parquet":
            arrays = [_typed_column(contract.column(t), columns[t][lo:hi], source) for t in order]
            part = pa.Table.from_arrays(arrays, names=[by_contract[t] for t in order])
            write_atomic(path, lambda p, part=part: pq.write_table(part, p))
            continue

        def write(p: Path, lo: int = lo, hi: int = hi) -> None:
            with p.open("w", encoding=source.encoding, newline="") as f:
                out = csv.writer(f, delimiter=source.delimiter, quotechar=source.quote, lineterminator="\n")
                if source.header:
                    out.writerow([by_contract[t] for t in order])
                out.writerows(zip(*(columns[t][lo:hi] for t in order), strict=True))

        write_atomic(path, write)
    return paths, data.num_rows, clean_rows, defects
