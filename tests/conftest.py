"""Shared fixtures: small landing zones generated once per session, in temporary folders."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from bank_assets.synthetic import DefectRates, GeneratorConfig, Scale, generate
from bank_assets.synthetic.months import month_range, parse_month

TINY = Scale.named("tiny")
SMALL = Scale.named("small")


def months(start: str, end: str) -> list[int]:
    return month_range(parse_month(start), parse_month(end))


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def clean_landing(tmp_path_factory) -> Path:
    """Small scale, no defects, 2024-01..2024-03."""
    out = tmp_path_factory.mktemp("clean_landing")
    generate(GeneratorConfig(seed=7, scale=SMALL, defects=DefectRates.clean()), months("2024-01", "2024-03"), out)
    return out


@pytest.fixture(scope="session")
def dirty_landing(tmp_path_factory) -> Path:
    """Small scale with the demo's default defect rates, 2024-01..2024-02."""
    out = tmp_path_factory.mktemp("dirty_landing")
    generate(GeneratorConfig(seed=7, scale=SMALL), months("2024-01", "2024-02"), out)
    return out


def csv_view(con: duckdb.DuckDBPyConnection, root: Path, table: str) -> None:
    """A view over all months of a landing table, every column text, plus the month folder."""
    pattern = root / table / "*" / f"{table}.csv"
    con.execute(f"""CREATE OR REPLACE VIEW {table} AS
        SELECT *, regexp_extract(filename, '/(\\d{{4}}-\\d{{2}})/', 1) AS _month
        FROM read_csv('{pattern}', all_varchar=true, filename=true)""")


@pytest.fixture(scope="session")
def two_months_built(tmp_path_factory, worker_id: str) -> Path:
    """2024-01 and 2024-02 landing -> reports (tiny scale, 300 customers, the demo's defects),
    built once per test session and shared by pytest-xdist's workers: the first worker to ask
    builds it under a file lock, the others wait for it. Read it, never write it: a module takes
    its own copy with :func:`copy_of_built`."""
    from filelock import FileLock

    if worker_id == "master":  # no xdist: this process is the session
        return _build_two_months(tmp_path_factory.mktemp("two_months"))
    root = tmp_path_factory.getbasetemp().parent / "two_months"  # the folder every worker's basetemp sits in
    with FileLock(f"{root}.lock"):
        if not (root / ".built").exists():
            shutil.rmtree(root, ignore_errors=True)
            _build_two_months(root)
            (root / ".built").touch()
    return root


def _build_two_months(root: Path) -> Path:
    from bank_assets.run import run_steps
    from tests.pipeline import project_instance, resources

    (root / "dagster_home").mkdir(parents=True)
    with project_instance(temp_dir=str(root / "dagster_home")) as instance:
        assert run_steps(["2024-01", "2024-02"], instance, resources(root), per_run=2), "monthly_pipeline failed"
    return root


@contextmanager
def copy_of_built(built: Path, dst: Path) -> Iterator[tuple[Path, DagsterInstance]]:
    """A copy of a built folder (warehouse, landing, reports and its Dagster instance) at `dst`,
    with that instance open: what a module does to it stays in the module."""
    from tests.pipeline import project_instance

    shutil.copytree(built, dst, dirs_exist_ok=True)
    with project_instance(temp_dir=str(dst / "dagster_home")) as instance:
        yield dst, instance


#: the files whose tests drive the Dagster daemon (minutes each, mostly waiting on its 30-s loops):
#: collected first, so that with `-n 2 --dist loadfile` they start at once on separate workers
#: while the rest of the suite runs beside them
DAEMON_FILES = ("test_lakehouse.py", "test_operate_like_a_user.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return DAEMON_FILES.index(name) if name in DAEMON_FILES else len(DAEMON_FILES)

    items.sort(key=rank)  # stable: every file keeps its own order
