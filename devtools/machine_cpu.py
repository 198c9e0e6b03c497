"""Run a command and print its wall time and the whole machine's busy CPU seconds meanwhile.

For tests and demos that start servers in other processes (the webserver, the daemon, code
servers, run workers), whose CPU a process's own rusage does not count. Read the CPU figure of
two commands run one after the other on an otherwise idle machine.

    python -m devtools.machine_cpu -- .venv/bin/python -m pytest tests/test_operate_like_a_user.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def busy_ticks() -> int:
    """Clock ticks the machine spent not idle since boot (/proc/stat, first line)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle


def main(argv: list[str]) -> int:
    cmd = argv[1:] if argv and argv[0] == "--" else argv
    if not cmd:
        print(__doc__, file=sys.stderr)
        return 2
    hz = os.sysconf("SC_CLK_TCK")
    b0, t0 = busy_ticks(), time.monotonic()
    rc = subprocess.call(cmd)
    wall, busy = time.monotonic() - t0, (busy_ticks() - b0) / hz
    cores = busy / wall if wall else 0.0
    print(f"machine_cpu: wall {wall:.1f} s, busy CPU {busy:.1f} s ({cores:.2f} cores), exit {rc}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
