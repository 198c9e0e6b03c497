#!/usr/bin/env bash
# Quickstart, command 2: set up .venv, lint, and run the test suite on BANK_TEST_WORKERS (default 3)
# pytest-xdist workers, one test file per worker at a time (a file's fixtures are built once); the
# two files that drive the Dagster daemon start first, on two workers (tests/conftest.py), and
# mostly wait on its 30-s loops: the third worker runs the rest of the suite meanwhile.
# BANK_TEST_WORKERS=0 runs everything in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --lakehouse
.venv/bin/ruff check bank_assets benchmarks devtools tests
.venv/bin/python -m pytest -n "${BANK_TEST_WORKERS:-3}" --dist loadfile "$@"
