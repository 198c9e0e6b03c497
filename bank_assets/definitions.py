"""The one Definitions object of the bank_assets code location."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from bank_assets.assets.bronze import bronze_assets
from bank_assets.assets.landing import landing_monthly_files, landing_reference_files
from bank_assets.assets.silver import silver_assets
from bank_assets.resources import default_resources

all_assets = [landing_reference_files, landing_monthly_files, *bronze_assets, *silver_assets]

monthly_job = define_asset_job(
    "monthly_pipeline",
    selection=AssetSelection.all(),
    description="One month from landing files through silver (reference tables included).",
)

defs = Definitions(assets=all_assets, jobs=[monthly_job], resources=default_resources())
