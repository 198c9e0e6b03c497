"""Run dbt inside the Dagster process instead of a new interpreter per invocation.

dagster-dbt starts ``dbt build`` as a subprocess and reads its JSON log lines from stdout. Each
such process costs ~7 s before the first model runs on this machine class (importing dbt, loading
the project, reading and re-writing the manifest: see README, Performance), three times per gold
run. This module gives dagster-dbt an object with the ``subprocess.Popen`` surface it uses
(``stdout``, ``wait``, ``returncode``, ``args``, ``send_signal``) whose "process" is a thread
calling dbt's programmatic entry point, ``dbtRunner``, with:

* the project's parsed manifest, parsed once per process and warehouse and then reused, so an
  invocation does not parse at all (dbt's documented "reusing objects" pattern);
* a callback writing each dbt event as the same JSON line the dbt CLI prints with
  ``--log-format json``, so dagster-dbt turns them into materializations and check results
  exactly as it does for the subprocess.

Everything dagster-dbt passes through the environment (target path, project and profiles dirs,
log format, indirect selection, our window variables) is applied to ``os.environ`` for the
duration of the invocation. The in-process executor runs one step at a time, so one dbt
invocation runs at a time per process. Set ``BANK_DBT_SUBPROCESS=1`` to use dbt's CLI instead.

**This is the project's one patch of a library's internals.** dagster-dbt 0.29 has no public hook
for how a dbt invocation is started: ``DbtCliResource.cli`` prepares the arguments, environment,
selection and manifest (public behaviour we keep) and then calls the module global
``dagster_dbt.core.resource.DbtCliInvocation.run``, which starts ``subprocess.Popen``.
:class:`InProcessDbtCliResource` replaces that global for the duration of its own ``cli`` call and
overrides two private members (``_cli_version``, ``_initialize_dbt_core_adapter``; see the class).
``tests/test_library_seams.py`` pins every one of these seams (names, signatures, the call
inside ``cli``) and fails with a message naming this module when dagster-dbt changes underneath.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import IO, Any
from unittest import mock

from dagster_dbt import DbtCliInvocation, DbtCliResource
from dagster_dbt.core import resource as dagster_dbt_resource_module
from packaging import version

from bank_assets.dbt_parse_state import parse_warehouse

#: The dbt project's processing window (macros/window.sql). Models read it when they compile, at
#: run time; it must not reach the parse: dbt's partial parsing re-parses every file that reads an
#: env var whose value changed since the last parse (a new month: ~2.4 s instead of ~0.9 s).
WINDOW_ENV = ("BANK_DBT_MIN_DATE", "BANK_DBT_MAX_DATE")
#: dbt's global state (flags, adapters, event manager) is per process: one invocation at a time.
_DBT_LOCK = threading.Lock()
_MANIFESTS: dict[tuple[str, ...], Any] = {}
#: info-level dbt events not passed to dagster-dbt: a node's START line and blank separators
_NOT_FORWARDED = frozenset({"LogStartLine", "Formatting"})


@contextmanager
def environ(values: Mapping[str, str], unset: Sequence[str] = ()) -> Iterator[None]:
    """Set `values` (and remove `unset`) in os.environ for the duration, restoring it afterwards.
    Keys are set and removed one by one: os.environ is never emptied while other threads read it."""
    old = {k: os.environ.get(k) for k in {*values, *unset}}
    for k in unset:
        os.environ.pop(k, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def parse_env() -> dict[str, str]:
    """The environment of a parse: the warehouse as the stand-in path of its file name
    (:mod:`bank_assets.dbt_parse_state`), so that the parse and its state serve every warehouse
    file of that name."""
    warehouse, project_dir = os.environ.get("BANK_WAREHOUSE", ""), os.environ.get("DBT_PROJECT_DIR", "")
    return {"BANK_WAREHOUSE": parse_warehouse(warehouse, project_dir)} if warehouse and project_dir else {}


def manifest_key() -> tuple[str, ...]:
    """What a parse depends on: the project, the profiles and the profile's settings, the
    warehouse by its file name only (see :func:`parse_env`)."""
    env = {**os.environ, **parse_env()}
    keys = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "BANK_WAREHOUSE", "BANK_PROFILE", "BANK_LAKE_CATALOG")
    return tuple(env.get(k, "") for k in keys)


def parsed_manifest(runner_cls: Any) -> Any:
    """The project's manifest, parsed once per process and :func:`manifest_key`, without the
    window (the same manifest serves every window: models compile at run time)."""
    key = manifest_key()
    if key not in _MANIFESTS:
        with environ(parse_env(), unset=WINDOW_ENV):
            result = runner_cls().invoke(["parse", "--quiet", "--no-write-json"])  # the manifest stays in memory
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        _MANIFESTS[key] = result.result
    return _MANIFESTS[key]


class InProcessDbt:
    """A ``subprocess.Popen`` stand-in whose process is dbt running on a thread of this one."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str] | None = None, **_: Any) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        read_fd, write_fd = os.pipe()
        self.stdout: IO[bytes] = os.fdopen(read_fd, "rb")
        self._out = os.fdopen(write_fd, "wb")
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, args=(dict(env or os.environ),), name="dbt", daemon=True)
        self._thread.start()

    def _emit(self, line: str) -> None:
        """Write one line for dagster-dbt. dbt keeps a finished runner's callbacks in its global
        event manager, so events fired later in this process (a dbt logger used outside any
        invocation) can still arrive here after the pipe was closed: those are dropped."""
        with self._write_lock:
            if self._out.closed:
                return
            self._out.write(line.encode() + b"\n")
            self._out.flush()

    def _on_event(self, msg: Any) -> None:
        """Debug events never reach the CLI's info-level stdout; skip them here too, and the
        per-node "START" lines (each node's result line follows it): every event forwarded costs
        a JSON round trip and a flushed line in the step's compute log."""
        from dbt_common.events.functions import msg_to_json

        if msg.info.level != "debug" and msg.info.name not in _NOT_FORWARDED:
            self._emit(msg_to_json(msg))

    def _run(self, env: dict[str, str]) -> None:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.cli.main import dbtRunner

        code = 2
        try:
            with _DBT_LOCK, environ(env):
                runner = dbtRunner(manifest=parsed_manifest(dbtRunner), callbacks=[self._on_event])
                # dagster-dbt echoes every event itself: keep dbt's own console and file loggers quiet
                result = runner.invoke([*self.args[1:], "--log-level", "none", "--log-level-file", "none"])
                code = 0 if result.success else 1
                if result.exception is not None:
                    self._emit(f"dbt raised {type(result.exception).__name__}: {result.exception}")
                DuckDBConnectionManager.close_all_connections()
        except BaseException as e:
            self._emit(f"dbt raised {type(e).__name__}: {e}")
        finally:
            self.returncode = code
            self._out.close()

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.returncode

    def send_signal(self, sig: int) -> None:
        """dbt in a thread cannot be interrupted: the running nodes finish, then the step stops."""

    def terminate(self) -> None:
        self.send_signal(15)


def invocation_class(base: type) -> type:
    """A subclass of dagster-dbt's DbtCliInvocation whose ``run`` starts :class:`InProcessDbt`
    where the original starts ``subprocess.Popen`` (same arguments, same resulting object)."""

    class InProcessInvocation(base):  # type: ignore[misc, valid-type]
        @classmethod
        def run(cls, args: Sequence[str], env: dict[str, str], **kwargs: Any) -> Any:
            kwargs["project"] = kwargs.pop("dbt_project", None)
            return cls(process=InProcessDbt(args, env), **kwargs)

    return InProcessInvocation


IN_PROCESS_INVOCATION = invocation_class(DbtCliInvocation)


class InProcessDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, with dbt run in this process and two per-invocation costs removed.

    Profiled on a six-model step (README, Performance), dagster-dbt 0.29 spends, before dbt even
    starts, ~3.8 s running ``dbt --version`` in a subprocess (cached per resource object, which
    Dagster rebuilds for every run) and ~6.6 s building an in-process dbt adapter (project,
    profile and 500+ macros parsed). That adapter only serves ``fetch_row_counts()`` and
    ``fetch_column_metadata()``, which this project does not call. Here the version comes from
    the installed dbt-core (the executable is the same environment's dbt) and no adapter is built.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:  # type: ignore[override]
        """dbt in this process unless BANK_DBT_SUBPROCESS=1 (then exactly dagster-dbt's own cli)."""
        if os.environ.get("BANK_DBT_SUBPROCESS") == "1":
            return super().cli(args, **kwargs)
        with mock.patch.object(dagster_dbt_resource_module, "DbtCliInvocation", IN_PROCESS_INVOCATION):
            return super().cli(args, **kwargs)
