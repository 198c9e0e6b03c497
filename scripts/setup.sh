#!/usr/bin/env bash
# Create .venv (if missing), install the project with its dev tools at the versions of
# requirements/constraints.txt (--lakehouse: also the
# lakehouse profile's packages, DuckDB extensions and Debian servers), and prepare the dbt
# project (dbt parse writes dbt_models/target/manifest.json, which @dbt_assets reads at import).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# uv installs (several times faster than pip); the versions are the ones CI tested:
# requirements/constraints.txt (how to update it: docs/dependencies.md)
UV_VERSION="0.13.9"
if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
EXTRAS="dev"
if [ "${1:-}" = "--lakehouse" ]; then
  # the lakehouse profile: its Python packages, its DuckDB extensions (from PyPI wheels into
  # .duckdb/extensions), and the Debian servers scripts/lakehouse.sh starts (as root, when missing)
  EXTRAS="dev,lakehouse"
  missing=""
  command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing="$missing postgresql"
  if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  elif [ -n "$missing" ]; then
    echo "the lakehouse profile's local stack needs:$missing (Debian packages); install them to run it" >&2
  fi
fi
.venv/bin/uv pip install --quiet --python .venv/bin/python -c requirements/constraints.txt -e ".[$EXTRAS]"
# Byte-compile everything once (~30 s, then ~3 s when up to date). uv installs no .pyc files, and
# where PYTHONDONTWRITEBYTECODE=1 (set on this project's CI machines) Python never caches them
# either: every new process (each CLI call, daemon-launched run and Celery task) then compiled
# dagster, dbt, pandas and scipy from source, ~4 s of a 7-s import (README, Performance).
.venv/bin/python -m compileall -q -j 0 .venv/lib/python*/site-packages bank_assets >/dev/null
if [ "$EXTRAS" = "dev,lakehouse" ]; then
  .venv/bin/python -m bank_assets.lakehouse install-extensions
fi
# The PII pseudonym key (.secrets/pii.key, mode 0600; kept if present, refused if others can read it).
.venv/bin/python -m bank_assets.pseudonym --ensure-key
# Parsed with the stand-in path a run's dbt parses with for the default warehouse
# (bank_assets/dbt_parse_state.py): the partial-parse state written here is then what the first run
# starts from (else a full parse: ~6 s instead of ~1.5 s on this machine class).
warehouse="$(.venv/bin/python -c 'from bank_assets.dbt_parse_state import parse_warehouse; from bank_assets.settings import env; print(parse_warehouse(env("BANK_WAREHOUSE"), "dbt_models"))')"
(cd dbt_models && BANK_WAREHOUSE="$warehouse" DBT_PROFILES_DIR=. DBT_SEND_ANONYMOUS_USAGE_STATS=false ../.venv/bin/dbt parse --quiet)
echo "environment ready: .venv ($(.venv/bin/python --version)), dbt manifest prepared"
