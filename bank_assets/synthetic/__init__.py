"""Deterministic, vectorized synthetic bank (numpy for volume, Faker for pools). No Dagster here."""

from bank_assets.synthetic.generate import Written, build, generate, write_table
from bank_assets.synthetic.params import SCALES, Behaviour, DefectRates, GeneratorConfig, Scale
from bank_assets.synthetic.tables import World

__all__ = [
    "SCALES",
    "Behaviour",
    "DefectRates",
    "GeneratorConfig",
    "Scale",
    "World",
    "Written",
    "build",
    "generate",
    "write_table",
]
