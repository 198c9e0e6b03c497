"""Where landing files live. Shared by the generator, the bronze loader and the sensor.

In the built-in dialect every table lands once a month at ``landing/<table>/<YYYY-MM>/<table>.csv``;
a source profile (``bank_assets.source_profile``) may declare other patterns and several files a
month. Reference tables (merchants, branches) are monthly snapshots too, but a bank rarely
re-exports them every month: for them a month without its own files **carries forward** the latest
earlier month's files.
"""

from __future__ import annotations

import re
from pathlib import Path

from bank_assets.contracts import CONTRACTS
from bank_assets.source_profile import TableSource, active_profile

MONTH_DIR = re.compile(r"^\d{4}-\d{2}$")


def landing_file(root: Path, table: str, month: str) -> Path:
    """landing/<table>/<YYYY-MM>/<table>.csv: where the month's own file goes."""
    if table not in CONTRACTS:
        raise KeyError(f"unknown table {table!r}")
    return Path(root) / table / month / f"{table}.csv"


def resolve_landing_file(root: Path, table: str, month: str) -> Path | None:
    """The file that holds `table` for `month`: its own file, or for reference tables the latest
    earlier month's file (carried forward). None when there is none."""
    own = landing_file(root, table, month)
    if own.exists() or not CONTRACTS[table].carries_forward:
        return own if own.exists() else None
    folder = Path(root) / table
    if not folder.is_dir():
        return None
    earlier = sorted(
        d.name for d in folder.iterdir() if MONTH_DIR.match(d.name) and d.name < month and (d / f"{table}.csv").exists()
    )
    return landing_file(root, table, earlier[-1]) if earlier else None


def resolve_landing_files(root: Path, table: str, month: str, source: TableSource | None = None) -> list[Path]:
    """The files that hold `table` for `month` under the profile in force (or `source`): the
    month's own, or for reference tables the latest earlier month's (carried forward); [] if none."""
    source = source or active_profile().table(table)
    own = source.month_files(root, month)
    if own or not CONTRACTS[table].carries_forward:
        return own
    earlier = [m for m in source.months_with_files(root) if m < month]
    return source.month_files(root, earlier[-1]) if earlier else []


def expected_files(root: Path, table: str, month: str, source: TableSource | None = None) -> str:
    """Where the month's files are expected (for messages): the profile's patterns, filled in."""
    source = source or active_profile().table(table)
    y, m = month[:4], month[5:7]
    return " or ".join(str(Path(root) / p.format(month=month, yyyymm=f"{y}{m}", yyyy=y, mm=m)) for p in source.files)


def manifest_file(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + ".manifest.json")
