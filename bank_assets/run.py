"""Run the main job for a range of months, in-process.

    python -m bank_assets.run --start 2024-01 --end 2025-12

1. reference tables (merchants, branches), landing -> silver;
2. each month, landing -> silver (one run per month, checks per partition);
3. gold: base dbt models, the incremental models for the whole range as one run (one dbt
   invocation), then the roll-ups.

Runs are recorded in the Dagster instance of DAGSTER_HOME, so `dagster dev` shows the history.
"""

from __future__ import annotations

import argparse
import sys
import time

from dagster import AssetSelection, DagsterInstance, materialize

from bank_assets.definitions import (
    all_assets,
    defs,
    gold_base_selection,
    gold_incremental_selection,
    gold_rollups_selection,
    monthly_selection,
    reference_selection,
)
from bank_assets.partitions import partition_key, partition_range
from bank_assets.synthetic.months import month_label, month_range, parse_month

RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def parse_args(argv: list[str] | None) -> list[int]:
    first, last = partition_range()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--start", default=first, help=f"first month, YYYY-MM or YYYY-MM-DD (default {first})")
    p.add_argument("--end", default=None, help="last month, inclusive (default: --start)")
    p.add_argument("--all", action="store_true", help=f"the whole configured range {first}..{last}")
    args = p.parse_args(argv)
    start = parse_month(first if args.all else args.start)
    end = parse_month(last) if args.all else (parse_month(args.end) if args.end else start)
    lo, hi = parse_month(first), parse_month(last)
    if start < lo or end > hi:
        raise ValueError(
            f"{month_label(start)}..{month_label(end)} is outside the partitions {first}..{last} "
            f"(set BANK_FIRST_MONTH / BANK_LAST_MONTH to change them)"
        )
    return month_range(start, end)


def _materialize(instance: DagsterInstance, selection: AssetSelection, label: str, **kw) -> bool:
    t0 = time.perf_counter()
    result = materialize(
        all_assets, instance=instance, resources=defs.resources, selection=selection, raise_on_error=False, **kw
    )
    failed = sorted(
        {f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed}
    )
    status = "ok" if result.success else "FAILED"
    note = f" (checks not passed: {', '.join(failed)})" if failed else ""
    print(f"{label:<28} {status} in {time.perf_counter() - t0:5.1f}s{note}", flush=True)
    return result.success


def gold_steps(months: list[str]) -> list[tuple[AssetSelection, dict[str, str]]]:
    """Gold in dependency order: base models, the incremental months as ONE run (one dbt
    invocation over the whole window), then the roll-ups."""
    tags = {RANGE_TAGS[0]: partition_key(months[0]), RANGE_TAGS[1]: partition_key(months[-1])}
    return [(gold_base_selection, {}), (gold_incremental_selection, tags), (gold_rollups_selection, {})]


def main(argv: list[str] | None = None) -> int:
    try:
        months = parse_args(argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    instance = DagsterInstance.get()
    began = time.perf_counter()
    if not _materialize(instance, reference_selection, "reference tables"):
        return 1
    for i, m in enumerate(months, 1):
        label = f"[{i}/{len(months)}] {month_label(m)}"
        if not _materialize(instance, monthly_selection, label, partition_key=partition_key(month_label(m))):
            return 1
    for selection, tags in gold_steps([month_label(m) for m in months]):
        label = "gold " + (f"incremental {tags[RANGE_TAGS[0]][:7]}..{tags[RANGE_TAGS[1]][:7]}" if tags else "")
        if not _materialize(instance, selection, label.strip(), tags=tags):
            return 1
    print(f"done: {len(months)} months in {time.perf_counter() - began:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
