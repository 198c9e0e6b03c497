"""Deterministic, vectorized synthetic bank (numpy for volume, Faker for pools). No Dagster here.

The names below load on first use (PEP 562): importing ``bank_assets.synthetic.months`` or
``.params`` (the partitions and resources do) does not import the generator, so a process that
reads a bank's own files never pays for it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: exported name -> the module of this package that defines it
_EXPORTS = {
    "Written": "generate",
    "build": "generate",
    "generate": "generate",
    "write_table": "generate",
    "SCALES": "params",
    "Behaviour": "params",
    "DefectRates": "params",
    "GeneratorConfig": "params",
    "Scale": "params",
    "World": "tables",
}
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
assert sorted(__all__) == sorted(_EXPORTS)

if TYPE_CHECKING:
    from bank_assets.synthetic.generate import Written, build, generate, write_table
    from bank_assets.synthetic.params import SCALES, Behaviour, DefectRates, GeneratorConfig, Scale
    from bank_assets.synthetic.tables import World


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
