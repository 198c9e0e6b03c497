"""Month arithmetic. A month is an int: year * 12 + (month - 1)."""

from __future__ import annotations

import datetime as dt

import numpy as np


def parse_month(text: str) -> int:
    """'2024-01' or '2024-01-01' -> month int. Raises ValueError naming the bad value."""
    try:
        parts = text.strip().split("-")
        year, month = int(parts[0]), int(parts[1])
        if len(parts) not in (2, 3) or not 1 <= month <= 12:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"not a month: {text!r} (expected YYYY-MM or YYYY-MM-DD)") from None
    return year * 12 + month - 1


def month_label(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def month_start(m: int) -> dt.date:
    return dt.date(m // 12, m % 12 + 1, 1)


def days_in_month(m: int) -> int:
    return (month_start(m + 1) - month_start(m)).days


def month_range(start: int, end: int) -> list[int]:
    """Inclusive range of months."""
    if end < start:
        raise ValueError(f"end {month_label(end)} is before start {month_label(start)}")
    return list(range(start, end + 1))


def month_start_days(months: np.ndarray) -> np.ndarray:
    """Vectorized: month ints -> day numbers of their first day."""
    years = months // 12
    mons = months % 12
    d = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + mons.astype("timedelta64[M]")
    return d.astype("datetime64[D]").astype(np.int64)
