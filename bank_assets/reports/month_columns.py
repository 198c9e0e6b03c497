"""Each table's month column, declared once: a gold model's is its dbt ``meta.partition_column``
(read from the manifest ``dbt parse`` writes), an analytics table's is ``as_of_month``
(``bank_assets.analytics.tables.ANALYTICS_MONTH_COLUMN``)."""

from __future__ import annotations

import json
from functools import cache

from bank_assets.analytics.tables import ANALYTICS_MONTH_COLUMN, TABLES
from bank_assets.settings import DBT_PROJECT_DIR


@cache
def gold_month_columns() -> dict[str, str]:
    """dbt model name -> its meta.partition_column."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    return {
        n["name"]: n["config"]["meta"]["partition_column"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "partition_column" in n["config"].get("meta", {})
    }


def month_column(table: str) -> str:
    """The month column of an analytics table or a dbt model (KeyError for any other name)."""
    return ANALYTICS_MONTH_COLUMN if table in TABLES else gold_month_columns()[table]
