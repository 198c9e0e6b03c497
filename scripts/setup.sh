#!/usr/bin/env bash
# Create .venv (if missing), install the project with its dev tools, and prepare the dbt
# project (dbt parse writes dbt_models/target/manifest.json, which @dbt_assets reads at import).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The PII pseudonym key (.secrets/pii.key, mode 0600; kept if present, refused if others can read it).
.venv/bin/python -m bank_assets.pseudonym --ensure-key
(cd dbt_models && DBT_PROFILES_DIR=. DBT_SEND_ANONYMOUS_USAGE_STATS=false ../.venv/bin/dbt parse --quiet)
echo "environment ready: .venv ($(.venv/bin/python --version)), dbt manifest prepared"
