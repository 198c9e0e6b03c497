"""Snapshot of the asset graph: keys, groups, partitioning and check names.

Accidental drift (a renamed asset, a lost check, a table that stopped being partitioned) fails
here. After an intended change: UPDATE_SNAPSHOTS=1 bash scripts/test.sh tests/test_graph_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bank_assets.definitions import defs
from bank_assets.partitions import monthly_partitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def reach(graph, key, parent) -> int | str:
    mapping = graph.get_partition_mapping(key, parent)
    start = getattr(mapping, "start_offset", 0)
    return "all" if start <= -len(monthly_partitions.get_partition_keys()) else start


def current() -> dict:
    graph = defs.resolve_asset_graph()
    checks: dict[str, list[str]] = {}
    for ck in graph.asset_check_keys:
        checks.setdefault(ck.asset_key.to_user_string(), []).append(ck.name)
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        name = key.to_user_string()
        out[name] = {
            "group": node.group_name,
            "partitioned": node.partitions_def is not None,
            # each parent with the earliest month read, as an offset from the asset's own (0 = the
            # same month; "all" = every earlier month): identity on the embedded profile, on purpose
            # (docs/guarantees.md, Restatements)
            "parents": {p.to_user_string(): reach(graph, key, p) for p in sorted(node.parent_keys)},
            "checks": sorted(checks.get(name, [])),
        }
    return out


def test_asset_graph_matches_snapshot():
    now = current()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    assert now == json.loads(SNAPSHOT.read_text())


def test_every_asset_and_check_is_monthly_with_a_single_run_backfill():
    """One coherent monthly graph: every asset and every check on the same monthly partitions,
    every asset able to take a range in one run (so `dagster asset materialize --select '*'
    --partition-range` is accepted), and no partitioned asset below an unpartitioned one."""
    from dagster import BackfillPolicy

    graph = defs.resolve_asset_graph()
    now = current()
    assert {v["group"] for v in now.values()} == {"landing", "bronze", "silver", "gold", "analytics", "reports"}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.partitions_def == monthly_partitions, key
        assert node.backfill_policy == BackfillPolicy.single_run(), key
    for check_key in graph.asset_check_keys:
        assert graph.get_check_spec(check_key).partitions_def == monthly_partitions, check_key
    assert now["silver/transactions"]["checks"] == ["contract"]  # one check a table, naming each rule
    assert "assert_anomaly_marts_agree" in now["gold/transaction_anomalies"]["checks"]


def test_months_read_name_real_parents():
    """Each model's meta.reads_months_before names models it refs, with a month count or "all"
    (a typo would silently leave a dependency undeclared)."""
    from bank_assets.assets.dbt_project import model_nodes

    nodes = model_nodes()
    declared = 0
    for name, node in nodes.items():
        parents = {n.split(".")[-1] for n in node["depends_on"]["nodes"]}
        for parent, n in ((node.get("config", {}).get("meta") or {}).get("reads_months_before") or {}).items():
            declared += 1
            assert parent in parents, f"{name}: reads_months_before names {parent}, not one of its parents"
            assert n == "all" or (isinstance(n, int) and n > 0), f"{name}: {parent}: {n!r}"
    assert declared >= 20
