"""Restatements and identity: a re-delivered month reaches every later month that read it, and a
customer number that changes person is flagged and versioned.

Both start from the session's two built months (tiny scale) and switch the landing zone to files
mode, as a bank re-delivering an export does.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from bank_assets.assets.bronze import RESTATEMENT_KEY
from bank_assets.automation import months_to_rebuild
from bank_assets.run import follow_restatements, run_steps
from tests.conftest import copy_of_built
from tests.pipeline import BANK_DATA_JOB, project_instance, resources

pytestmark = pytest.mark.slow


def run_bank_data(root: Path, month: str, instance) -> list:
    """`month` landing .. gold from the files under `root` (what a restatement changes); the runs'
    results, which must all have succeeded."""
    results: list = []
    assert run_steps(
        [month], instance, resources(root, mode="files"), job=BANK_DATA_JOB, on_result=lambda s, r, _: results.append(r)
    )
    return results


JAN, FEB = "2024-01", "2024-02"


def rewrite(path: Path, edit) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows = edit(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)


def restate_january(landing: Path) -> None:
    """January's transactions re-delivered: 5 amounts corrected, 3 transactions added."""

    def edit(rows: list[list[str]]) -> list[list[str]]:
        header, body = rows[0], rows[1:]
        amount, tid = header.index("amount"), header.index("transaction_id")
        ids = Counter(r[tid] for r in body)
        # five rows of the file whose amount is valid money and whose id is not repeated (the
        # demo's injected defects are left as they are)
        clean = [r for r in body[10:] if re.fullmatch(r"[0-9]+\.[0-9]{2}", r[amount]) and ids[r[tid]] == 1]
        for row in clean[:5]:
            row[amount] = f"{float(row[amount]) + 1000:.2f}"
        added = [[f"{r[tid]}X" if i == tid else v for i, v in enumerate(r)] for r in body[20:23]]
        return [header, *body, *added]

    rewrite(landing / "transactions" / JAN / "transactions.csv", edit)


def followup_requests(instance, result, as_daemon: bool) -> list:
    """What restatement_followup requests after `result`'s run (as_daemon: without the CLI's pid tag)."""
    from dagster import DagsterEventType, RunRequest, build_run_status_sensor_context

    from bank_assets.definitions import defs
    from bank_assets.recovery import PID_TAG

    run = instance.get_run_by_id(result.run_id)
    if as_daemon:
        run = run._replace(tags={k: v for k, v in run.tags.items() if k != PID_TAG})
    success = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_SUCCESS)
    sensor = defs.resolve_sensor_def("restatement_followup")
    ctx = build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_event=success, dagster_instance=instance, dagster_run=run
    )
    out = sensor(ctx)
    return [r for r in (out if isinstance(out, list) else []) if isinstance(r, RunRequest)]


def gold_fingerprint(db: Path) -> dict[str, tuple]:
    """count and sum(hash(row)) of every gold table, per table (run-independent: no timestamps)."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gold' "
                "AND table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT count(*), sum(hash(x)) FROM gold."{t}" x').fetchone() for t in tables}


def test_a_restated_month_reaches_the_later_months(two_months_built: Path, tmp_path: Path):
    restated_landing = tmp_path / "restated_landing"
    with copy_of_built(two_months_built, tmp_path / "built") as (root, instance):
        restate_january(root / "landing")
        shutil.copytree(root / "landing", restated_landing)
        files = resources(root, mode="files")
        results = run_bank_data(root, JAN, instance)
        assert months_to_rebuild(instance, results[0].run_id, JAN)[0] == [JAN]
        diff = next(
            e.step_materialization_data.materialization.metadata[RESTATEMENT_KEY].value
            for e in results[0].get_asset_materialization_events()
            if e.asset_key == AssetKey(["bronze", "transactions"])
        )
        assert diff == {
            "rows_added": 3,
            "rows_removed": 0,
            "rows_changed": 5,
            "restated": True,
            "later_months_to_rebuild": [FEB],
        }
        landing_meta = instance.get_latest_materialization_event(AssetKey(["landing", "transactions"]))
        assert landing_meta.asset_materialization.metadata["delivery"].value == "RESTATEMENT"

        # under the daemon, the restatement_followup sensor requests the later months; it leaves
        # the CLI's runs alone (the CLI follows them itself, below)
        assert months_to_rebuild(instance, results[0].run_id, JAN) == ([JAN], [FEB])
        assert [r.partition_key for r in followup_requests(instance, results[0], as_daemon=True)] == [f"{FEB}-01"]
        assert followup_requests(instance, results[0], as_daemon=False) == []

        said: list[str] = []
        ok, later = follow_restatements(
            True,
            *months_to_rebuild(instance, results[0].run_id, JAN),
            lambda ms: run_steps(ms, instance, files, job=BANK_DATA_JOB),
            say=said.append,
        )
        assert ok and later == [FEB], said
        assert "restatement: 2024-01" in said[0]
        restated = gold_fingerprint(root / "warehouse.duckdb")

    # a fresh build of the corrected files: every gold table equal, both months
    fresh_root = tmp_path / "fresh"
    (fresh_root / "dagster_home").mkdir(parents=True)
    shutil.copytree(restated_landing, fresh_root / "landing")
    with project_instance(temp_dir=str(fresh_root / "dagster_home")) as instance:
        assert run_steps([JAN, FEB], instance, resources(fresh_root, mode="files"), job=BANK_DATA_JOB, per_run=2)
    fresh = gold_fingerprint(fresh_root / "warehouse.duckdb")
    assert restated.keys() == fresh.keys()
    assert {t for t in fresh if restated[t] != fresh[t]} == set()


def test_an_unchanged_redelivery_is_not_a_restatement(two_months_built: Path, tmp_path: Path):
    with copy_of_built(two_months_built, tmp_path / "built") as (root, instance):
        results = run_bank_data(root, JAN, instance)
        assert months_to_rebuild(instance, results[0].run_id, JAN) == ([], [])
        meta = instance.get_latest_materialization_event(AssetKey(["landing", "customers"])).asset_materialization
        assert meta.metadata["delivery"].value == "unchanged"


def test_a_customer_number_reused_for_another_person(two_months_built: Path, tmp_path: Path):
    """February's C... arrives as another person: silver warns naming the masked key and the
    attributes, and dim_customer opens a version carrying the new identity."""
    with copy_of_built(two_months_built, tmp_path / "built") as (root, instance):
        path = root / "landing" / "customers" / FEB / "customers.csv"
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        col = {c: header.index(c) for c in header}
        target = rows[6]
        key = target[col["customer_id"]]
        target[col["first_name"]], target[col["last_name"]] = "Zoila", "Quispe"
        target[col["national_id"]] = "19876543" if target[col["national_id"]] != "19876543" else "19876544"
        target[col["birth_date"]] = "1988-07-15"
        rewrite(path, lambda _: rows)

        results = run_bank_data(root, FEB, instance)
        check = next(
            e for e in results[0].get_asset_check_evaluations() if e.asset_key == AssetKey(["silver", "customers"])
        )
        assert not check.passed and check.severity.value == "WARN", check
        rule = check.metadata["identity_stable"].value
        assert rule["keys_changed"] == 1
        assert rule["changed_by_attribute"] == {"national_id": 1, "birth_date": 1, "first_name+last_name": 1}
        masked = key[:2] + "*" * (len(key) - 4) + key[-2:]
        assert rule["sample_keys"] == [f"{masked}: national_id, birth_date, first_name+last_name"]
        assert key not in str(check.metadata) and "Quispe" not in str(check.metadata)

        with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
            versions = con.execute(
                "SELECT valid_from, birth_year, is_current FROM gold.dim_customer WHERE customer_id = ? ORDER BY 1",
                [key],
            ).fetchall()
        assert versions[-1][1:] == (1988, True), versions
        assert versions[-1][0].isoformat() == f"{FEB}-01"
        assert len({v[1] for v in versions}) == 2, versions
