"""Inject realistic data defects into a clean landing table, driven by its contract.

Which defect applies where follows from the column types: dates get malformed dates, money
gets non-numeric and negative values, currency codes get unknown codes, the first foreign key
gets orphans, codes and emails get stray whitespace and mixed case. In-place defects hit
disjoint rows; duplicates and re-sent rows are appended copies of untouched rows (a re-send
comes after the original, with one value changed).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bank_assets.contracts import CURRENCIES, Contract
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.params import DefectRates

BAD_DATES = np.array(["2024-02-30", "31/01/2024", "2024-13-01", "N/A"], dtype=object)
BAD_TIMESTAMPS = np.array(["2024-02-30 10:00:00", "31/01/2024 10:00", "2024-13-01T25:00", "N/A"], dtype=object)
BAD_NUMBERS = np.array(["N/A", "12.3.4", "1O0.00", "abc"], dtype=object)
BAD_CURRENCIES = np.array(["XXX", "SOL", "US$", "PES"], dtype=object)
MONTHLY_PARENTS = ("customers", "accounts", "loans")


def applicable(contract: Contract) -> dict[str, list[str]]:
    """Defect name -> the columns it may hit in this contract (empty: not applicable)."""
    cols = contract.columns
    fk = [c.name for c in contract.foreign_keys if c.references.split(".")[0] in MONTHLY_PARENTS]
    return {
        "null_required": [c.name for c in contract.required_columns],
        "malformed_date": [c.name for c in cols if c.type in ("date", "timestamp") and c.required],
        "non_numeric_amount": [c.name for c in cols if c.type == "money" and c.required],
        "negative_amount": [c.name for c in cols if c.type == "money" and c.nonnegative and c.required],
        "unknown_currency": [c.name for c in cols if c.accepted == CURRENCIES],
        "orphan_fk": fk[:1],
        "whitespace_case": [c.name for c in cols if c.type in ("code", "email") and c.name not in contract.key],
    }


def _resend_column(contract: Contract) -> str:
    money = [c.name for c in contract.columns if c.type == "money" and c.required]
    if money:
        return money[-1]
    text = [c.name for c in contract.columns if c.type == "text" and not c.required]
    return text[0] if text else contract.columns[-1].name


def _scatter(col: pa.Array, edits: list[tuple[np.ndarray, pa.Array]]) -> pa.ChunkedArray:
    """col with col[idx] replaced by values for every (idx, values) edit.

    Built from zero-copy slices of the clean column: ~5x faster than replace_with_mask, and
    the CSV writer streams the chunks as they are.
    """
    idx = np.concatenate([e[0] for e in edits])
    values = pa.concat_arrays([e[1].cast(pa.string()) for e in edits])
    order = np.argsort(idx, kind="stable")
    idx = idx[order]
    values = values.take(pa.array(order))
    parts, prev = [], 0
    for j, i in enumerate(idx.tolist()):
        parts.append(col.slice(prev, i - prev))
        parts.append(values.slice(j, 1))
        prev = i + 1
    parts.append(col.slice(prev))
    return pa.chunked_array(parts, type=pa.string())


def _single_chunk(col: pa.ChunkedArray) -> pa.Array:
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _pick(rng: np.random.Generator, choices: np.ndarray, n: int) -> pa.Array:
    return pa.array(choices[rng.integers(0, len(choices), n)], pa.string())


def _changed(contract: Contract, column: str, values: pa.Array, rng: np.random.Generator) -> pa.Array:
    if contract.column(column).type == "money":
        cents = np.round(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False) * 100)
        return af.decimals((cents * rng.uniform(1.05, 1.5, len(cents))).astype(np.int64), 2)
    return pc.binary_join_element_wise(values, "-R", "")


def inject(
    table: pa.Table, contract: Contract, rates: DefectRates, rng: np.random.Generator
) -> tuple[pa.Table, dict[str, int]]:
    """Return the defective table and the count of each defect injected."""
    n = table.num_rows
    where = applicable(contract)
    counts: dict[str, int] = {}
    perm = rng.permutation(n)
    used = 0
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        name: _single_chunk(table.column(name)) for name in table.column_names
    }
    edits: dict[str, list[tuple[np.ndarray, pa.Array]]] = {}
    for defect, targets in where.items():
        rate = getattr(rates, defect)
        k = int(rng.binomial(n, rate)) if targets and rate > 0 else 0
        k = min(k, n - used)
        counts[defect] = k
        if k == 0:
            continue
        rows = perm[used : used + k]
        used += k
        target = np.array(targets)[rng.integers(0, len(targets), k)]
        for name in np.unique(target):
            idx = np.sort(rows[target == name])
            col = cols[name]
            current = pc.take(col, pa.array(idx))
            kind = contract.column(name).type
            if defect == "null_required":
                new = pa.array([""] * len(idx), pa.string())
            elif defect == "malformed_date":
                new = _pick(rng, BAD_TIMESTAMPS if kind == "timestamp" else BAD_DATES, len(idx))
            elif defect == "non_numeric_amount":
                new = _pick(rng, BAD_NUMBERS, len(idx))
            elif defect == "negative_amount":
                new = pc.binary_join_element_wise("-", current, "")
            elif defect == "unknown_currency":
                new = _pick(rng, BAD_CURRENCIES, len(idx))
            elif defect == "orphan_fk":
                new = pc.utf8_replace_slice(current, 1, 5, "9999")
            else:  # whitespace_case
                cased = pc.utf8_upper(current) if kind == "email" else pc.utf8_capitalize(pc.utf8_lower(current))
                new = pc.binary_join_element_wise(" ", cased, "  ", "")
            edits.setdefault(name, []).append((idx, new))
    for name, changes in edits.items():
        cols[name] = _scatter(cols[name], changes)
    out = pa.table(cols)

    untouched = perm[used:]
    appended = []
    for defect in ("duplicate_exact", "resent_changed"):
        rate = getattr(rates, defect)
        k = min(int(rng.binomial(n, rate)) if rate > 0 else 0, len(untouched))
        counts[defect] = k
        if k == 0:
            continue
        src = np.sort(rng.choice(untouched, k, replace=False))
        copy = out.take(pa.array(src))
        if defect == "resent_changed":
            name = _resend_column(contract)
            i = copy.column_names.index(name)
            copy = copy.set_column(i, name, _changed(contract, name, copy.column(name).combine_chunks(), rng))
        appended.append(copy)
    if appended:
        extra = pa.concat_tables(appended)
        extra = extra.take(pa.array(rng.permutation(extra.num_rows)))
        out = pa.concat_tables([out, extra])
    out = out.combine_chunks()  # one chunk per column: the CSV writer is much faster on it
    return out, counts
