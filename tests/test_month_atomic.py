"""A run that fails anywhere leaves bronze, silver and gold exactly as they were (run journal).

Two months are loaded landing -> gold. Then month 2 is re-run and made to fail at different
points: a dbt model failing after other gold models of the month were rebuilt, and a blocking
silver check after bronze was replaced. Every table of every published schema must hold exactly
the same rows afterwards, and the journal must hold nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance

from bank_assets.analytics import diagnostic
from bank_assets.layout import landing_file
from bank_assets.recovery import sweep_dead_runs
from bank_assets.resources import LandingZone
from bank_assets.run import failed_steps, only_consumers_failed, run_steps, settle_journal
from tests.conftest import copy_of_built
from tests.pipeline import BANK_DATA_JOB, checksum, resources, run
from tests.test_killed_run_recovers import environment, start_run, wait_for_step

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end

PUBLISHED = ("bronze", "silver", "intermediate", "gold")


def table_checksums(path: str) -> dict[str, tuple]:
    """(rows, order-independent hash of all columns) of every table in the published schemas."""
    with duckdb.connect(path, read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema IN ('bronze', 'silver', 'intermediate', 'gold') "
            "ORDER BY 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'SELECT count(*), sum(hash(x)) FROM "{s}"."{t}" AS x').fetchone()
            for s, t in tables
        }


def journal_rows(path: str) -> int:
    with duckdb.connect(path, read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '_journal' AND table_name = 'entries'"
        ).fetchone()[0]
        return con.execute("SELECT count(*) FROM _journal.entries").fetchone()[0] if exists else 0


@pytest.fixture(scope="module")
def loaded(two_months_built, tmp_path_factory) -> Iterator[tuple[Path, DagsterInstance]]:
    """A copy of the session's two built months; each destructive case works on a further copy
    of its warehouse and landing zone (`scratch`)."""
    with copy_of_built(two_months_built, tmp_path_factory.mktemp("atomic")) as loaded:
        yield loaded


@pytest.fixture
def scratch(loaded, tmp_path) -> dict:
    """A copy of the loaded warehouse and landing zone for one destructive case."""
    root, _ = loaded
    shutil.copy(root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    shutil.copytree(root / "landing", tmp_path / "landing")
    return resources(tmp_path)


def test_failing_dbt_model_restores_every_layer(scratch, loaded):
    """fct_transactions cannot be rebuilt (its table lost a column): dims, staging-fed marts,
    silver and bronze of the month were already replaced by then, and must come back."""
    _, instance = loaded
    path = scratch["warehouse"].resolved_path
    with duckdb.connect(path) as con:
        con.execute("ALTER TABLE gold.fct_transactions DROP COLUMN channel")
    before = table_checksums(path)
    assert before["gold.dim_customer"][0] > 0 and before["bronze.transactions"][0] > 0

    assert not run_steps(["2024-02"], instance, scratch)

    assert table_checksums(path) == before
    assert journal_rows(path) == 0


def test_blocking_silver_check_restores_bronze(scratch, loaded):
    """Re-sent accounts with deduplication off fail key_unique after bronze was replaced by a file
    with one more row: bronze must hold the earlier file's rows again."""
    _, instance = loaded
    path = scratch["warehouse"].resolved_path
    accounts = landing_file(Path(scratch["landing"].resolved_root), "accounts", "2024-02")
    lines = accounts.read_bytes().splitlines(keepends=True)
    accounts.write_bytes(b"".join([*lines, lines[1]]))  # one more (duplicate) row
    before = table_checksums(path)
    files_mode = {**scratch, "landing": scratch["landing"].model_copy(update={"mode": "files"})}

    result = run(
        files_mode,
        "2024-02",
        instance,
        selection=AssetSelection.assets(AssetKey(["bronze", "accounts"]), AssetKey(["silver", "accounts"])),
        run_config={"ops": {"silver__accounts": {"config": {"deduplicate": False}}}},
    )

    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "key_unique" in failure and "rolled back" in failure
    assert table_checksums(path) == before


def test_failing_consumer_keeps_the_months_bank_data_published(scratch, loaded, monkeypatch):
    """Month 2 is re-run on a changed transactions file while one analytics table raises: that
    table's step and check fail, and the bronze, silver and gold the run rebuilt stay published,
    equal to what a run in which nothing fails publishes. The journal holds nothing."""
    _, instance = loaded
    path = scratch["warehouse"].resolved_path
    # a new resource: model_copy(update=...) would not reach the config Dagster initializes it from
    files_mode = {**scratch, "landing": LandingZone(root=scratch["landing"].root, mode="files")}
    transactions = landing_file(Path(scratch["landing"].resolved_root), "transactions", "2024-02")
    transactions.write_bytes(b"".join(transactions.read_bytes().splitlines(keepends=True)[:-30]))
    before = checksum(files_mode, "silver", "transactions", "2024-02")

    def planted_failure(*args, **kwargs):
        raise RuntimeError("planted failure of a consumer")

    monkeypatch.setattr(diagnostic, "churn_drivers", planted_failure)
    results = []
    assert not run_steps(["2024-02"], instance, files_mode, on_result=lambda step, r, s: results.append(r))
    (result,) = results
    assert failed_steps(result) == ["analytics__churn_drivers"] and only_consumers_failed(result)
    failing = AssetKey(["analytics", "churn_drivers"])
    (check,) = [e for e in result.get_asset_check_evaluations() if e.asset_key == failing]
    assert not check.passed and check.partition == "2024-02-01" and "planted failure" in str(check.metadata)
    built = {e.asset_key.path[0] for e in result.get_asset_materialization_events()}
    assert {"gold", "analytics", "reports"} <= built  # the other consumers ran
    published = {
        "bronze": checksum(files_mode, "bronze", "transactions", "2024-02"),
        "silver": checksum(files_mode, "silver", "transactions", "2024-02"),
        "gold": {t: v for t, v in table_checksums(path).items() if t.startswith("gold.")},
    }
    assert published["silver"] != before  # the changed file's month is what is published
    assert journal_rows(path) == 0

    monkeypatch.undo()  # the same month's bank data again, with nothing failing (its consumers need not run)
    assert run_steps(["2024-02"], instance, files_mode, job=BANK_DATA_JOB)
    assert {
        "bronze": checksum(files_mode, "bronze", "transactions", "2024-02"),
        "silver": checksum(files_mode, "silver", "transactions", "2024-02"),
        "gold": {t: v for t, v in table_checksums(path).items() if t.startswith("gold.")},
    } == published


@pytest.mark.slow
def test_killed_rerun_is_rolled_back_by_the_next_writer(loaded, tmp_path):
    """A CLI re-run of a loaded month with a changed transactions file is SIGKILLed once gold has
    started (bronze and silver already replaced). `python -m bank_assets.run` at start (like the
    recover_dead_runs sensor) finds the run dead and restores every layer as it was."""
    root, _ = loaded
    env = environment(tmp_path)
    shutil.copy(root / "warehouse.duckdb", env["BANK_WAREHOUSE"])
    shutil.copytree(root / "landing", env["BANK_LANDING_DIR"])
    env = {**env, "BANK_LANDING_MODE": "files", "BANK_LAST_MONTH": "2024-02"}
    transactions = landing_file(Path(env["BANK_LANDING_DIR"]), "transactions", "2024-02")
    transactions.write_bytes(b"".join(transactions.read_bytes().splitlines(keepends=True)[:-50]))
    before = table_checksums(env["BANK_WAREHOUSE"])

    victim = start_run(env, tmp_path / "victim.log", month="2024-02")
    try:
        wait_for_step(env["DAGSTER_HOME"], "gold")
        time.sleep(2.0)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()

    lines: list[str] = []
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        sweep_dead_runs(instance, lines.append)
        settle_journal(instance, resources(tmp_path), log=lines.append)
    assert any("restored" in line for line in lines), lines
    assert table_checksums(env["BANK_WAREHOUSE"]) == before
    assert journal_rows(env["BANK_WAREHOUSE"]) == 0


def test_a_run_of_several_months_that_fails_publishes_the_months_before_the_failure(scratch, loaded):
    """The CLI's runs of several months: the run of 2024-01..2024-02 fails in 2024-02 (its
    transactions file lost its header), is rolled back whole, and its months run again one at a
    time: 2024-01 is published again (gold equal to before), 2024-02 fails with its own message
    and stays as it was. The journal holds nothing."""
    _, instance = loaded
    path = scratch["warehouse"].resolved_path
    files_mode = {**scratch, "landing": LandingZone(root=scratch["landing"].root, mode="files")}
    transactions = landing_file(Path(scratch["landing"].resolved_root), "transactions", "2024-02")
    transactions.write_bytes(b"".join(transactions.read_bytes().splitlines(keepends=True)[1:]))
    gold_before = {t: v for t, v in table_checksums(path).items() if t.startswith("gold.")}
    silver_feb = checksum(files_mode, "silver", "transactions", "2024-02")

    runs: list[tuple[str, bool, list[str]]] = []
    ok = run_steps(
        ["2024-01", "2024-02"],
        instance,
        files_mode,
        job=BANK_DATA_JOB,
        per_run=2,
        on_result=lambda step, r, s: runs.append((step.label, r.success, failed_steps(r))),
    )
    assert not ok
    assert [(label, success) for label, success, _ in runs] == [
        ("2024-01..2024-02", False),
        ("2024-01", True),
        ("2024-02", False),
    ], runs
    assert runs[-1][2][0] == "bronze__transactions", runs  # the first failure; later steps refuse to write
    assert {t: v for t, v in table_checksums(path).items() if t.startswith("gold.")} == gold_before
    assert checksum(files_mode, "silver", "transactions", "2024-02") == silver_feb
    assert journal_rows(path) == 0
