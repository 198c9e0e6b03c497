"""Statistical analytics over gold, as pure functions of pandas DataFrames.

Each module answers questions of one category (causal, diagnostic, inferential, predictive,
prescriptive) with a well-kept library (statsmodels, scipy, scikit-learn); the Dagster assets in
``bank_assets.assets.analytics`` feed them gold tables and write their results back to the
``analytics`` schema through dagster-duckdb-pandas. Money is integer PEN cents (``*_cents``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from bank_assets.analytics.estimable import Note, with_notes

DATE = "datetime64[ns]"  # month columns: DuckDB TIMESTAMP_NS, filtered >= DATE 'first' AND < DATE 'next'


def frame(
    rows: Iterable[Mapping] | pd.DataFrame, schema: Mapping[str, str], notes: Iterable[Note] = ()
) -> pd.DataFrame:
    """`rows` as a DataFrame with exactly `schema`'s columns and dtypes, also when empty: the
    analytics writer creates a table from the first month it sees, empty or not. `notes` say what
    could not be estimated and why (``bank_assets.analytics.estimable``)."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=list(schema))
    df = df.reindex(columns=list(schema))
    out = df.astype(dict(schema)) if len(df) else pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})
    out.attrs = {}
    return with_notes(out, notes)


def cents_half_away(pen: np.ndarray | pd.Series) -> np.ndarray:
    """PEN amounts as integer cents, rounded half away from zero (the project's one rounding rule)."""
    x = np.asarray(pen, dtype=float) * 100
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)
