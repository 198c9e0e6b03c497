"""The platform operated as a user operates it: a real webserver and daemon, the UI's GraphQL,
declarative automation left to the daemon, and the `dagster` CLI. Slow (minutes each), tiny data.

Harness: devtools/operate.py. Run with `pytest -m slow tests/test_operate_like_a_user.py -s` to
see progress; on a failure the temporary DAGSTER_HOME (logs, warehouse) is kept and its path
printed.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from devtools.operate import (
    QUERIES,
    DagsterHome,
    DagsterServer,
    IdleSummary,
    backfill_params,
    monthly_keys,
)

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end

FIRST, LAST = "2024-01", "2024-06"
NON_GOLD_GROUPS = ("landing", "bronze", "silver")
GOLD_GROUP = "gold"
#: Check statuses that mean the check did not really run for its partition.
NOT_EXECUTED = ("SKIPPED", "EXECUTION_FAILED", "IN_PROGRESS")


def assert_no_failed_runs(summary: IdleSummary, what: str) -> None:
    print(f"\n[{what}]\n{summary.describe()}")
    assert not summary.failed_runs, f"{what}: {len(summary.failed_runs)} failed runs\n{summary.describe()}"
    failed_backfills = [b for b in summary.backfills if b.status not in ("COMPLETED", "COMPLETED_SUCCESS")]
    assert not failed_backfills, f"{what}: backfills not completed: {failed_backfills}"


def wrong_partitions(materialized: dict[str, set[str]], keys: list[str], expected: set[str]) -> dict:
    return {k: sorted(materialized.get(k, set())) for k in keys if materialized.get(k, set()) != expected}


def test_graphql_queries_match_installed_schema():
    """Every document the harness sends is valid for the installed dagster_graphql, and so are
    the backfill variables (fast: no server)."""
    from dagster_graphql.schema import create_schema
    from graphql import coerce_input_value, parse, validate

    schema = create_schema().graphql_schema
    errors = {name: [e.message for e in validate(schema, parse(doc))] for name, doc in QUERIES.items()}
    assert not any(errors.values()), errors
    params = backfill_params([["silver", "accounts"]], ["2024-01-01"], tags={"who": "test"})
    coerce_input_value(params, schema.get_type("LaunchBackfillParams"))  # raises on a bad field


REPORTS_GROUP = "reports"
ANALYTICS_GROUP = "analytics"
#: what automation builds after silver (the gold_automation sensor's selection)
AUTOMATED_GROUPS = (GOLD_GROUP, ANALYTICS_GROUP, REPORTS_GROUP)


@pytest.mark.slow
def test_ui_backfill_then_new_month_under_daemon():
    three = monthly_keys("2024-01", "2024-03")
    april = "2024-04-01"
    with DagsterServer(first_month=FIRST, last_month=LAST) as srv:
        nodes = [n for n in srv.asset_nodes() if n.materializable]
        all_keys = [n.key for n in nodes]
        # gold, and the analytics and reports after it, are left to automation once silver is there
        gold = [n.key for n in nodes if n.group in AUTOMATED_GROUPS]
        non_gold = [n.path for n in nodes if n.group in NON_GOLD_GROUPS]
        print(f"\n{len(nodes)} assets by group: {dict(Counter(n.group for n in nodes))}")
        assert gold and non_gold, "expected gold and landing/bronze/silver groups"
        assert {n.group for n in nodes} <= {*NON_GOLD_GROUPS, *AUTOMATED_GROUPS}, {n.group for n in nodes}
        assert all(n.partitioned for n in nodes), [n.key for n in nodes if not n.partitioned]

        # 1. "Materialize all" for 2024-01 .. 2024-03 from the UI
        srv.launch_backfill(None, three, title="UI: materialize all 2024-01..2024-03")
        summary = srv.wait_idle(timeout_s=2400)
        assert_no_failed_runs(summary, "backfill of all assets, 3 months")

        materialized = srv.materialized_partitions()
        bad = wrong_partitions(materialized, all_keys, set(three))
        assert not bad, f"assets whose materialized partitions are not exactly {three}: {bad}"
        extra = {k: sorted(v) for k, v in materialized.items() if k not in all_keys and v}
        assert not extra, f"materializations of undefined assets: {extra}"
        ui = srv.partition_statuses()  # what the UI's partition bars show
        ui_bad = {
            k: {s: sorted(v) for s, v in st.items() if v} for k, st in ui.items() if st["MATERIALIZED"] != set(three)
        }
        assert not ui_bad, f"UI partition status differs from {three}: {ui_bad}"

        records = srv.check_records()
        check_keys = srv.check_keys()
        by_status = dict(Counter(r.status for r in records))
        print(f"{len(check_keys)} checks, {len(records)} execution records; by status: {by_status}")
        print(f"by partition: {dict(Counter(r.partition for r in records))}")
        no_partition = [r for r in records if not r.partition]
        assert not no_partition, f"{len(no_partition)} check records without a partition, e.g. {no_partition[:5]}"
        outside = [r for r in records if r.partition not in three]
        assert not outside, f"{len(outside)} check records outside {three}, e.g. {outside[:5]}"
        not_run = [r for r in records if r.status in NOT_EXECUTED]
        assert not not_run, f"{len(not_run)} check records {NOT_EXECUTED}, e.g. {not_run[:10]}"
        executed: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in records:
            executed[r.asset_key, r.check_name].add(r.partition or "")
        missing = {f"{'/'.join(a)}:{c}": sorted(set(three) - executed["/".join(a), c]) for a, c in check_keys}
        missing = {k: v for k, v in missing.items() if v}
        assert not missing, f"checks without an execution for some months: {missing}"

        # 2. "Land a 4th month": landing -> silver for 2024-04 only; gold is left to automation
        manual = srv.launch_backfill(non_gold, [april], title="UI: landing..silver 2024-04")
        summary = srv.wait_idle(timeout_s=2400)
        assert_no_failed_runs(summary, "non-gold backfill of 2024-04 + automation")

        materialized = srv.materialized_partitions()
        four = {*three, april}
        bad = wrong_partitions(materialized, all_keys, four)
        assert not bad, f"after 2024-04, assets whose partitions are not exactly {sorted(four)}: {bad}"
        counts = {k: srv.materialization_count(k, april) for k in gold}
        assert all(c == 1 for c in counts.values()), f"gold 2024-04 materializations (want 1 each): {counts}"
        built_by = {k: srv.materialization_run_ids(k, april) for k in gold}
        runs = {r.run_id: r for r in summary.runs}
        from_manual = {k: ids for k, ids in built_by.items() if any(runs[i].backfill_id == manual for i in ids)}
        assert not from_manual, f"gold 2024-04 was built by the manual backfill, not automation: {from_manual}"
        not_automation = {k: ids for k, ids in built_by.items() if not all(runs[i].from_automation for i in ids)}
        assert not not_automation, f"gold 2024-04 built by runs not requested by automation: {not_automation}"
        gold_runs = {i for ids in built_by.values() for i in ids}
        print(f"gold 2024-04 built by {len(gold_runs)} automation run(s): {sorted(gold_runs)}")


@pytest.mark.slow
def test_cli_materialize_partition_range():
    two = monthly_keys("2024-01", "2024-02")
    with DagsterHome(first_month=FIRST, last_month=LAST) as home:
        cp = home.run_cli(
            [
                "asset",
                "materialize",
                "-m",
                "bank_assets.definitions",
                "-d",
                ".",
                "--select",
                "*",
                "--partition-range",
                f"{two[0]}...{two[-1]}",
            ],
            timeout=2400,
        )
        assert cp.returncode == 0, f"exit {cp.returncode}\n{cp.stdout[-3000:]}\n{cp.stderr[-6000:]}"
        keys = ["/".join(k) for k in home.all_asset_keys()]
        materialized = home.materialized_partitions()
        bad = wrong_partitions(materialized, keys, set(two))
        assert not bad, f"assets whose materialized partitions are not exactly {two}: {bad}"
