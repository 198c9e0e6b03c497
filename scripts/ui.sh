#!/usr/bin/env bash
# Start the Dagster UI + daemon (schedules, sensors, backfills, declarative automation) on
# 127.0.0.1 only. Ctrl-C or SIGTERM stops every process it started (dagster dev runs in its own
# process group; the signal is forwarded as SIGINT, which it handles, then SIGKILL after 20 s).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/dagster ] || bash scripts/setup.sh
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/dagster_home}"
HOST="${DAGSTER_HOST:-127.0.0.1}"
PORT="${DAGSTER_PORT:-3000}"
set -m  # job control: dagster dev gets its own process group
.venv/bin/dagster dev -w workspace.yaml -h "$HOST" -p "$PORT" &
pid=$!
stop() {
  trap - INT TERM
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  exit 0
}
trap stop INT TERM
wait "$pid"
