"""Bad landing files made from good ones, loaded on a copy of a small warehouse.

* :class:`Csv` edits a landing file by row and column name and writes it back as the generator
  does (every field quoted, ``\\n`` line ends), or with other line ends / quoting.
* :func:`fingerprint` is a content checksum of every published table (bronze, silver, gold and
  dbt's intermediate tables): per table ``count(*)`` and an order-independent sum of row hashes,
  lineage columns (``_ingested_at``, ``_source_file``) included, so a partition that was replaced
  and not restored shows up even when its business values are the same.
* :class:`Scratch` is the unit level: a copy of the warehouse on which one month of a table is
  reloaded through ``bronze.load`` -> ``silver.stage`` -> ``audit.run_checks`` -> ``silver.publish``
  (what the assets do, without Dagster).
* :func:`rerun_month` is the run level: a copy of warehouse + landing zone, one file replaced,
  and the main job re-run for the month through ``bank_assets.run.run_steps``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance, ExecuteInProcessResult, serialize_value

from bank_assets.contracts import CONTRACTS
from bank_assets.layout import landing_file
from bank_assets.run import failure_lines, run_steps
from bank_assets.warehouse import audit, bronze, silver

from ..pipeline import resources

PREVIOUS = "2024-01"
MONTH = "2024-02"
MONTH_DATE = dt.date(2024, 2, 1)
NOW = dt.datetime(2026, 1, 1)
PUBLISHED_SCHEMAS = ("bronze", "silver", "gold", "intermediate")


# --- CSV text -----------------------------------------------------------------------------------


def parse(data: bytes) -> list[list[str]]:
    """The records of a landing file (header first) as Python's csv module reads them; blank
    lines are not records. This is the independent count of "landing data rows"."""
    text = data.decode("utf-8-sig")
    return [r for r in csv.reader(io.StringIO(text, newline="")) if r]


def data_rows(data: bytes) -> int:
    return len(parse(data)) - 1


def render(rows: list[list[str]], line_end: str = "\n", quoting: int = csv.QUOTE_ALL) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=quoting, lineterminator=line_end).writerows(rows)
    return out.getvalue().encode("utf-8")


class Csv:
    """A landing file as header + rows of text, edited by 0-based data row and column name.
    Data row i is bronze ``_source_row`` i + 1 and file line i + 2 (while no row is inserted
    before it and every record is on one line)."""

    def __init__(self, data: bytes) -> None:
        records = parse(data)
        self.header, self.rows = records[0], records[1:]

    def col(self, name: str) -> int:
        return self.header.index(name)

    def get(self, i: int, name: str) -> str:
        return self.rows[i][self.col(name)]

    def set(self, i: int, name: str, value: str) -> Csv:
        self.rows[i][self.col(name)] = value
        return self

    def find(self, name: str, value: str) -> int:
        return next(i for i, r in enumerate(self.rows) if r[self.col(name)] == value)

    def bytes(self, line_end: str = "\n", quoting: int = csv.QUOTE_ALL) -> bytes:
        return render([self.header, *self.rows], line_end, quoting)


def lines(data: bytes) -> list[bytes]:
    """The file's physical lines (the generator ends every line with \\n, so the last is b'')."""
    return data.split(b"\n")


def join(parts: list[bytes]) -> bytes:
    return b"\n".join(parts)


# --- warehouse checksums ------------------------------------------------------------------------


Fingerprint = dict[str, tuple]


def fingerprint(con: duckdb.DuckDBPyConnection) -> Fingerprint:
    """count(*) and sum(hash(row)) of every base table of the published schemas."""
    schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_type = 'BASE TABLE' AND table_schema IN ({schemas}) ORDER BY 1, 2"
    ).fetchall()
    return {f"{s}.{t}": con.execute(f'SELECT count(*), sum(hash(x)) FROM "{s}"."{t}" x').fetchone() for s, t in tables}


def fingerprint_file(path: Path) -> Fingerprint:
    with duckdb.connect(str(path), read_only=True) as con:
        return fingerprint(con)


def month_accounting(path: Path, table: str) -> tuple[int, int, int, int, int]:
    """(bronze rows, silver rows, duplicates removed, rejects, stats' bronze_rows) of MONTH, read
    from the published tables of the warehouse at `path`."""
    with duckdb.connect(str(path), read_only=True) as con:
        one = lambda sql: con.execute(sql, {"m": MONTH_DATE}).fetchone()[0]  # noqa: E731
        where = "_partition_month = $m"
        return (
            one(f"SELECT count(*) FROM bronze.{table} WHERE {where}"),
            one(f"SELECT count(*) FROM silver.{table} WHERE {where}"),
            one(
                f"SELECT duplicates_removed FROM silver._partition_stats WHERE table_name = '{table}' "
                "AND partition_month = $m"
            ),
            one(f"SELECT count(*) FROM silver.{table}_rejects WHERE {where}"),
            one(
                f"SELECT bronze_rows FROM silver._partition_stats WHERE table_name = '{table}' AND partition_month = $m"
            ),
        )


def copy_warehouse(src: Path, dst: Path) -> None:
    shutil.copy(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dst.with_name(dst.name + ".wal"))


# --- unit level: one table, one month, on a scratch copy ----------------------------------------


@dataclass(frozen=True)
class Reject:
    source_row: int
    reason_code: str
    reason_column: str
    record: dict


@dataclass(frozen=True)
class Accounting:
    landing_rows: int
    bronze_rows: int
    silver_rows: int
    duplicates_removed: int
    rejects: int

    def balanced(self) -> bool:
        """Every landing row is in silver, is a removed duplicate, or is a reject."""
        return self.landing_rows == self.bronze_rows == self.silver_rows + self.duplicates_removed + self.rejects


class Scratch:
    """A copy of the loaded warehouse, and a landing zone where single files are replaced."""

    def __init__(self, base_db: Path, base_landing: Path, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.db = work / "warehouse.duckdb"
        copy_warehouse(base_db, self.db)
        self.base_landing = base_landing
        self.root = work / "landing"
        self.con = duckdb.connect(str(self.db))
        self.written: dict[str, bytes] = {}

    def close(self) -> None:
        self.con.close()

    def original(self, table: str, month: str = MONTH) -> bytes:
        return landing_file(self.base_landing, table, month).read_bytes()

    def path(self, table: str) -> Path:
        return landing_file(self.root, table, MONTH)

    def write(self, table: str, data: bytes) -> Path:
        path = self.path(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written[table] = data
        return path

    def bronze(self, table: str, data: bytes | None = None, allow_empty: bool = False) -> int:
        """Write `data` (if given) as the month's file and load it into bronze, as the asset does."""
        path = self.write(table, data) if data is not None else self.path(table)
        bronze.check_landing_path(self.root, path)
        return bronze.load(self.con, CONTRACTS[table], path, MONTH_DATE, NOW, allow_empty=allow_empty).rows

    def silver(self, table: str) -> dict[str, int]:
        """Stage, audit and publish the month of silver.<table>, as the asset does."""
        contract = CONTRACTS[table]
        silver.stage(self.con, contract, MONTH_DATE)
        outcomes = audit.run_checks(self.con, contract, MONTH_DATE)
        blocked = [(o.name, o.metadata) for o in outcomes if o.blocking and not o.passed]
        assert not blocked, blocked
        counts = next(o.metadata for o in outcomes if o.name == "reconciles_with_bronze")
        stats = {k: int(counts[k]) for k in ("bronze_rows", "silver_rows", "duplicates_removed", "rejects")}
        silver.publish(self.con, contract, MONTH_DATE, stats)
        return stats

    def load(self, table: str, data: bytes) -> Accounting:
        self.bronze(table, data)
        self.silver(table)
        return self.accounting(table)

    def accounting(self, table: str) -> Accounting:
        """The month's published numbers, read back from silver, next to the landing file's rows."""
        one = lambda sql: self.con.execute(sql, {"m": MONTH_DATE}).fetchone()  # noqa: E731
        where = "_partition_month = $m"
        dups, stats_bronze = one(
            "SELECT duplicates_removed, bronze_rows FROM silver._partition_stats "
            f"WHERE table_name = '{table}' AND partition_month = $m"
        )
        result = Accounting(
            landing_rows=data_rows(self.written[table]),
            bronze_rows=one(f"SELECT count(*) FROM bronze.{table} WHERE {where}")[0],
            silver_rows=one(f"SELECT count(*) FROM silver.{table} WHERE {where}")[0],
            duplicates_removed=dups,
            rejects=one(f"SELECT count(*) FROM silver.{table}_rejects WHERE {where}")[0],
        )
        assert stats_bronze == result.bronze_rows, (stats_bronze, result)
        return result

    def rejects(self, table: str) -> dict[int, Reject]:
        rows = self.con.execute(
            f"SELECT _source_row, reason_code, reason_column, record FROM silver.{table}_rejects "
            "WHERE _partition_month = $m ORDER BY _source_row",
            {"m": MONTH_DATE},
        ).fetchall()
        return {r[0]: Reject(r[0], r[1], r[2], json.loads(r[3])) for r in rows}

    def silver_row(self, table: str, source_row: int) -> dict | None:
        cur = self.con.execute(
            f"SELECT * FROM silver.{table} WHERE _partition_month = $m AND _source_row = $r",
            {"m": MONTH_DATE, "r": source_row},
        )
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None

    def business_checksum(self, layer: str, table: str) -> tuple:
        """Count and hash of the contract columns of the month (lineage columns left out)."""
        cols = ", ".join(f'"{c}"' for c in CONTRACTS[table].column_names)
        return self.con.execute(
            f"SELECT count(*), sum(hash({cols})) FROM {layer}.{table} WHERE _partition_month = $m", {"m": MONTH_DATE}
        ).fetchone()

    def fingerprint(self) -> Fingerprint:
        return fingerprint(self.con)


# --- run level: the main job for one month, on a copy of warehouse + landing ---------------------


@dataclass
class StepFailure:
    message: str  # the step's error message (what `bank_assets.run` prints)
    causes: str  # the messages of the exceptions it was raised from
    metadata: dict


@dataclass
class RunOutcome:
    success: bool
    failures: dict[str, StepFailure]  # step key -> what it said
    summary: str  # bank_assets.run.failure_lines: what the CLI prints for the run
    stored: str  # everything the Dagster instance stored about the run, serialized
    before: Fingerprint
    after: Fingerprint
    root: Path
    result: ExecuteInProcessResult

    def failure(self, step: str) -> StepFailure:
        assert step in self.failures, (step, sorted(self.failures), self.summary)
        return self.failures[step]


def _step_failures(result: ExecuteInProcessResult) -> dict[str, StepFailure]:
    out = {}
    for event in result.all_events:
        if event.event_type != DagsterEventType.STEP_FAILURE:
            continue
        data = event.step_failure_data
        meta = dict(data.user_failure_data.metadata) if data.user_failure_data else {}
        causes, error = [], data.error.cause if data.error else None
        while error is not None:
            causes.append(error.message)
            error = error.cause
        out[event.step_key] = StepFailure(
            message=data.error.message if data.error else "",
            causes="\n".join(causes),
            metadata={k: getattr(v, "value", v) for k, v in meta.items()},
        )
    return out


def rerun_month(
    base_root: Path,
    work: Path,
    instance: DagsterInstance,
    edit: Callable[[Path], None],
    gold: bool = True,
    run_config: dict | None = None,
) -> RunOutcome:
    """Copy warehouse + landing zone, let `edit(landing_root)` replace files, re-run MONTH with the
    landing zone in "files" mode (the generator must not rewrite the bad file)."""
    shutil.copytree(base_root / "landing", work / "landing", symlinks=True)
    copy_warehouse(base_root / "warehouse.duckdb", work / "warehouse.duckdb")
    edit(work / "landing")
    before = fingerprint_file(work / "warehouse.duckdb")
    results: list[ExecuteInProcessResult] = []
    success = run_steps(
        [MONTH],
        instance,
        resources(work, mode="files"),
        run_config=run_config,
        gold=gold,
        on_result=lambda step, result, seconds: results.append(result),
    )
    (result,) = results
    stored = "\n".join(serialize_value(e) for e in instance.all_logs(result.run_id))
    return RunOutcome(
        success=success,
        failures=_step_failures(result),
        summary="\n".join(failure_lines(result)),
        stored=stored,
        before=before,
        after=fingerprint_file(work / "warehouse.duckdb"),
        root=work,
        result=result,
    )
