"""A throwaway PostgreSQL server for the benchmark's pandas + to_sql baseline.

    with throwaway_postgres() as url:      # postgresql+psycopg2://postgres@127.0.0.1:<port>/postgres
        ...

Uses the Debian packages (``apt-get install postgresql``): ``initdb``/``pg_ctl`` from
``/usr/lib/postgresql/<version>/bin`` (newest version). A new cluster is initialised in a
temporary directory, listens on 127.0.0.1 only, on a free port, with trust authentication on
loopback, and its default settings otherwise (as a seed project's server would run). initdb
refuses to run as root, so when we are root the server commands run as the ``postgres`` OS user
(``runuser -u postgres --``) and the data and socket directories are handed to it. On exit the
server is stopped (``pg_ctl stop -m fast``, then killed by pid if still alive) and the directory
removed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"


def pg_bin() -> Path | None:
    """The newest installed server's bin directory (holding initdb and pg_ctl), or None."""
    found = [Path(p) for p in glob.glob(PG_BIN_GLOB) if (Path(p) / "initdb").exists() and (Path(p) / "pg_ctl").exists()]

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in p.parent.name.split(".") if x.isdigit())

    return max(found, key=version) if found else None


def unavailable_reason() -> str | None:
    """Why a throwaway server cannot be started here (None if it can)."""
    if pg_bin() is None:
        return f"PostgreSQL server not installed (no initdb/pg_ctl under {PG_BIN_GLOB}; apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root and there is no '{OS_USER}' OS user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed in this environment (pip install psycopg2-binary)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres(ready_timeout_s: float = 60.0) -> Iterator[str]:
    """Start a new PostgreSQL cluster on 127.0.0.1; yield its SQLAlchemy URL; stop and remove it."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    bin_dir = pg_bin()
    assert bin_dir is not None
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", OS_USER, "--"] if as_root else []
    user = OS_USER if as_root else pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="bank-bench-pg-"))
    data, sockets, logfile = root / "data", root / "run", root / "server.log"
    data.mkdir(mode=0o700)
    sockets.mkdir()
    if as_root:
        entry = pwd.getpwnam(OS_USER)
        for p in (root, data, sockets):
            os.chown(p, entry.pw_uid, entry.pw_gid)
        root.chmod(0o755)
    port = free_port()

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, check=check, cwd=root)

    pid: int | None = None
    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets}"
        started = run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-o", options, "-w", "start", check=False
        )
        if started.returncode:
            log = logfile.read_text(errors="replace") if logfile.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{log[-2000:]}")
        pid_file = data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().splitlines()[0])
        deadline = time.monotonic() + ready_timeout_s
        isready = [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "postgres"]
        while subprocess.run(isready, capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on port {port} not ready after {ready_timeout_s:.0f}s")
            time.sleep(0.2)
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                subprocess.run(
                    [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"],
                    capture_output=True,
                    timeout=60,
                    cwd=root,
                )
        if pid is not None and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def fresh_database(url: str, name: str) -> Iterator[str]:
    """A new, empty database on the server of `url` (dropped on exit); yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            con.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
