"""Write a landing table as CSV (pyarrow's writer, ~10x pandas) plus its defect manifest.

Files are written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from bank_assets.layout import manifest_file


def write_atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(table: pa.Table, path: Path) -> None:
    opts = pcsv.WriteOptions(include_header=True, quoting_style="needed")
    write_atomic(path, lambda p: pcsv.write_csv(table, p, write_options=opts))


def write_manifest(path: Path, manifest: dict) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True, default=_default) + "\n"
    write_atomic(manifest_file(path), lambda p: p.write_text(text, encoding="utf-8"))


def _default(obj: object) -> object:
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)  # type: ignore[arg-type]
    raise TypeError(type(obj))
