"""Run a command while sampling the resident memory of its whole process tree."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import psutil


@dataclass
class TreeRun:
    """A finished command: exit code, wall time, RSS samples (seconds since start, bytes) and
    its stdout lines with their arrival time."""

    returncode: int
    seconds: float
    samples: list[tuple[float, int]] = field(default_factory=list)
    lines: list[tuple[float, str]] = field(default_factory=list)

    @property
    def peak_rss(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    def peak_between(self, start: float, end: float) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def tree_rss(proc: psutil.Process) -> int:
    """Resident set size of a process and all its descendants (dbt subprocesses included)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def run_tree(
    cmd: list[str],
    env: Mapping[str, str] | None = None,
    interval_s: float = 0.2,
    on_line: Callable[[str], None] | None = None,
) -> TreeRun:
    """Run `cmd` (stderr merged into stdout), sampling the tree's RSS every `interval_s`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    ps = psutil.Process(proc.pid)
    run = TreeRun(returncode=-1, seconds=0.0)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                run.samples.append((time.perf_counter() - t0, tree_rss(ps)))
            except psutil.NoSuchProcess:
                return
            done.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        run.lines.append((time.perf_counter() - t0, line.rstrip("\n")))
        if on_line:
            on_line(line.rstrip("\n"))
    run.returncode = proc.wait()
    run.seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    return run
