"""The real graph, landing -> bronze -> silver, on small data in a temporary warehouse."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, DagsterInstance

from bank_assets.contracts import CONTRACTS
from bank_assets.layout import landing_file, manifest_file

from .pipeline import checksum, project_instance, query, resources, run

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end

MONTHS = ("2024-01", "2024-02")
MONTHS_KEYS = ("2024-01-01", "2024-02-01")


@pytest.fixture(scope="module")
def instance():
    with project_instance() as inst:
        yield inst


@pytest.fixture(scope="module")
def dirty(tmp_path_factory, instance: DagsterInstance) -> dict:
    res = resources(tmp_path_factory.mktemp("dirty"), defect_scale=3.0)
    for m in MONTHS:
        result = run(res, m, instance)
        assert result.success, m
    return res


def landing_rows(res: dict, table: str, month: str) -> int:
    path = landing_file(Path(res["landing"].resolved_root), table, month)
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_every_landing_row_is_accounted_for(dirty):
    for table in CONTRACTS:
        for month in MONTHS:
            where = "_partition_month = $m::DATE"
            p = {"m": f"{month}-01"}
            bronze = query(dirty, f"SELECT count(*) FROM bronze.{table} WHERE {where}", p)[0][0]
            silver = query(dirty, f"SELECT count(*) FROM silver.{table} WHERE {where}", p)[0][0]
            rejects = query(dirty, f"SELECT count(*) FROM silver.{table}_rejects WHERE {where}", p)[0][0]
            dups = query(
                dirty,
                "SELECT duplicates_removed FROM silver._partition_stats WHERE table_name = $t "
                "AND partition_month IS NOT DISTINCT FROM $m::DATE",
                {"t": table, "m": p.get("m")},
            )[0][0]
            assert bronze == landing_rows(dirty, table, month), (table, month)
            assert bronze == silver + dups + rejects, (table, month)


def test_duplicates_and_rejects_match_the_manifest(dirty):
    """customers have no parents, so every injected defect maps to exactly one silver outcome."""
    path = landing_file(Path(dirty["landing"].resolved_root), "customers", "2024-02")
    defects = json.loads(manifest_file(path).read_text())["defects"]
    dups, rejects = query(
        dirty,
        "SELECT duplicates_removed, rejects FROM silver._partition_stats "
        "WHERE table_name = 'customers' AND partition_month = '2024-02-01'",
    )[0]
    assert dups == defects["duplicate_exact"] + defects["resent_changed"] > 0
    assert rejects == defects["null_required"] + defects["malformed_date"] > 0
    # whitespace/case defects are repaired, not rejected
    assert (
        query(
            dirty,
            "SELECT count(*) FROM silver.customers WHERE email <> lower(trim(email)) "
            "OR segment <> upper(trim(segment))",
        )[0][0]
        == 0
    )


def test_re_sent_rows_keep_the_last_version(dirty):
    rows = query(
        dirty,
        """SELECT b.transaction_id, max(b._source_row) FROM bronze.transactions b
        WHERE b._partition_month = '2024-01-01' AND b.transaction_id <> '' GROUP BY 1 HAVING count(*) > 1""",
    )
    assert rows
    kept = dict(
        query(
            dirty, "SELECT transaction_id, _source_row FROM silver.transactions WHERE _partition_month = '2024-01-01'"
        )
    )
    survivors = [(tid, last) for tid, last in rows if tid in kept]
    assert survivors and all(kept[tid] == last for tid, last in survivors)


def test_materialization_reports_the_four_counts(dirty, instance):
    event = instance.get_latest_materialization_event(AssetKey(["silver", "transactions"]))
    meta = event.asset_materialization.metadata
    counts = {k: meta[k].value for k in ("bronze_rows", "silver_rows", "duplicates_removed", "rejects")}
    assert counts["bronze_rows"] == counts["silver_rows"] + counts["duplicates_removed"] + counts["rejects"]
    assert counts["rejects"] > 0 and counts["duplicates_removed"] > 0
    assert event.dagster_event.partition == "2024-02-01" and "| transaction_id |" in meta["preview"].value
    assert "2024-02-01 .. 2024-02-29" in meta["rows_per_day"].value  # the daily bar chart


def test_money_is_decimal_and_converted_to_pen(dirty):
    types = dict(
        query(
            dirty,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'silver' AND table_name = 'transactions'",
        )
    )
    assert types["amount"] == types["amount_pen"] == "DECIMAL(18,2)"
    usd = query(
        dirty,
        """SELECT count(*), count(*) FILTER (WHERE t.amount_pen = round(t.amount * f.rate_to_pen, 2))
        FROM silver.transactions t JOIN silver.fx_rates f ON f.rate_date = t.transaction_ts::DATE
        AND f.currency = t.currency WHERE t.currency = 'USD'""",
    )[0]
    assert usd[0] > 0 and usd[0] == usd[1]
    assert (
        query(dirty, "SELECT count(*) FROM silver.transactions WHERE currency = 'PEN' AND amount_pen <> amount")[0][0]
        == 0
    )


def test_rematerializing_a_partition_changes_nothing(dirty, instance):
    before = {(layer, t): checksum(dirty, layer, t, "2024-01") for layer in ("bronze", "silver") for t in CONTRACTS}
    assert run(dirty, "2024-01", instance).success
    after = {k: checksum(dirty, k[0], k[1], "2024-01") for k in before}
    assert after == before


def test_blocking_check_keeps_bad_partition_invisible(dirty, instance):
    """With deduplication off, re-sent accounts make key_unique fail: nothing is published."""
    accounts_before = checksum(dirty, "silver", "accounts", "2024-02")
    transactions_before = checksum(dirty, "silver", "transactions", "2024-02")
    selection = AssetSelection.assets(AssetKey(["silver", "accounts"])).downstream()
    result = run(
        dirty,
        "2024-02",
        instance,
        selection=selection,
        run_config={"ops": {"silver__accounts": {"config": {"deduplicate": False}}}},
    )
    assert not result.success
    failed = [
        e for e in result.get_asset_check_evaluations() if not e.passed and e.severity == AssetCheckSeverity.ERROR
    ]
    assert [(e.asset_key, e.check_name) for e in failed] == [(AssetKey(["silver", "accounts"]), "contract")]
    check = failed[0].metadata
    assert check["failed_rules"].value == "key_unique"  # the dirty month also warns on fk_customer_id
    assert check["rule_counts"].value["key_unique"] == check["key_unique"].value["duplicate_keys"] > 0
    assert check["rule_counts"].value["required_not_null"] == 0
    assert failed[0].partition == "2024-02-01" and check["key_unique"].value["sample_duplicate_keys"]
    assert failed[0].description.startswith("failed: key_unique; warned: fk_customer_id. key_unique (rows=")
    failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "silver.accounts 2024-02 was NOT published" in failure and "key_unique" in failure
    assert checksum(dirty, "silver", "accounts", "2024-02") == accounts_before
    assert checksum(dirty, "silver", "transactions", "2024-02") == transactions_before
    ran = {e.step_key for e in result.get_step_success_events()}
    assert "silver__transactions" not in ran


def test_malformed_landing_file_fails_clearly(dirty, instance, tmp_path):
    files_mode = {**dirty, "landing": dirty["landing"].model_copy(update={"mode": "files"})}
    path = landing_file(Path(dirty["landing"].resolved_root), "transactions", "2024-02")
    before = checksum(dirty, "bronze", "transactions", "2024-02")
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b'"amount"', b'"importe"', 1))
        result = run(
            files_mode, "2024-02", instance, selection=AssetSelection.assets(AssetKey(["bronze", "transactions"]))
        )
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
        assert str(path) in failure and "line 1: HEADER_MISMATCH" in failure
        assert checksum(dirty, "bronze", "transactions", "2024-02") == before
    finally:
        path.write_bytes(original)


def test_a_range_run_records_each_month_on_its_partition(tmp_path, instance):
    """One run over two months (a UI backfill with single-run policy): every check result and
    materialization sits on its own month, none without a partition, none skipped."""
    res = resources(tmp_path, defect_scale=1.0)
    from dagster import materialize

    from bank_assets.definitions import all_assets

    from .pipeline import SILVER

    result = materialize(
        all_assets,
        resources=res,
        instance=instance,
        selection=SILVER,
        tags={"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-02-01"},
        raise_on_error=False,
    )
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    per_month = {m: {(e.asset_key, e.check_name) for e in evaluations if e.partition == m} for m in MONTHS_KEYS}
    expected = {(AssetKey(["silver", t]), "contract") for t in CONTRACTS}
    assert per_month["2024-01-01"] == per_month["2024-02-01"] == expected
    assert all(e.partition in MONTHS_KEYS for e in evaluations)
    mats = result.get_asset_materialization_events()
    txn = {e.partition: e.materialization.metadata for e in mats if e.asset_key == AssetKey(["silver", "transactions"])}
    assert set(txn) == set(MONTHS_KEYS)
    assert txn["2024-01-01"]["dagster/row_count"] != txn["2024-02-01"]["dagster/row_count"]  # per-month metadata
    # the same tables as two single-month runs
    single = resources(tmp_path / "single", defect_scale=1.0)
    for m in MONTHS:
        assert run(single, m, instance).success
    for m in MONTHS:
        for t in CONTRACTS:
            assert checksum(res, "silver", t, m) == checksum(single, "silver", t, m), (t, m)


def test_all_checks_pass_on_clean_data(tmp_path, instance):
    res = resources(tmp_path, defect_scale=0.0)
    result = run(res, "2024-01", instance)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(CONTRACTS) and all(e.passed for e in evaluations)
    rules = evaluations[0].metadata["rule_counts"].value
    assert {"key_unique", "required_not_null", "reconciles_with_bronze"} <= set(rules) and not any(rules.values())
    assert query(res, "SELECT count(*) FROM silver.transactions_rejects")[0][0] == 0
