"""Development tools that print figures: what they print must measure what they say."""

from __future__ import annotations

import sys

from devtools import machine_cpu


def test_machine_cpu_counts_a_child_process_busy_time_and_passes_on_its_exit(capsys):
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"
    rc = machine_cpu.main(["--", sys.executable, "-c", spin])
    assert rc == 0
    line = capsys.readouterr().err
    busy = float(line.split("busy CPU ")[1].split(" s")[0])
    assert busy >= 0.4, line  # the child's own 0.5 s of CPU, whatever else the machine does
    assert machine_cpu.main([sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert machine_cpu.main([]) == 2
