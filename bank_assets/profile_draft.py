"""Draft a source profile from a folder of exports: ``python -m bank_assets.profile_draft <folder>``.

For each file (CSV, TXT, TSV or Parquet, searched recursively) it prints the columns found, the
table they most look like, the contract columns it could map by name and those still missing,
then a draft profile (YAML) to edit and save as ``profiles/<name>.yml``. Everything here is a
suggestion: loading never infers, it reads exactly what the profile declares. Only names and
formats are printed, never a value from the files (they may hold personal data).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bank_assets.contracts import CONTRACTS

SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d", "%Y/%m/%d")
TIME_PARTS = (" %H:%M:%S", "T%H:%M:%S", " %H:%M")
SAMPLE_ROWS = 500


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class FileReport:
    path: Path
    format: str
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    samples: dict[str, list[str]] = field(default_factory=dict)
    table: str | None = None
    mapped: dict[str, str] = field(default_factory=dict)  # file column -> contract column

    @property
    def missing(self) -> list[str]:
        return [c for c in CONTRACTS[self.table].column_names if c not in self.mapped.values()] if self.table else []


def read_head(path: Path) -> FileReport:
    """Column names and a sample of values (kept in memory only, for format guesses)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        batch = next(pf.iter_batches(batch_size=SAMPLE_ROWS), None)
        samples = {n: [] for n in pf.schema_arrow.names}
        if batch is not None:
            for n in samples:
                samples[n] = [str(v) for v in batch.column(n).to_pylist() if v is not None]
        return FileReport(path, "parquet", columns=list(samples), samples=samples)
    raw = path.read_bytes()[: 1 << 20]
    try:
        raw.decode("ascii")
        encoding = "ascii"  # any of utf-8, latin-1, cp1252 reads it
    except UnicodeDecodeError:
        try:
            raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as e:
            encoding = "utf-8" if e.start > len(raw) - 4 else "latin-1"  # a cut multi-byte tail is still UTF-8
    text = raw.decode(encoding, errors="ignore").removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max(",;|\t", key=first.count)
    rows = list(csv.reader(text.splitlines()[: SAMPLE_ROWS + 1], delimiter=delimiter))
    header = [h.strip() for h in rows[0]] if rows else []
    samples = {h: [r[i].strip() for r in rows[1:] if i < len(r) and r[i].strip()] for i, h in enumerate(header)}
    return FileReport(path, "csv", encoding, delimiter, header, samples)


def match_table(report: FileReport) -> None:
    """The contract sharing the most column names (normalized), the file name breaking ties."""
    found = {norm(c): c for c in report.columns}
    stem = norm(report.path.stem)
    best: tuple[int, int, str] | None = None
    for name, contract in CONTRACTS.items():
        hits = sum(1 for c in contract.column_names if norm(c) in found)
        named = int(norm(name) in stem or norm(name.rstrip("s")) in stem)
        if best is None or (hits, named) > best[:2]:
            best = (hits, named, name)
    if best and (best[0] or best[1]):
        report.table = best[2]
        contract = CONTRACTS[best[2]]
        report.mapped = {found[norm(c)]: c for c in contract.column_names if norm(c) in found}


def _parses(values: list[str], fmt: str) -> bool:
    try:
        for v in values:
            dt.datetime.strptime(v, fmt)
    except ValueError:
        return False
    return bool(values)


def guess_formats(report: FileReport) -> dict[str, str]:
    """date_format, timestamp_format, decimal and thousands separators the samples agree with."""
    out: dict[str, str] = {}
    votes: Counter[str] = Counter()
    for values in report.samples.values():
        values = values[:200]
        if not values:
            continue
        for fmt in DATE_FORMATS:
            if "date_format" not in out and _parses(values, fmt):
                out["date_format"] = fmt
            for part in TIME_PARTS:
                if "timestamp_format" not in out and part.endswith("%S") and _parses(values, fmt + part):
                    out["timestamp_format"] = fmt + part
        if all(re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d+", v) for v in values):
            votes["comma"] += 1
        elif all(re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d+|-?\d+\.\d+", v) for v in values):
            votes["point"] += 1
    if votes["comma"] > votes["point"]:
        out["decimal_separator"], out["thousands_separator"] = ",", "."
    return out


def month_pattern(rel: str) -> str:
    """The file's path with its month as a placeholder ({month} for 2024-02, {yyyymm} for 202402)
    and a part number before the suffix as ``*``."""
    rel = re.sub(r"(?<!\d)(20\d{2})-(0[1-9]|1[0-2])(?!\d)", "{month}", rel, count=1)
    if "{month}" not in rel:
        rel = re.sub(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)", "{yyyymm}", rel)
    return re.sub(r"(?<=[_-])\d{1,2}(?=\.\w+$)", "*", rel)  # numbered parts of a month: _1.csv, _2.csv


def draft(folder: Path, name: str) -> tuple[str, str]:
    """(report, draft YAML) for the exports under `folder`; files of one pattern (the same path
    but for the month, e.g. a file a month) are reported once."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    groups: dict[str, list[FileReport]] = {}
    for path in files:
        groups.setdefault(month_pattern(path.relative_to(folder).as_posix()), []).append(read_head(path))
    lines: list[str] = []
    for pattern, rs in groups.items():
        r = rs[0]
        match_table(r)
        encodings = sorted({x.encoding for x in rs})
        how = "parquet" if r.format == "parquet" else f"csv, {'/'.join(encodings)}, delimiter {r.delimiter!r}"
        lines.append(f"{pattern}  ({len(rs)} file{'s' if len(rs) > 1 else ''}; {how})")
        lines.append(f"  columns found ({len(r.columns)}): {', '.join(r.columns)}")
        lines.append(f"  looks like: {r.table or 'no table (no column name matches a contract): map it by hand'}")
        if r.table:
            lines.append(f"  mapped by name ({len(r.mapped)}): {', '.join(r.mapped.values()) or 'none'}")
            lines.append(f"  missing ({len(r.missing)}): {', '.join(r.missing) or 'none'}")
    reports = [r for rs in groups.values() for r in rs]
    encodings = Counter(r.encoding for r in reports if r.format == "csv" and r.encoding != "ascii")
    delimiters = Counter(r.delimiter for r in reports if r.format == "csv")
    formats: dict[str, str] = {}
    for r in reports:
        for k, v in guess_formats(r).items():
            formats.setdefault(k, v)
    y = [f"# Draft source profile from {folder} ({len(files)} files): edit, then save as profiles/{name}.yml", ""]
    y += [f"name: {name}", f"description: exports found in {folder.name}", "", "defaults:"]
    y += [f"  encoding: {(encodings.most_common(1) or [('utf-8', 0)])[0][0]}"]
    if delimiters:
        y += [f"  delimiter: {delimiters.most_common(1)[0][0]!r}"]
    y += [f"  {k}: {v!r}" for k, v in sorted(formats.items())]
    y += ["  # null_tokens: ['', 'NULL']", "  # timezone: America/Lima", "", "tables:"]
    seen: set[str] = set()
    for pattern, rs in groups.items():
        r = rs[0]
        hash_ = "" if r.table and r.table not in seen else "# "
        y.append(f"  {hash_}{r.table or 'TABLE'}:" + ("" if hash_ == "" else f"  # {pattern}: which table?"))
        seen.add(r.table or "")
        y.append(f"  {hash_}  files: [{pattern!r}]")
        if r.format == "parquet":
            y.append(f"  {hash_}  format: parquet")
        y.append(f"  {hash_}  columns:")
        for col in r.columns:
            target = r.mapped.get(col)
            y.append(
                f"  {hash_}    {col}: {target}" if target else f"  #     {col}: ?  (a contract column, or drop it)"
            )
        for miss in r.missing:
            y.append(f"  #     ?: {miss}  (the file's column for it)")
    missing_tables = [t for t in CONTRACTS if t not in seen]
    if missing_tables:
        y += ["", f"# no file matched: {', '.join(missing_tables)} (unlisted tables keep the default layout)"]
    return "\n".join(lines), "\n".join(y) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bank_assets.profile_draft", description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="a folder of export files (searched recursively)")
    p.add_argument("--name", default="my_bank", help="the profile's name (default my_bank)")
    p.add_argument("--out", type=Path, help="also write the draft there (never over an existing file)")
    args = p.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    report, yaml_text = draft(args.folder, args.name)
    print(report or "no CSV, TXT, TSV or Parquet file found")
    print("\n--- draft profile ---\n" + yaml_text)
    if args.out:
        if args.out.exists():
            print(f"error: {args.out} exists; not overwritten", file=sys.stderr)
            return 2
        args.out.write_text(yaml_text, encoding="utf-8")
        print(f"draft written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
