"""The monthly partitions every asset shares: a month is the unit of landing, storage, compute,
checks, status and recovery.

Reference tables (merchants, branches) are monthly snapshots too (a month without its own file
carries the latest earlier one forward, see bank_assets.layout). Dependencies between layers are
identity mappings (month M of an asset depends on month M of its parents), although some assets
read earlier months too (a silver child's foreign keys, a gold model's
``meta.reads_months_before``): why, and how a restatement reaches later months instead, is in
docs/guarantees.md, Restatements.
"""

from __future__ import annotations

import datetime as dt

from dagster import MonthlyPartitionsDefinition, TimeWindowPartitionMapping

from bank_assets.settings import env
from bank_assets.synthetic.months import month_label, month_start, parse_month


def partition_range() -> tuple[str, str]:
    """First and last month (inclusive, YYYY-MM) from BANK_FIRST_MONTH / BANK_LAST_MONTH."""
    return month_label(parse_month(env("BANK_FIRST_MONTH"))), month_label(parse_month(env("BANK_LAST_MONTH")))


def _build() -> MonthlyPartitionsDefinition:
    first, last = partition_range()
    end = month_start(parse_month(last) + 1)  # end_date is exclusive
    return MonthlyPartitionsDefinition(start_date=f"{first}-01", end_date=end.isoformat())


monthly_partitions = _build()


def partition_month(key: str) -> dt.date:
    """'2024-03-01' (Dagster's key) or '2024-03' -> date(2024, 3, 1)."""
    return month_start(parse_month(key))


def partition_key(month: str) -> str:
    """'2024-03' or '2024-03-01' -> '2024-03-01', the key Dagster expects."""
    return f"{month_label(parse_month(month))}-01"


def months_back(n: int | None) -> TimeWindowPartitionMapping:
    """Month M depends on months M-n .. M of a parent (`n` None: every month up to M; the
    lakehouse's silver -> gold dependency). Months before the first partition are simply absent."""
    start = -len(monthly_partitions.get_partition_keys()) if n is None else -n
    return TimeWindowPartitionMapping(start_offset=start, end_offset=0, allow_nonexistent_upstream_partitions=True)
