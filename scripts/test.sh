#!/usr/bin/env bash
# Quickstart, command 2: set up .venv, lint, and run the test suite on BANK_TEST_WORKERS (default 2)
# pytest-xdist workers, one test file per worker at a time (a file's fixtures are built once); the
# files that drive the Dagster daemon start first (tests/conftest.py), beside the rest.
# BANK_TEST_WORKERS=0 runs everything in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --lakehouse
.venv/bin/ruff check bank_assets benchmarks devtools tests
.venv/bin/python -m pytest -n "${BANK_TEST_WORKERS:-2}" --dist loadfile "$@"
