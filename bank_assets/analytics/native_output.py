"""What C and C++ libraries print straight to the process's stdout and stderr file descriptors."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


def _flush_all() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    ctypes.CDLL(None).fflush(None)  # C stdio buffers (printf), which Python's flush does not reach


@contextmanager
def native_output_logged(what: str) -> Iterator[None]:
    """Run the block with file descriptors 1 and 2 pointing at a temporary file, then log what was
    written there at DEBUG level on this module's logger.

    HiGHS, inside ``scipy.optimize.milp``, prints a debug line of its own
    (``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``) from C++ with
    no option to silence it; it landed between the CLI's progress lines. ``redirect_stdout``
    cannot catch it: it never passes through ``sys.stdout``. Python's own output inside the block
    is captured and logged too. The block runs on the calling thread; the in-process executor
    runs one step at a time, so no other step's output is caught."""
    _flush_all()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            _flush_all()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            if text:
                log.debug("%s printed: %s", what, text)
