"""A throwaway PostgreSQL server for the benchmark's pandas + to_sql baseline.

    with throwaway_postgres() as url:      # postgresql+psycopg2://postgres@127.0.0.1:<port>/postgres
        ...

Uses the Debian packages (``apt-get install postgresql``) through the cluster logic shared with
the lakehouse stack (``devtools.stack.start_postgres``): ``initdb``/``pg_ctl`` from
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
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from devtools.stack import PG_BIN_GLOB, free_port, pg_bin, postgres_cluster, postgres_unavailable_reason
from devtools.stack import PG_OS_USER as OS_USER

__all__ = [
    "OS_USER",
    "PG_BIN_GLOB",
    "free_port",
    "fresh_database",
    "pg_bin",
    "throwaway_postgres",
    "unavailable_reason",
]


def unavailable_reason() -> str | None:
    """Why a throwaway server cannot be started here (None if it can)."""
    return postgres_unavailable_reason()


@contextlib.contextmanager
def throwaway_postgres(ready_timeout_s: float = 60.0) -> Iterator[str]:
    """Start a new PostgreSQL cluster on 127.0.0.1; yield its SQLAlchemy URL; stop and remove it."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    root = Path(tempfile.mkdtemp(prefix="bank-bench-pg-"))
    try:
        with postgres_cluster(root, ready_timeout_s=ready_timeout_s) as cluster:
            yield cluster.url("postgres")
    finally:
        shutil.rmtree(root, ignore_errors=True)


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
