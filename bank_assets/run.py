"""Run the main job for a range of months, in-process: python -m bank_assets.run --start 2024-01 --end 2025-12.

Materializes the whole graph (reference tables once, then each month) against the Dagster
instance in DAGSTER_HOME, so `dagster dev` afterwards shows the history and check results.
"""

from __future__ import annotations

import argparse
import sys
import time

from dagster import AssetSelection, DagsterInstance, materialize

from bank_assets.definitions import all_assets, defs
from bank_assets.partitions import partition_key, partition_range
from bank_assets.synthetic.months import month_label, month_range, parse_month


def main(argv: list[str] | None = None) -> int:
    first, last = partition_range()
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--start", default=first, help=f"first month YYYY-MM or YYYY-MM-DD (default {first})")
    p.add_argument("--end", default=None, help=f"last month, inclusive (default: --start, or {last} with --all)")
    p.add_argument("--all", action="store_true", help=f"the whole default range {first}..{last}")
    args = p.parse_args(argv)
    try:
        start = parse_month(args.start)
        end = parse_month(args.end) if args.end else (parse_month(last) if args.all else start)
        months = month_range(start, end)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    keys = set(defs.resolve_asset_graph().get_all_asset_keys())
    partitioned = AssetSelection.all() - AssetSelection.assets(*[k for k in keys if not _is_partitioned(k)])
    instance = DagsterInstance.get()
    began = time.perf_counter()
    result = materialize(
        all_assets,
        instance=instance,
        resources=defs.resources,
        selection=AssetSelection.all() - partitioned,
        raise_on_error=False,
    )
    if not result.success:
        print("reference tables failed; see the log above", file=sys.stderr)
        return 1
    for i, m in enumerate(months, 1):
        t0 = time.perf_counter()
        result = materialize(
            all_assets,
            instance=instance,
            resources=defs.resources,
            selection=partitioned,
            partition_key=partition_key(month_label(m)),
            raise_on_error=False,
        )
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        status = "ok" if result.success else "FAILED"
        print(
            f"[{i}/{len(months)}] {month_label(m)} {status} in {time.perf_counter() - t0:.1f}s"
            + (f" (checks not passed: {', '.join(sorted(set(failed)))})" if failed else ""),
            flush=True,
        )
        if not result.success:
            return 1
    print(f"done: {len(months)} months in {time.perf_counter() - began:.0f}s")
    return 0


def _is_partitioned(asset_key) -> bool:
    return defs.resolve_asset_graph().get(asset_key).partitions_def is not None


if __name__ == "__main__":
    raise SystemExit(main())
