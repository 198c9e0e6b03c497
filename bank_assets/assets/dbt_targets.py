"""dbt's target folder after killed runs: invocation folders and parse caches of dead processes.

Each gold step runs dbt in its own ``dbt_models/target/<name>-<runid8>-<pid>`` folder and removes
it at the end; a killed run never reaches that ``finally``, so the next gold step removes what
dead processes left (:func:`clean_stale_dbt_targets`), and the partial-parse caches stay bounded.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

from bank_assets.recovery import Log, process_alive

#: dbt invocation folders: ``<name>-<first 8 hex digits of the run id>-<pid>``.
_INVOCATION_DIR = re.compile(r"^.+-[0-9a-f]{8}-(\d+)$")
#: partial-parse cache being replaced by a process (``partial_parse-<hash>.tmp-<pid>``).
_PARSE_TMP_FILE = re.compile(r"^partial_parse.*\.tmp-(\d+)$")


def clean_stale_dbt_targets(target_dir: Path, log: Log) -> int:
    """Remove dbt invocation folders ``<name>-<runid8>-<pid>`` (and ``partial_parse*.tmp-<pid>``
    files) left by processes that are gone; returns how many were removed. ``manifest.json``,
    ``partial_parse*.msgpack`` and everything else are kept. A folder whose pid is alive is kept
    unless that process started after the folder was last modified (the pid was reused)."""
    removed = 0
    if not target_dir.is_dir():
        return 0
    for path in sorted(target_dir.iterdir()):
        is_dir = path.is_dir() and not path.is_symlink()
        m = (_INVOCATION_DIR if is_dir else _PARSE_TMP_FILE).match(path.name)
        if m is None:
            continue
        pid = int(m.group(1))
        try:
            modified = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if process_alive(pid, started_by=modified):
            continue
        if is_dir:
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if not path.exists():
            log(f"removed {path.name} from {target_dir}: its process {pid} is gone")
            removed += 1
    return removed + prune_parse_caches(target_dir)


#: Partial-parse caches kept per project: one per warehouse path (the newest ones).
KEEP_PARSE_CACHES = 8


def prune_parse_caches(target_dir: Path, keep: int = KEEP_PARSE_CACHES) -> int:
    """Keep the `keep` most recently used ``partial_parse-<hash>.msgpack`` caches (one per
    warehouse path; tests and benchmarks make many), so dbt_models/target stays bounded."""
    used: list[tuple[float, Path]] = []
    for path in target_dir.glob("partial_parse-*.msgpack"):
        with contextlib.suppress(FileNotFoundError):  # another process pruned it meanwhile
            used.append((path.stat().st_mtime, path))
    stale = [path for _, path in sorted(used, reverse=True)[keep:]]
    for old in stale:
        old.unlink(missing_ok=True)
    return len(stale)
