"""The one Definitions object of the bank_assets code location.

Every asset is partitioned by the same month and takes a range of months in one run
(``BackfillPolicy.single_run()``), so the UI's "Materialize all" over a range, ``dagster job
backfill``, ``dagster asset materialize --partition-range``, the schedule, the sensor and our
CLI all run the same steps and write the same tables.
"""

from __future__ import annotations

import warnings

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    define_asset_job,
    in_process_executor,
)

from bank_assets.assets.analytics import analytics_assets
from bank_assets.assets.bronze import bronze_assets
from bank_assets.assets.dbt_project import dbt_resource
from bank_assets.assets.gold import gold_assets
from bank_assets.assets.landing import landing_files
from bank_assets.assets.reports import report_assets
from bank_assets.assets.silver import silver_assets
from bank_assets.automation import (
    build_dead_run_sensor,
    build_landing_sensor,
    build_monthly_schedule,
    build_restatement_sensor,
)
from bank_assets.lakehouse.profile import is_lakehouse
from bank_assets.resources import default_resources
from bank_assets.settings import env

all_assets = [landing_files, *bronze_assets, *silver_assets, *gold_assets, *analytics_assets, *report_assets]

ingest_selection = AssetSelection.groups("landing", "bronze", "silver")
gold_selection = AssetSelection.groups("gold")
#: what declarative automation builds after silver: gold, then the analytics and reports downstream of it
automated_selection = AssetSelection.groups("gold", "analytics", "reports")

if is_lakehouse():
    # Expected there: landing..silver run a month per run, gold and reports a range per run. A job
    # backfill of monthly_pipeline runs a month per run (gold refuses a month before its previous
    # one: bank_assets.assets.gold.require_previous_month); asset backfills keep both policies.
    warnings.filterwarnings("ignore", message="Asset job monthly_pipeline materializes assets with varying")

monthly_job = define_asset_job(
    "monthly_pipeline",
    selection=AssetSelection.all(),
    description="A month (or a range of months, in one run) from landing files to the reports: "
    "landing -> bronze -> silver (checks per month) -> every dbt model and test -> dashboard and exports.",
)
ingest_job = define_asset_job(
    "ingest_monthly",
    selection=ingest_selection,
    description="Landing -> bronze -> silver for a month; gold follows by declarative automation "
    "(the gold_automation sensor) for exactly that month.",
)

# In-process: a run's steps share one process (no per-step interpreter start-up), and warehouse
# steps of parallel runs are serialized by the `duckdb_warehouse` pool (dagster_home/dagster.yaml).
defs = Definitions(
    assets=all_assets,
    jobs=[monthly_job, ingest_job],
    schedules=[build_monthly_schedule(monthly_job)],
    sensors=[
        build_landing_sensor(monthly_job),
        build_restatement_sensor(monthly_job),
        build_dead_run_sensor(),
        # runs by default (the implicit default_automation_condition_sensor starts STOPPED)
        AutomationConditionSensorDefinition(
            "gold_automation",
            target=automated_selection,
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=int(env("BANK_AUTOMATION_INTERVAL_S")),
            description="Builds gold for exactly the months whose silver changed, once, after silver, "
            "then the analytics and reports of those months after gold "
            "(see bank_assets.assets.gold_translator.GOLD_AUTOMATION).",
        ),
    ],
    resources={**default_resources(), "dbt": dbt_resource()},
    executor=in_process_executor,
)
