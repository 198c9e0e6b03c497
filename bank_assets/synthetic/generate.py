"""Public entry points: generate landing files for months and reference tables."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from bank_assets.contracts import CONTRACTS, TABLES
from bank_assets.layout import landing_file
from bank_assets.source_profile import SourceProfile, TableSource
from bank_assets.synthetic.defects import inject
from bank_assets.synthetic.months import month_label
from bank_assets.synthetic.params import GeneratorConfig
from bank_assets.synthetic.tables import World
from bank_assets.synthetic.writer import write_csv, write_manifest

STREAM_DEFECTS = 51
#: Tables that receive defects; fx rates and reference data come from curated feeds.
DEFECT_TABLES = (
    "customers",
    "accounts",
    "transactions",
    "loans",
    "loan_payments",
    "credit_applications",
    "fraud_alerts",
    "account_events",
    "campaign_targets",
    "customer_interactions",
)


@dataclass(frozen=True)
class Written:
    table: str
    month: str
    path: Path
    rows: int
    clean_rows: int
    defects: dict[str, int]


def build(world: World, table: str, m: int) -> tuple[pa.Table, int, dict[str, int]]:
    """The landing table as it will be written: clean rows plus injected defects."""
    cfg = world.cfg
    clean = world.table(table, m)
    if table not in DEFECT_TABLES:
        return clean, clean.num_rows, {}
    rng = np.random.default_rng([cfg.seed, STREAM_DEFECTS, zlib.crc32(table.encode()), m])
    dirty, counts = inject(clean, CONTRACTS[table], cfg.defects, rng)
    return dirty, clean.num_rows, counts


def write_table(world: World, table: str, m: int, out: Path) -> Written:
    cfg = world.cfg
    label = month_label(m)
    path = landing_file(out, table, label)
    data, clean_rows, counts = build(world, table, m)
    write_csv(data, path)
    write_manifest(
        path,
        {
            "table": table,
            "month": label,
            "seed": cfg.seed,
            "scale": cfg.scale,
            "locale": cfg.locale,
            "rows": data.num_rows,
            "clean_rows": clean_rows,
            "defect_rates": cfg.defects.as_dict() if table in DEFECT_TABLES else {},
            "defects": counts,
        },
    )
    return Written(table, label, path, data.num_rows, clean_rows, counts)


def generate(
    cfg: GeneratorConfig,
    months: Iterable[int],
    out: Path,
    tables: Iterable[str] | None = None,
    on_file: Callable[[Written], None] | None = None,
    profile: SourceProfile | None = None,
) -> list[Written]:
    """Write the landing zone for `months` under `out`: every table, reference snapshots included,
    in the built-in dialect or as `profile` declares (bank_assets.synthetic.dialect)."""
    wanted = list(tables) if tables is not None else TABLES
    unknown = set(wanted) - set(CONTRACTS)
    if unknown:
        raise ValueError(f"unknown tables: {sorted(unknown)}; known: {sorted(CONTRACTS)}")
    world = World(cfg)
    written: list[Written] = []

    def emit(w: Written) -> None:
        written.append(w)
        if on_file:
            on_file(w)

    for m in months:
        for t in wanted:
            emit(write_for(world, t, m, Path(out), profile.table(t) if profile is not None else None))
    return written


def write_for(world: World, table: str, m: int, out: Path, source: TableSource | None = None) -> Written:
    """Write `table` for month `m`: in the built-in dialect, or as a profile's `source` declares."""
    if source is None or source.is_default_csv:
        return write_table(world, table, m, out)
    from bank_assets.synthetic.dialect import write_in_profile  # imports this module

    paths, rows, clean_rows, defects = write_in_profile(world, table, m, out, source)
    return Written(table, month_label(m), paths[0], rows, clean_rows, defects)
