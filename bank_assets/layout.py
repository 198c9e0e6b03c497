"""Where landing files live. Shared by the generator, the bronze loader and the sensor."""

from __future__ import annotations

from pathlib import Path

from bank_assets.contracts import CONTRACTS

REFERENCE_DIR = "reference"


def landing_file(root: Path, table: str, month: str | None = None) -> Path:
    """landing/<table>/<YYYY-MM>/<table>.csv, or landing/reference/<table>.csv."""
    if CONTRACTS[table].is_monthly:
        if month is None:
            raise ValueError(f"{table} is a monthly table: a month (YYYY-MM) is required")
        return Path(root) / table / month / f"{table}.csv"
    return Path(root) / REFERENCE_DIR / f"{table}.csv"


def manifest_file(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + ".manifest.json")
