"""Paths and switches from the environment, resolved to absolute paths (dbt runs from its own folder)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_models"

DEFAULTS = {
    "BANK_WAREHOUSE": "data/warehouse/bank.duckdb",
    "BANK_LANDING_DIR": "data/landing",
    "BANK_LANDING_MODE": "generate",  # or "files": bronze reads files you dropped in landing
    # the consumption layer: dashboard/<YYYY-MM>.html and exports/<table>/year=/month=/ (not in git)
    "BANK_REPORTS_DIR": "data/reports",
    "BANK_FIRST_MONTH": "2024-01",
    "BANK_LAST_MONTH": "2025-12",
    # DuckDB's memory cap for every warehouse connection (ours and dbt's); larger work spills to
    # disk. DuckDB's own default is 80 % of RAM, which let a 12-month backfill reach 2.5 GB RSS.
    "BANK_DUCKDB_MEMORY_LIMIT": "1GB",
    # how often the gold_automation sensor evaluates (Dagster's default for automation sensors);
    # the daemon tests set 5 so that "settled" is seen in seconds
    "BANK_AUTOMATION_INTERVAL_S": "30",
    # months per run of `python -m bank_assets.run`, and at most that many months per dbt build of
    # any run (a UI backfill of 24 months builds gold 12 at a time): fixed costs are paid once per
    # run or build (12 small months from a new process: one run 140 s, two runs of 6 159 s), and a
    # build's memory stays bounded (BANK_DUCKDB_MEMORY_LIMIT; lower this at large scale)
    "BANK_MONTHS_PER_RUN": "12",
    # a customer number whose person changed (national id, birth date or name differ from its
    # latest earlier snapshot): WARN names the keys; ERROR also refuses to publish the month
    "BANK_IDENTITY_CHANGE_SEVERITY": "WARN",
    # how the bank's files are written: "default" (the synthetic bank's dialect), a name in
    # profiles/ or a path to a profile YAML (bank_assets.source_profile, docs/source_profiles.md)
    "BANK_SOURCE_PROFILE": "default",
}


def env(name: str) -> str:
    return os.environ.get(name) or DEFAULTS[name]


def resolve(path: str) -> str:
    """Absolute path; relative paths are taken from the project root, not the caller's cwd."""
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else (PROJECT_ROOT / p).resolve())


def months_per_run() -> int:
    """BANK_MONTHS_PER_RUN: longer runs amortize more, shorter ones report progress more often."""
    value = env("BANK_MONTHS_PER_RUN")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"BANK_MONTHS_PER_RUN must be a whole number >= 1, not {value!r}")
    return int(value)


def identity_change_severity() -> str:
    """BANK_IDENTITY_CHANGE_SEVERITY: WARN (default) or ERROR."""
    value = env("BANK_IDENTITY_CHANGE_SEVERITY").upper()
    if value not in ("WARN", "ERROR"):
        raise ValueError(f"BANK_IDENTITY_CHANGE_SEVERITY must be WARN or ERROR, not {value!r}")
    return value
