#!/usr/bin/env bash
# The lakehouse profile end to end on this machine: PostgreSQL, an S3 server and Redis on
# 127.0.0.1 (throwaway folders), Celery workers, the Dagster daemon and webserver; backfills of
# landing..silver, then gold and the reports, over 6 months through the daemon with 1 worker, then
# with 2; per-month timings, the speed-up, and every gold table's checksum against the embedded
# default built from the same landing files. Stops everything it started (by pid); exits
# non-zero if anything differs.
# --ui keeps the last instance (UI on 127.0.0.1:3000, daemon, workers) up until Ctrl-C.
#   bash scripts/lakehouse.sh [--months 6] [--scale small|tiny|large] [--workers 1,2] [--keep] [--ui]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --lakehouse
exec .venv/bin/python -m devtools.lakehouse_demo "$@"
