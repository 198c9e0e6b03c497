#!/usr/bin/env bash
# Quickstart, command 1: set up .venv and run the main job on the embedded default (DuckDB):
# synthetic landing files for the default range (2024-01..2025-12, small scale) -> bronze -> silver.
# Extra arguments go to `python -m bank_assets.run` (e.g. --start 2024-01 --end 2024-03).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/dagster_home}"
if [ "$#" -eq 0 ]; then set -- --all; fi
.venv/bin/python -m bank_assets.run "$@"
