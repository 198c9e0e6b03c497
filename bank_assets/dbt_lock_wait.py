"""A dbt-duckdb plugin (``dbt_models/profiles.yml``, ``plugins``): before every connection dbt
opens, wait for the warehouse's write lock the way our own connections do
(:func:`bank_assets.warehouse.connection.wait_for_warehouse`), up to ``timeout_s``.

dbt imports this module when it loads the profile, in our process or a dbt subprocess.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

from bank_assets.warehouse.connection import wait_for_warehouse

logger = AdapterLogger("DuckDB")


class Plugin(BasePlugin):
    """Wait for the warehouse's write lock before each connect."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.timeout_s = float(plugin_config.get("timeout_s", 900))

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        waited = wait_for_warehouse(str(creds.path), self.timeout_s, logger.warning)
        if waited > 1:
            logger.warning(f"warehouse {creds.path} is free after {waited:.0f}s; connecting")
