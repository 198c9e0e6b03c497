"""``dagster-daemon run`` whose backfill loop runs every few seconds instead of every 30 s.

The test suite and the demos drive the Dagster daemon the way a user does (a backfill launched as the
UI launches it, then automation). Dagster 1.13's backfill daemon sleeps a fixed 30 s between its
iterations (``dagster._daemon.backfill.execute_backfill_iteration_loop`` reads the module constant
``dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS``; the instance's ``backfills`` settings
only size its thread pools), so each backfill waited up to 30 s to start its runs and up to 30 s more
to be marked complete: most of a daemon test's minutes. This module sets that one constant before
starting Dagster's own daemon CLI; nothing else changes (the scheduler, sensors, run queue and
monitoring keep their intervals, and the instance is the one ``DAGSTER_HOME`` names).
``tests/test_library_seams.py`` pins the constant and the loop that reads it.

    python -m devtools.quick_daemon run -w workspace.yaml
"""

from __future__ import annotations

from dagster._daemon import controller
from dagster._daemon.cli import main as daemon_cli

#: seconds between two iterations of the backfill daemon (Dagster's is 30)
BACKFILL_INTERVAL_S = 3


def main() -> None:
    controller.DEFAULT_DAEMON_INTERVAL_SECONDS = BACKFILL_INTERVAL_S
    daemon_cli()


if __name__ == "__main__":
    main()
