#!/usr/bin/env bash
# Quickstart, command 2: set up .venv, lint, and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --lakehouse
.venv/bin/ruff check bank_assets benchmarks devtools tests
.venv/bin/python -m pytest "$@"
