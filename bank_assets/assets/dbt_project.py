"""The dbt project of gold (dbt_models/): its DbtProject, its parsed manifest and the dbt resource.

Nothing happens at import: :func:`prepared_manifest_path` (called where the gold assets are
defined) makes dbt findable, lets ``dagster dev`` re-parse, and fails clearly when the manifest
``scripts/setup.sh`` writes is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject

from bank_assets.assets.dbt_inprocess import InProcessDbtCliResource
from bank_assets.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepared_manifest_path() -> Path:
    """The manifest @dbt_assets reads. dbt lives beside this interpreter: it is put on PATH when
    the virtualenv is not activated (DbtProject.prepare_if_dev and run workers started by
    `dagster dev` look it up there); `dagster dev` re-parses, elsewhere setup.sh prepared it."""
    venv_bin = str(Path(sys.prefix) / "bin")
    if shutil.which("dbt") is None and (Path(venv_bin) / "dbt").exists():
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    dbt_project.prepare_if_dev()
    if not dbt_project.manifest_path.exists():
        raise FileNotFoundError(
            f"{dbt_project.manifest_path} is missing: prepare the dbt project first with "
            f"`bash scripts/setup.sh` (it runs `dbt parse` in dbt_models/)."
        )
    return dbt_project.manifest_path


@cache
def dbt_project_manifest() -> dict[str, Any]:
    """manifest.json as a dict (read once per process)."""
    return json.loads(Path(dbt_project.manifest_path).read_text())


def model_nodes() -> dict[str, dict[str, Any]]:
    """model name -> its manifest node."""
    return {n["name"]: n for n in dbt_project_manifest()["nodes"].values() if n["resource_type"] == "model"}


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment (works without an activated virtualenv)."""
    executable = shutil.which("dbt") or str(Path(sys.prefix) / "bin" / "dbt")
    return InProcessDbtCliResource(project_dir=dbt_project, dbt_executable=executable)
