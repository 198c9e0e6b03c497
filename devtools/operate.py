"""Operate the platform the way a user does: a real `dagster-webserver` + `dagster-daemon` (with one
code server, as `dagster dev` runs them) on a temporary DAGSTER_HOME, driven through the same
GraphQL the UI sends.

    with DagsterServer(first_month="2024-01", last_month="2024-06") as srv:
        srv.launch_backfill(None, ["2024-01-01"])          # "Materialize all" for one month
        summary = srv.wait_idle(timeout_s=1800)            # backfill + automation settled
        assert not summary.failed_runs, summary.describe()
        srv.materialized_partitions()                      # {"silver/accounts": {"2024-01-01"}, ...}
        srv.check_records()                                # [CheckRecord(asset_key, check_name, partition, status)]

`DagsterHome` is the same temporary instance and environment without servers (for the CLI).

Reads that the UI has no cheap equivalent for (materialized partitions, asset-check execution
records, materialization counts) go to the DagsterInstance of the temporary DAGSTER_HOME
directly; everything a user clicks (launch, status, failures) goes through GraphQL. Every query
below is validated against the installed dagster_graphql schema by
tests/test_operate_like_a_user.py::test_graphql_queries_match_installed_schema.

Only the standard library (urllib) is used to talk to the server; dagster itself is imported
lazily, for the instance reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from dagster import DagsterInstance

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
CODE_MODULE = "bank_assets.definitions"
DAGSTER_YAML = PROJECT_ROOT / "dagster_home" / "dagster.yaml"

#: A run in one of these is not finished (SUSPENDED: waiting on external work).
ACTIVE_RUN_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING", "SUSPENDED")
#: A backfill in one of these is still being worked on by the daemon.
ACTIVE_BACKFILL_STATUSES = ("REQUESTED", "CANCELING", "FAILING")

AssetPath = list[str]


class OperateError(RuntimeError):
    """Something a user would see as an error: a GraphQL error, a failed launch, a dead server."""


class CodeLocationLoadError(OperateError):
    """The code location answered with a load error (no point waiting longer)."""


# --------------------------------------------------------------------------------------------
# GraphQL documents (all validated against the installed schema by the test module)
# --------------------------------------------------------------------------------------------

Q_WORKSPACE = """
query OperateWorkspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message stack }
  }
}
"""

Q_DAEMON_HEALTH = """
query OperateDaemonHealth {
  instance {
    daemonHealth {
      allDaemonStatuses { daemonType required healthy lastHeartbeatTime }
    }
  }
}
"""

Q_ASSET_NODES = """
query OperateAssetNodes {
  assetNodes {
    assetKey { path }
    groupName
    isPartitioned
    isMaterializable
    isAutoCreatedStub
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name } }
    }
  }
}
"""

Q_PARTITION_STATUSES = """
query OperatePartitionStatuses {
  assetNodes {
    assetKey { path }
    isMaterializable
    isPartitioned
    partitionKeys
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { startKey endKey status } }
      ... on DefaultPartitionStatuses {
        materializedPartitions
        failedPartitions
        materializingPartitions
      }
    }
  }
}
"""

# The mutation the UI's "Materialize" dialog sends for partitioned assets (an asset backfill:
# assetSelection + partitionNames, no partition-set selector).
M_LAUNCH_BACKFILL = """
mutation OperateLaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId launchedRunIds }
    ... on PythonError { message stack }
    ... on Error { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConfigValidationInvalid { pipelineName errors { message } }
  }
}
"""

Q_ACTIVE = """
query OperateActive($runStatuses: [RunStatus!]) {
  runsOrError(filter: {statuses: $runStatuses}) {
    __typename
    ... on Runs { results { runId jobName status } }
    ... on Error { message }
  }
  partitionBackfillsOrError(limit: 200) {
    __typename
    ... on PartitionBackfills { results { id status } }
    ... on PythonError { message }
  }
}
"""

Q_RUNS = """
query OperateRuns($limit: Int) {
  runsOrError(limit: $limit) {
    __typename
    ... on Runs {
      results {
        runId
        jobName
        status
        creationTime
        startTime
        endTime
        tags { key value }
      }
    }
    ... on Error { message }
  }
}
"""

Q_BACKFILLS = """
query OperateBackfills {
  partitionBackfillsOrError(limit: 200) {
    __typename
    ... on PartitionBackfills {
      results {
        id
        status
        title
        numPartitions
        partitionNames
        assetSelection { path }
        error { message }
      }
    }
    ... on PythonError { message }
  }
}
"""

Q_RUN_FAILURE_EVENTS = """
query OperateRunFailureEvents($runId: ID!, $afterCursor: String) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: 1000) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey message error { message cause { message } } }
        ... on RunFailureEvent { message error { message cause { message } } }
        ... on EngineEvent { stepKey message error { message cause { message } } }
      }
    }
    ... on Error { message }
  }
}
"""

Q_SENSOR_TICKS = """
query OperateSensorTicks($selector: SensorSelector!, $limit: Int) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor {
      name
      sensorState {
        status
        ticks(limit: $limit) { tickId status timestamp endTimestamp error { message } }
      }
    }
    ... on Error { message }
  }
}
"""

#: name -> document, for schema validation.
QUERIES: dict[str, str] = {
    "workspace": Q_WORKSPACE,
    "daemon_health": Q_DAEMON_HEALTH,
    "asset_nodes": Q_ASSET_NODES,
    "partition_statuses": Q_PARTITION_STATUSES,
    "launch_backfill": M_LAUNCH_BACKFILL,
    "active": Q_ACTIVE,
    "runs": Q_RUNS,
    "backfills": Q_BACKFILLS,
    "run_failure_events": Q_RUN_FAILURE_EVENTS,
    "sensor_ticks": Q_SENSOR_TICKS,
}


# --------------------------------------------------------------------------------------------
# Small helpers and result types
# --------------------------------------------------------------------------------------------


def key_str(path: Sequence[str]) -> str:
    """["silver", "accounts"] -> "silver/accounts" (AssetKey.to_user_string())."""
    return "/".join(path)


def key_path(key: str | Sequence[str]) -> AssetPath:
    return key.split("/") if isinstance(key, str) else list(key)


def monthly_keys(first: str, last: str) -> list[str]:
    """Partition keys of a MonthlyPartitionsDefinition, both ends inclusive: ("2024-01", "2024-03")
    -> ["2024-01-01", "2024-02-01", "2024-03-01"]."""
    y, m = (int(x) for x in first[:7].split("-"))
    ly, lm = (int(x) for x in last[:7].split("-"))
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}-01")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def backfill_params(
    asset_keys: Sequence[Sequence[str]],
    partition_names: Sequence[str],
    title: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """LaunchBackfillParams as the UI's Materialize dialog fills them for partitioned assets."""
    return {
        "assetSelection": [{"path": list(k)} for k in asset_keys],
        "partitionNames": list(partition_names),
        "fromFailure": False,
        "title": title or f"operate: {len(asset_keys)} assets x {len(partition_names)} partitions",
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (never 3000, the default the user may have running)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 3000:
            return port


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"({path} does not exist)"
    return f"--- last {min(lines, len(text))} lines of {path} ---\n" + "\n".join(text[-lines:])


class CheckRecord(NamedTuple):
    asset_key: str  # "silver/accounts"
    check_name: str
    partition: str | None
    #: AssetCheckExecutionResolvedStatus as the UI shows it:
    #: SUCCEEDED, FAILED, EXECUTION_FAILED, SKIPPED, IN_PROGRESS
    status: str


@dataclass(frozen=True)
class AssetNodeInfo:
    path: AssetPath
    group: str
    partitioned: bool
    materializable: bool
    checks: tuple[str, ...]

    @property
    def key(self) -> str:
        return key_str(self.path)


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    job_name: str
    status: str
    tags: dict[str, str]
    creation_time: float
    start_time: float | None
    end_time: float | None

    @property
    def partition(self) -> str | None:
        """The run's partition or partition range ("2024-01-01...2024-03-01")."""
        if "dagster/partition" in self.tags:
            return self.tags["dagster/partition"]
        start = self.tags.get("dagster/asset_partition_range_start")
        end = self.tags.get("dagster/asset_partition_range_end")
        return f"{start}...{end}" if start and end else None

    @property
    def backfill_id(self) -> str | None:
        return self.tags.get("dagster/backfill")

    @property
    def from_automation(self) -> bool:
        """Requested by declarative automation (an AutomationConditionSensorDefinition tick)."""
        return self.tags.get("dagster/from_automation_condition") == "true"


@dataclass(frozen=True)
class FailedRun:
    run: RunInfo
    messages: list[str]

    def describe(self) -> str:
        head = f"run {self.run.run_id} job={self.run.job_name} partition={self.run.partition} "
        head += f"backfill={self.run.backfill_id} status={self.run.status}"
        body = "\n".join(textwrap.indent(m, "    ") for m in self.messages) or "    (no failure event found)"
        return f"{head}\n{body}"


@dataclass(frozen=True)
class BackfillInfo:
    id: str
    status: str
    title: str | None
    num_partitions: int | None
    partition_names: list[str] | None
    asset_selection: list[str] | None
    error: str | None


@dataclass
class IdleSummary:
    runs_by_status: dict[str, int]
    failed_runs: list[FailedRun]
    backfills: list[BackfillInfo]
    runs: list[RunInfo]
    #: ticks of the automation sensor by status (SUCCESS = requested runs, SKIPPED = nothing to do)
    sensor_ticks: dict[str, int] = field(default_factory=dict)
    sensor_errors: list[str] = field(default_factory=list)
    waited_s: float = 0.0

    def describe(self) -> str:
        lines = [
            f"idle after {self.waited_s:.0f}s; runs by status: {dict(sorted(self.runs_by_status.items()))}",
            f"backfills: {[(b.id, b.status, b.title) for b in self.backfills]}",
            f"automation sensor ticks: {self.sensor_ticks}",
        ]
        lines += [f"backfill {b.id} error: {b.error}" for b in self.backfills if b.error]
        lines += [f"sensor tick error: {e}" for e in self.sensor_errors]
        lines += [f.describe() for f in self.failed_runs]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The temporary instance (no servers): environment, CLI, instance reads
# --------------------------------------------------------------------------------------------


class DagsterHome:
    """A temporary DAGSTER_HOME with the project's dagster.yaml, a temporary warehouse and landing
    zone, and the environment every process of the platform gets (tiny synthetic data).

    The folder is deleted on a clean exit and kept (path printed) when the block raised, for its
    logs; `keep=True` always keeps it.
    """

    def __init__(
        self,
        first_month: str = "2024-01",
        last_month: str = "2024-06",
        scale: str = "tiny",
        extra_env: Mapping[str, str] | None = None,
        keep: bool = False,
        dagster_yaml: Path = DAGSTER_YAML,
    ) -> None:
        self.dagster_yaml = dagster_yaml
        self.first_month = first_month
        self.last_month = last_month
        self.scale = scale
        self.extra_env = dict(extra_env or {})
        self.keep = keep
        self.tmp: Path = Path()
        self.home: Path = Path()
        self.env: dict[str, str] = {}
        self._instance: DagsterInstance | None = None
        self._definitions: dict[str, Any] | None = None
        self._cli_count = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> DagsterHome:
        self.tmp = Path(tempfile.mkdtemp(prefix="bank-operate-"))
        self.home = self.tmp / "dagster_home"
        self.home.mkdir()
        shutil.copy(self.dagster_yaml, self.home / "dagster.yaml")
        (self.tmp / "warehouse").mkdir()
        (self.tmp / "landing").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "BANK_"))}
        env.update(
            DAGSTER_HOME=str(self.home),
            BANK_WAREHOUSE=str(self.tmp / "warehouse" / "bank.duckdb"),
            BANK_LANDING_DIR=str(self.tmp / "landing"),
            BANK_LANDING_MODE="generate",
            BANK_SCALE=self.scale,
            BANK_FIRST_MONTH=self.first_month,
            BANK_LAST_MONTH=self.last_month,
            # wait_idle's "settled" needs a sensor tick after the last run; each tick of the
            # gold_automation sensor costs the daemon ~1.5 s of a core (Dagster's evaluation)
            BANK_AUTOMATION_INTERVAL_S="10",
            PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""),
            VIRTUAL_ENV=str(VENV_BIN.parent),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        self.env = env
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(failed=exc_type is not None)

    def close(self, failed: bool = False) -> None:
        if self._instance is not None:
            with contextlib.suppress(Exception):
                self._instance.dispose()
            self._instance = None
        if not self.tmp.parts:
            return
        if failed or self.keep:
            print(f"[operate] kept {self.tmp} (logs, DAGSTER_HOME, warehouse)", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- processes ---------------------------------------------------------------------------

    def run_cli(self, args: Sequence[str], timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """`.venv/bin/dagster <args>` from the project root with this environment; output is also
        written to cli-<n>.log in the temp folder. On timeout the whole process group is killed
        and subprocess.TimeoutExpired is raised."""
        return self._run([str(VENV_BIN / "dagster"), *args], timeout)

    def run_python(self, code: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """The project's interpreter on `code`, with this environment (so BANK_* apply at import)."""
        return self._run([str(VENV_BIN / "python"), "-c", code], timeout)

    def _run(self, cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        self._cli_count += 1
        log = self.tmp / f"cli-{self._cli_count}.log"
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            stop_process_group(proc, grace_s=10)
            out, err = proc.communicate()
            log.write_text(f"$ {' '.join(cmd)}\n--- stdout ---\n{out}\n--- stderr ---\n{err}")
            raise
        log.write_text(f"$ {' '.join(cmd)}\n(exit {proc.returncode})\n--- stdout ---\n{out}\n--- stderr ---\n{err}")
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

    # -- the asset graph ---------------------------------------------------------------------

    def definitions(self) -> dict[str, Any]:
        """The asset graph as the code location sees it with this environment, loaded in a
        subprocess (the test process never imports bank_assets): {"assets": [{path, group,
        partitioned, materializable}], "checks": [{asset, name}]}."""
        if self._definitions is None:
            code = textwrap.dedent(
                f"""
                import json
                from {CODE_MODULE} import defs
                g = defs.resolve_asset_graph()
                assets = []
                for k in sorted(g.get_all_asset_keys()):
                    n = g.get(k)
                    assets.append(dict(path=list(k.path), group=n.group_name,
                                       partitioned=n.partitions_def is not None,
                                       materializable=n.is_materializable))
                checks = [dict(asset=list(c.asset_key.path), name=c.name) for c in sorted(g.asset_check_keys)]
                print("@@DEFS@@" + json.dumps(dict(assets=assets, checks=checks)))
                """
            )
            cp = self.run_python(code)
            line = next((x for x in cp.stdout.splitlines() if x.startswith("@@DEFS@@")), None)
            if cp.returncode != 0 or line is None:
                raise OperateError(f"loading {CODE_MODULE} failed (exit {cp.returncode}):\n{cp.stderr[-4000:]}")
            self._definitions = json.loads(line[len("@@DEFS@@") :])
        return self._definitions

    def all_asset_keys(self) -> list[AssetPath]:
        """Materializable asset keys ("Materialize all")."""
        return [a["path"] for a in self.definitions()["assets"] if a["materializable"]]

    def check_keys(self) -> list[tuple[AssetPath, str]]:
        return [(c["asset"], c["name"]) for c in self.definitions()["checks"]]

    # -- instance reads ----------------------------------------------------------------------

    def instance(self) -> DagsterInstance:
        """The DagsterInstance of the temporary DAGSTER_HOME (read side; SQLite storages)."""
        if self._instance is None:
            from dagster import DagsterInstance

            self._instance = DagsterInstance.from_config(str(self.home))
        return self._instance

    def init_storage(self) -> None:
        """Create the instance's SQLite schemas (runs, event log index, schedules/ticks)."""
        inst = self.instance()
        inst.get_runs(limit=1)
        inst.event_log_storage.get_asset_keys()
        inst.all_instigator_state()

    def materialized_partitions(self, asset_keys: Iterable[str | Sequence[str]] | None = None) -> dict[str, set[str]]:
        """{asset key string: partition keys with at least one materialization event}, for every
        defined materializable asset plus any other key the event log knows. Materializations
        without a partition are not counted (see materialization_count(key, None))."""
        inst = self.instance()
        from dagster import AssetKey

        keys = {key_str(key_path(k)) for k in (asset_keys if asset_keys is not None else self.all_asset_keys())}
        if asset_keys is None:
            keys |= {k.to_user_string() for k in inst.get_asset_keys()}
        return {k: set(inst.get_materialized_partitions(AssetKey(key_path(k)))) for k in sorted(keys)}

    def materialization_count(self, asset_key: str | Sequence[str], partition: str | None) -> int:
        """Number of materialization events of one partition (partition=None: all events)."""
        return len(self.materialization_run_ids(asset_key, partition))

    def materialization_run_ids(self, asset_key: str | Sequence[str], partition: str | None) -> list[str]:
        """Run id of every materialization event of one partition, newest first."""
        from dagster import AssetKey, AssetRecordsFilter

        flt = AssetRecordsFilter(
            asset_key=AssetKey(key_path(asset_key)), asset_partitions=[partition] if partition else None
        )
        out: list[str] = []
        cursor = None
        while True:
            res = self.instance().fetch_materializations(flt, limit=1000, cursor=cursor)
            out += [r.event_log_entry.run_id for r in res.records]
            if not res.has_more:
                return out
            cursor = res.cursor

    def check_records(self, check_keys: Iterable[tuple[Sequence[str], str]] | None = None) -> list[CheckRecord]:
        """Every execution record of every asset check (newest first per check), with the status
        resolved as the UI resolves it (a PLANNED row of a finished run is SKIPPED, or
        EXECUTION_FAILED when the run failed)."""
        from dagster import AssetCheckKey, AssetKey, DagsterRunStatus
        from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

        inst = self.instance()
        run_status: dict[str, DagsterRunStatus | None] = {}

        def resolve(rec_status: AssetCheckExecutionRecordStatus, run_id: str) -> str:
            if rec_status != AssetCheckExecutionRecordStatus.PLANNED:
                return rec_status.value  # SUCCEEDED / FAILED
            if run_id not in run_status:
                run = inst.get_run_by_id(run_id)
                run_status[run_id] = run.status if run else None
            status = run_status[run_id]
            if status is None:
                return "SKIPPED"  # run deleted
            if status == DagsterRunStatus.FAILURE:
                return "EXECUTION_FAILED"
            if status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.CANCELED):
                return "SKIPPED"
            return "IN_PROGRESS"

        out: list[CheckRecord] = []
        keys = check_keys if check_keys is not None else self.check_keys()
        for asset, name in keys:
            ck = AssetCheckKey(AssetKey(list(asset)), name)
            history = inst.event_log_storage.get_asset_check_execution_history(ck, limit=100_000)
            out += [CheckRecord(key_str(asset), name, r.partition, resolve(r.status, r.run_id)) for r in history]
        return out


# --------------------------------------------------------------------------------------------
# Webserver + daemon
# --------------------------------------------------------------------------------------------


def stop_process_group(proc: subprocess.Popen, grace_s: float = 20.0) -> None:
    """SIGTERM the process group led by `proc` (started with start_new_session=True), SIGKILL
    whatever is left after `grace_s`, and also any descendant that left the group."""
    pgid = proc.pid
    descendants: list[Any] = []
    with contextlib.suppress(Exception):
        import psutil

        descendants = psutil.Process(proc.pid).children(recursive=True)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.2)
        try:
            os.killpg(pgid, 0)  # any member left?
        except ProcessLookupError:
            break
        except PermissionError:
            break
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    for p in descendants:  # children that called setsid themselves
        with contextlib.suppress(Exception):
            if p.is_running():
                p.kill()


class DagsterServer(DagsterHome):
    """`dagster-webserver` and `dagster-daemon run` sharing one gRPC code server of
    bank_assets.definitions, as `dagster dev` runs them (cwd = project root), each in its own
    process group with output in <tmp>/<name>.log. Ready when GraphQL answers, the code location
    is loaded and the required daemons heartbeat.

    One code server instead of the one each process would start from workspace.yaml: the daemon
    replaces its own every 60 s (Dagster's ``RELOAD_WORKSPACE_INTERVAL``), and each replacement
    imports the project again (~8 s of a core); from a server it does not own, it only reads the
    definitions' snapshot again."""

    def __init__(
        self,
        first_month: str = "2024-01",
        last_month: str = "2024-06",
        scale: str = "tiny",
        extra_env: Mapping[str, str] | None = None,
        keep: bool = False,
        load_timeout_s: float = 180.0,
        automation_sensor: str = "gold_automation",
        dagster_yaml: Path = DAGSTER_YAML,
        port: int = 0,
    ) -> None:
        super().__init__(first_month, last_month, scale, extra_env, keep, dagster_yaml)
        self.load_timeout_s = load_timeout_s
        self.automation_sensor = automation_sensor
        self.port = port
        self.url = ""
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.location_name = ""
        self.repository_name = ""
        self.started_at = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> DagsterServer:
        super().__enter__()
        try:
            # Create the SQLite storages once, before two processes race to create the same tables.
            self.init_storage()
            self.port = self.port or free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            workspace = str(self._start_code_server())
            self._start(
                "webserver",
                [str(VENV_BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(self.port)],
            )
            # Dagster's daemon with its backfill loop every few seconds, not 30 (devtools/quick_daemon.py)
            self._start("daemon", [str(VENV_BIN / "python"), "-m", "devtools.quick_daemon", "run", "-w", workspace])
            self._wait_ready()
        except BaseException:
            self.close(failed=True)
            raise
        return self

    def _start_code_server(self) -> Path:
        """Start the gRPC code server (`dagster api grpc`, the server `dagster dev` starts for a
        location) and return a workspace file pointing at it, once it accepts connections (it
        binds its port after loading the definitions; a load error is served to the webserver)."""
        port = free_port()
        cmd = [str(VENV_BIN / "python"), "-m", "dagster", "api", "grpc", "-m", CODE_MODULE, "-d", str(PROJECT_ROOT)]
        cmd += ["-h", "127.0.0.1", "-p", str(port), "--location-name", CODE_MODULE]
        cmd += ["--use-python-environment-entry-point", "--log-level", "warning"]
        self._start("code_server", cmd)
        deadline = time.monotonic() + self.load_timeout_s
        while True:
            self._assert_alive()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise OperateError(f"code server not listening after {self.load_timeout_s:.0f}s\n{self.log_tails()}")
            time.sleep(0.5)
        workspace = self.tmp / "workspace.yaml"
        spec = {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": CODE_MODULE}}
        workspace.write_text(json.dumps({"load_from": [spec]}))  # JSON is YAML
        return workspace

    def close(self, failed: bool = False) -> None:
        for name in ("daemon", "webserver", "code_server"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                stop_process_group(proc)
        super().close(failed)

    def _start(self, name: str, cmd: list[str]) -> None:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        with log.open("w") as fh:
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tails(self, lines: int = 60) -> str:
        return "\n".join(tail(p, lines) for p in self.logs.values())

    def _assert_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise OperateError(f"{name} exited with {proc.returncode}\n{self.log_tails()}")

    def _wait_ready(self) -> None:
        start = time.monotonic()
        deadline = start + self.load_timeout_s
        stage = "GraphQL /server_info"
        while True:
            self._assert_alive()
            if time.monotonic() > deadline:
                raise OperateError(
                    f"not ready after {self.load_timeout_s:.0f}s (waiting for {stage})\n{self.log_tails()}"
                )
            try:
                if stage == "GraphQL /server_info":
                    with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as r:
                        json.loads(r.read())
                    stage = "code location"
                if stage == "code location" and self._location_loaded():
                    stage = "daemon heartbeats"
                if stage == "daemon heartbeats" and self._daemons_healthy():
                    break
            except CodeLocationLoadError:
                raise
            except (urllib.error.URLError, ConnectionError, TimeoutError, OperateError):
                pass  # not up yet
            time.sleep(1)
        self.started_at = time.time()
        print(
            f"[operate] webserver {self.url} and daemon ready in {time.monotonic() - start:.0f}s "
            f"(location {self.location_name}, DAGSTER_HOME {self.home})",
            file=sys.stderr,
        )

    def _location_loaded(self) -> bool:
        ws = self.graphql(Q_WORKSPACE)["workspaceOrError"]
        if ws["__typename"] != "Workspace":
            raise OperateError(f"workspaceOrError: {ws.get('message')}")
        entries = ws["locationEntries"]
        if not entries or any(e["loadStatus"] != "LOADED" for e in entries):
            return False
        for e in entries:
            loc = e["locationOrLoadError"]
            if loc is None:
                return False
            if loc["__typename"] == "PythonError":
                raise CodeLocationLoadError(
                    f"code location {e['name']} failed to load: {loc['message']}\n"
                    + "".join(loc["stack"][-15:])
                    + "\n"
                    + self.log_tails(30)
                )
        loc = entries[0]["locationOrLoadError"]
        self.location_name = loc["name"]
        self.repository_name = loc["repositories"][0]["name"]
        return True

    def _daemons_healthy(self) -> bool:
        statuses = self.graphql(Q_DAEMON_HEALTH)["instance"]["daemonHealth"]["allDaemonStatuses"]
        required = [s for s in statuses if s["required"]]
        return bool(required) and all(s["healthy"] for s in required)

    # -- GraphQL -----------------------------------------------------------------------------

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
        """POST a GraphQL document to /graphql; return `data`, raise OperateError on errors."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        req = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                payload = json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise OperateError(f"GraphQL HTTP {e.code}: {e.read().decode(errors='replace')[:4000]}") from e
        if payload.get("errors"):
            raise OperateError(f"GraphQL errors: {json.dumps(payload['errors'], indent=1)[:4000]}")
        return payload["data"]

    # -- the asset graph as the UI sees it ---------------------------------------------------

    def asset_nodes(self) -> list[AssetNodeInfo]:
        nodes = []
        for n in self.graphql(Q_ASSET_NODES)["assetNodes"]:
            checks = n["assetChecksOrError"]
            nodes.append(
                AssetNodeInfo(
                    path=n["assetKey"]["path"],
                    group=n["groupName"],
                    partitioned=n["isPartitioned"],
                    materializable=n["isMaterializable"] and not n["isAutoCreatedStub"],
                    checks=tuple(c["name"] for c in checks.get("checks", [])),
                )
            )
        return nodes

    def all_asset_keys(self) -> list[AssetPath]:
        """Every materializable asset: what "Materialize all" selects in the UI."""
        return [n.path for n in self.asset_nodes() if n.materializable]

    def asset_keys_in_groups(self, groups: Iterable[str]) -> list[AssetPath]:
        wanted = set(groups)
        return [n.path for n in self.asset_nodes() if n.materializable and n.group in wanted]

    def check_keys(self) -> list[tuple[AssetPath, str]]:
        return [(n.path, c) for n in self.asset_nodes() for c in n.checks]

    def partition_statuses(self) -> dict[str, dict[str, set[str]]]:
        """What the UI's partition bars show: {asset key: {"MATERIALIZED"|"FAILED"|"MATERIALIZING":
        partition keys}} for materializable partitioned assets."""
        out: dict[str, dict[str, set[str]]] = {}
        for n in self.graphql(Q_PARTITION_STATUSES)["assetNodes"]:
            if not (n["isMaterializable"] and n["isPartitioned"]):
                continue
            keys: list[str] = n["partitionKeys"]
            st = n["assetPartitionStatuses"]
            res: dict[str, set[str]] = {"MATERIALIZED": set(), "FAILED": set(), "MATERIALIZING": set()}
            if st["__typename"] == "TimePartitionStatuses":
                for r in st["ranges"]:
                    i, j = keys.index(r["startKey"]), keys.index(r["endKey"])
                    res[r["status"]] |= set(keys[i : j + 1])
            elif st["__typename"] == "DefaultPartitionStatuses":
                res["MATERIALIZED"] = set(st["materializedPartitions"])
                res["FAILED"] = set(st["failedPartitions"])
                res["MATERIALIZING"] = set(st["materializingPartitions"])
            else:
                raise OperateError(f"unsupported partition statuses {st['__typename']} for {n['assetKey']['path']}")
            out[key_str(n["assetKey"]["path"])] = res
        return out

    # -- actions -----------------------------------------------------------------------------

    def launch_backfill(
        self,
        asset_keys: Sequence[Sequence[str]] | None,
        partition_names: Sequence[str],
        title: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Launch an asset backfill as the UI's Materialize dialog does (asset_keys=None:
        "Materialize all"). Returns the backfill id; raises OperateError on any error result."""
        keys = self.all_asset_keys() if asset_keys is None else [list(k) for k in asset_keys]
        params = backfill_params(keys, partition_names, title, tags)
        res = self.graphql(M_LAUNCH_BACKFILL, {"backfillParams": params})["launchPartitionBackfill"]
        if res["__typename"] == "LaunchBackfillSuccess":
            return res["backfillId"]
        detail = res.get("message") or ""
        if res["__typename"] == "PythonError":
            detail += "\n" + "".join(res.get("stack") or [])
        if res["__typename"] == "RunConfigValidationInvalid":
            detail = "; ".join(e["message"] for e in res["errors"])
        if res["__typename"] == "InvalidStepError":
            detail = f"invalid step {res['invalidStepKey']}"
        if res["__typename"] == "InvalidOutputError":
            detail = f"invalid output {res['stepKey']}.{res['invalidOutputName']}"
        raise OperateError(f"launchPartitionBackfill returned {res['__typename']}: {detail}")

    # -- observation -------------------------------------------------------------------------

    def runs(self, limit: int = 10_000) -> list[RunInfo]:
        res = self.graphql(Q_RUNS, {"limit": limit})["runsOrError"]
        if res["__typename"] != "Runs":
            raise OperateError(f"runsOrError: {res}")
        return [
            RunInfo(
                run_id=r["runId"],
                job_name=r["jobName"],
                status=r["status"],
                tags={t["key"]: t["value"] for t in r["tags"]},
                creation_time=r["creationTime"],
                start_time=r["startTime"],
                end_time=r["endTime"],
            )
            for r in res["results"]
        ]

    def backfills(self) -> list[BackfillInfo]:
        res = self.graphql(Q_BACKFILLS)["partitionBackfillsOrError"]
        if res["__typename"] != "PartitionBackfills":
            raise OperateError(f"partitionBackfillsOrError: {res}")
        return [
            BackfillInfo(
                id=b["id"],
                status=b["status"],
                title=b["title"],
                num_partitions=b["numPartitions"],
                partition_names=b["partitionNames"],
                asset_selection=[key_str(k["path"]) for k in b["assetSelection"] or []] or None,
                error=(b["error"] or {}).get("message"),
            )
            for b in res["results"]
        ]

    def run_failure_messages(self, run_id: str) -> list[str]:
        """Messages of the run's STEP_FAILURE / RUN_FAILURE events (and engine events with an error)."""
        out: list[str] = []
        cursor = None
        while True:
            res = self.graphql(Q_RUN_FAILURE_EVENTS, {"runId": run_id, "afterCursor": cursor})["logsForRun"]
            if res["__typename"] != "EventConnection":
                return [f"logsForRun: {res.get('message')}"]
            for e in res["events"]:
                kind = e["__typename"]
                error = e.get("error") or {}
                err = error.get("message")
                cause = (error.get("cause") or {}).get("message")
                if cause:  # the exception the step raised, under Dagster's wrapper (e.g. loading an input)
                    err = f"{err}\ncaused by: {cause}"
                if kind in ("ExecutionStepFailureEvent", "RunFailureEvent") or (kind == "EngineEvent" and err):
                    step = f"[{e['stepKey']}] " if e.get("stepKey") else ""
                    out.append(f"{kind} {step}{e['message']}" + (f"\n{err.strip()}" if err else ""))
            if not res["hasMore"]:
                return out
            cursor = res["cursor"]

    def sensor_ticks(self, sensor_name: str | None = None, limit: int = 200) -> tuple[str | None, list[dict]]:
        """(sensor status or None when there is no such sensor, its latest ticks)."""
        selector = {
            "repositoryLocationName": self.location_name,
            "repositoryName": self.repository_name,
            "sensorName": sensor_name or self.automation_sensor,
        }
        res = self.graphql(Q_SENSOR_TICKS, {"selector": selector, "limit": limit})["sensorOrError"]
        if res["__typename"] != "Sensor":
            return None, []
        return res["sensorState"]["status"], res["sensorState"]["ticks"]

    def _activity(self) -> tuple[list[dict], list[dict]]:
        data = self.graphql(Q_ACTIVE, {"runStatuses": list(ACTIVE_RUN_STATUSES)})
        runs = data["runsOrError"]
        bfs = data["partitionBackfillsOrError"]
        if runs["__typename"] != "Runs" or bfs["__typename"] != "PartitionBackfills":
            raise OperateError(f"activity query: {runs} {bfs}")
        return runs["results"], [b for b in bfs["results"] if b["status"] in ACTIVE_BACKFILL_STATUSES]

    def wait_idle(
        self,
        timeout_s: float = 1800,
        quiet_s: float = 10,
        min_sensor_ticks: int = 1,
        poll_s: float = 3,
    ) -> IdleSummary:
        """Wait until nothing is running or queued and no backfill is in progress, and it stays so
        for `quiet_s` seconds during which the automation sensor completed at least
        `min_sensor_ticks` ticks that started after the last run ended (a tick that requests work
        has created its runs before it completes, so nothing active after it means settled; else
        the quiet period restarts). If the sensor does not exist or is stopped, only the quiet
        period counts. Raises OperateError on timeout."""
        start = time.monotonic()
        deadline = start + timeout_s
        quiet_since: float | None = None  # wall clock, comparable with tick timestamps
        last_report = 0.0
        while True:
            self._assert_alive()
            runs, backfills = self._activity()
            now = time.time()
            if runs or backfills:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            if quiet_since is not None and now - quiet_since >= quiet_s:
                status, ticks = self.sensor_ticks()
                done = [t for t in ticks if t["status"] != "STARTED" and t["timestamp"] >= quiet_since]
                if status != "RUNNING" or len(done) >= min_sensor_ticks:
                    if not any(self._activity()):  # the ticks counted requested nothing
                        break
                    quiet_since = None
            if time.monotonic() > deadline:
                active = [(r["runId"], r["jobName"], r["status"]) for r in runs]
                raise OperateError(
                    f"not idle after {timeout_s:.0f}s: active runs {active}, active backfills {backfills}\n"
                    + self.log_tails(40)
                )
            if time.monotonic() - last_report > 60:
                last_report = time.monotonic()
                print(
                    f"[operate] {time.monotonic() - start:.0f}s: {len(runs)} active runs, "
                    f"{len(backfills)} active backfills"
                    + (f", quiet since {now - quiet_since:.0f}s" if quiet_since else ""),
                    file=sys.stderr,
                )
            time.sleep(poll_s)
        return self.summary(waited_s=time.monotonic() - start)

    def summary(self, waited_s: float = 0.0) -> IdleSummary:
        runs = self.runs()
        failed = [FailedRun(r, self.run_failure_messages(r.run_id)) for r in runs if r.status == "FAILURE"]
        _, ticks = self.sensor_ticks()
        return IdleSummary(
            runs_by_status=dict(Counter(r.status for r in runs)),
            failed_runs=failed,
            backfills=self.backfills(),
            runs=runs,
            sensor_ticks=dict(Counter(t["status"] for t in ticks)),
            sensor_errors=[t["error"]["message"] for t in ticks if t.get("error")],
            waited_s=waited_s,
        )
