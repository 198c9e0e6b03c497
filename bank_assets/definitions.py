"""The one Definitions object of the bank_assets code location."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    define_asset_job,
    in_process_executor,
)

from bank_assets.assets.bronze import bronze_assets
from bank_assets.assets.gold import dbt_resource, gold_assets, gold_base, gold_incremental, gold_rollups
from bank_assets.assets.landing import landing_monthly_files, landing_reference_files
from bank_assets.assets.silver import silver_assets
from bank_assets.automation import build_landing_sensor, build_monthly_schedule
from bank_assets.contracts import REFERENCE_TABLES
from bank_assets.resources import default_resources

all_assets = [landing_reference_files, landing_monthly_files, *bronze_assets, *silver_assets, *gold_assets]

#: Unpartitioned Python assets: reference tables (merchants, branches), landing -> silver.
reference_selection = AssetSelection.assets(
    *[[layer, t] for layer in ("landing", "bronze", "silver") for t in REFERENCE_TABLES]
)
gold_base_selection = AssetSelection.assets(gold_base)
gold_incremental_selection = AssetSelection.assets(gold_incremental)
gold_rollups_selection = AssetSelection.assets(gold_rollups)
gold_selection = AssetSelection.assets(*gold_assets)
#: Monthly Python assets: landing -> silver for one month.
monthly_selection = AssetSelection.all() - reference_selection - gold_selection

reference_job = define_asset_job(
    "reference_tables", selection=reference_selection, description="Merchants and branches, landing to silver."
)
monthly_job = define_asset_job(
    "monthly_pipeline",
    selection=monthly_selection,
    description="Months from landing files through silver. Gold follows by declarative automation "
    "(or run gold_monthly / gold_whole_history yourself).",
)
gold_monthly_job = define_asset_job(
    "gold_monthly",
    selection=gold_incremental_selection,
    description="Incremental dbt models; a backfill of any range runs as ONE dbt invocation.",
)
gold_job = define_asset_job(
    "gold_whole_history",
    selection=gold_base_selection | gold_rollups_selection,
    description="Dimensions, whole-history marts and roll-ups (unpartitioned dbt models).",
)

# In-process: a run's steps share one process (no per-step interpreter start-up), and warehouse
# steps of parallel runs are serialized by the `duckdb_warehouse` pool (dagster_home/dagster.yaml).
defs = Definitions(
    assets=all_assets,
    jobs=[reference_job, monthly_job, gold_monthly_job, gold_job],
    schedules=[build_monthly_schedule(monthly_job)],
    sensors=[
        build_landing_sensor(monthly_job),
        # runs by default (the implicit default_automation_condition_sensor starts STOPPED)
        AutomationConditionSensorDefinition(
            "gold_automation",
            target=AssetSelection.assets(*gold_assets),
            default_status=DefaultSensorStatus.RUNNING,
            description="Keeps the dbt gold assets up to date when silver changes (AutomationCondition.eager).",
        ),
    ],
    resources={**default_resources(), "dbt": dbt_resource()},
    executor=in_process_executor,
)
