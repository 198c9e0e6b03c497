#!/usr/bin/env bash
# Quickstart, command 2: set up .venv, lint, and run the test suite on pytest-xdist workers, one test
# file per worker at a time (a file's fixtures are built once); the files that drive the Dagster
# daemon start first (tests/conftest.py), beside the rest. Workers: BANK_TEST_WORKERS, else one per
# core, plus one for the whole suite (no arguments): its daemon tests spend much of their minutes
# waiting on the daemon, and the extra worker runs other files meanwhile. BANK_TEST_WORKERS=0 runs
# everything in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --lakehouse
.venv/bin/ruff check bank_assets benchmarks devtools tests
workers="${BANK_TEST_WORKERS:-$(( $(nproc) + ($# == 0 ? 1 : 0) ))}"
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
