"""The environment scripts/setup.sh builds: what every new process depends on to start quickly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

#: libraries every CLI call, daemon-launched run or Celery task imports (the heavy part of startup;
#: the project's own modules are left out: editing one makes its .pyc stale until the next setup)
STARTUP_MODULES = [
    "dagster",
    "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "dagster_dbt.core.resource",
    "dbt.cli.main",
    "dbt.adapters.duckdb.impl",
    "pandas.core.frame",
    "scipy.stats._stats_py",
    "statsmodels.regression.linear_model",
    "sklearn.cluster._kmeans",
]


@pytest.mark.parametrize("name", STARTUP_MODULES)
def test_startup_modules_are_byte_compiled(name: str):
    """uv installs no .pyc files and PYTHONDONTWRITEBYTECODE=1 stops Python writing them, so
    without setup.sh's compileall every process compiles these from source (~4 s of a 7-s start)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, name
    source = Path(spec.origin)
    cached = Path(importlib.util.cache_from_source(str(source)))
    assert cached.exists(), f"{name}: no {cached.name} beside {source}; run `bash scripts/setup.sh`"
    assert _fresh_by_header(source, cached), f"{name}: {cached} is stale; run `bash scripts/setup.sh`"


def _fresh_by_header(source: Path, cached: Path) -> bool:
    """Python uses a .pyc whose header records its source's mtime and size (PEP 552)."""
    header, st = cached.read_bytes()[:16], source.stat()
    mtime, size = (int.from_bytes(header[i : i + 4], "little") for i in (8, 12))
    return (mtime, size) == (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)


def test_dbt_profile_defaults_are_the_settings_defaults():
    """dbt's profiles.yml falls back to the same defaults as bank_assets/settings.py when an env
    var is unset (its relative paths are from dbt_models/, the settings' from the project root)."""
    import re

    from bank_assets.settings import DBT_PROJECT_DIR, DEFAULTS, resolve

    text = (DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")
    found = re.findall(r"env_var\('(BANK_\w+)', '([^']*)'\)", text)
    shared = [(name, default) for name, default in found if name in DEFAULTS]
    assert {name for name, _ in shared} >= {"BANK_WAREHOUSE", "BANK_DUCKDB_MEMORY_LIMIT"}
    for name, default in shared:
        if name == "BANK_WAREHOUSE":
            assert str((DBT_PROJECT_DIR / default).resolve()) == resolve(DEFAULTS[name])
        else:
            assert default == DEFAULTS[name], name
