"""Dagster resources: the DuckDB warehouse and the landing zone, configured from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource, EnvVar

from bank_assets.settings import DEFAULTS, resolve
from bank_assets.synthetic.params import DefectRates, GeneratorConfig, Scale
from bank_assets.warehouse.connection import connect


def env_or_default(name: str) -> str | EnvVar:
    """EnvVar when the variable is set (shown as such in the UI), else the documented default."""
    return EnvVar(name) if os.environ.get(name) else DEFAULTS[name]


class Warehouse(ConfigurableResource):
    """The DuckDB file every bronze/silver/gold asset writes (one writer at a time)."""

    path: str
    lock_timeout_s: float = 900.0

    @property
    def resolved_path(self) -> str:
        return resolve(self.path)

    @contextmanager
    def connect(
        self, log: Callable[[str], None] | None = None, read_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.resolved_path, read_only=read_only, timeout_s=self.lock_timeout_s, log=log) as con:
            yield con


class LandingZone(ConfigurableResource):
    """Where landing files live, and whether the synthetic generator writes them.

    mode "generate" (default): landing assets run the generator with seed/scale/defect settings.
    mode "files": landing assets only verify and describe the files you dropped there.
    """

    root: str
    mode: str = "generate"
    seed: int = 42
    scale: str = "small"
    customers: int = 0  # explicit customer count (0 = the scale's)
    defect_scale: float = 1.0  # multiplies every defect rate; 0 = clean files

    @property
    def resolved_root(self) -> str:
        return resolve(self.root)

    def generator_config(self) -> GeneratorConfig:
        scale = Scale.named(self.scale)
        if self.customers:
            scale = Scale(
                customers=self.customers, merchants=scale.merchants, purchases_per_customer=scale.purchases_per_customer
            )
        return GeneratorConfig(seed=self.seed, scale=scale, defects=DefectRates().scaled(self.defect_scale))


def default_resources() -> dict[str, object]:
    return {
        "warehouse": Warehouse(path=env_or_default("BANK_WAREHOUSE")),
        "landing": LandingZone(
            root=env_or_default("BANK_LANDING_DIR"),
            mode=env_or_default("BANK_LANDING_MODE"),
            seed=int(os.environ.get("BANK_SEED", "42")),
            scale=os.environ.get("BANK_SCALE", "small"),
            defect_scale=float(os.environ.get("BANK_DEFECT_SCALE", "1.0")),
        ),
    }
