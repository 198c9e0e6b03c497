"""The warehouse path dbt parses with, and where its partial-parse state is kept.

dbt re-parses the whole project (~6 s on this machine class, against ~1.5 s from its partial-parse
state) whenever the profile's connection settings differ from those the state was written with,
and the DuckDB ``path`` is one of them. A parse never opens the database: the only thing of the
path the parsed nodes hold is the database name dbt-duckdb derives from the file's name (``bank``
for ``.../bank.duckdb``), in their relation names. So the project parses with a stand-in path of
the same file name under ``dbt_models/target/parse/`` (never created), and one parse state serves
every warehouse file of that name: the one ``scripts/setup.sh`` writes serves the first run on the
default ``bank.duckdb``, wherever it lives; a test's or a copy's warehouse starts from the last
parse of its name. dbt itself still checks the state (project files, vars, env vars, the rest of
the profile) and parses again whatever changed. Runs connect with the real path, from the profile,
at every invocation.

Light on imports: ``scripts/setup.sh`` calls :func:`parse_warehouse` before anything is parsed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def parse_warehouse(warehouse: str, project_dir: str | Path) -> str:
    """The path dbt parses with for `warehouse`: same file name, under ``<project>/target/parse/``.
    Paths that are not plain files (``:memory:``, ``md:...``, URLs) are returned unchanged."""
    name = Path(warehouse).name
    if not warehouse or ":" in warehouse or not name:
        return warehouse
    return str(Path(project_dir).resolve() / "target" / "parse" / name)


def parse_cache(target_dir: Path, key: str) -> Path:
    """The partial-parse state kept for one parse key (a :func:`parse_warehouse` path, or the
    lakehouse catalog's identity) in the project's target folder."""
    return target_dir / f"partial_parse-{hashlib.sha1(key.encode()).hexdigest()[:12]}.msgpack"
