"""How dagster-dbt sees the gold models: asset keys, group, owners, monthly partitions and
checks, the automation condition, and the lakehouse's silver -> gold month dependency."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey, AutomationCondition, MetadataValue, PartitionMapping
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from bank_assets.assets import gold_checks
from bank_assets.assets.common import OWNER, partitioned_check_spec
from bank_assets.lakehouse.profile import is_lakehouse
from bank_assets.partitions import months_back

#: every month up to the partition's own (the lakehouse profile's silver -> gold dependency)
SILVER_HISTORY = months_back(None)


#: Gold follows its parents on its own, month by month: a partition is requested when a parent's
#: partition was updated (by a run that did not already build it), once no parent partition is
#: missing or in progress and it is not in progress itself. Unlike eager(), any month qualifies,
#: not only the latest, and a month whose silver was never loaded is never requested.
GOLD_AUTOMATION = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_missing()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after parents, month by month")


class BankDbtTranslator(DagsterDbtTranslator):
    """Gold group, one owner, dbt + duckdb kinds; sources map to silver assets via their meta;
    every model and test is monthly (checks are recorded on their month)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "gold"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), "dagster/kind/duckdb": ""}

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """dagster-dbt's metadata plus ``partition_expr``, the model's month column
        (``meta.partition_column``): dagster-duckdb's IO manager filters on it when a Python
        asset loads a month of this table (the reports group, bank_assets.resources.GoldTableReader)."""
        column = (dbt_resource_props.get("config", {}).get("meta") or {}).get("partition_column")
        return {**super().get_metadata(dbt_resource_props), **({"partition_expr": column} if column else {})}

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> AutomationCondition | None:
        return GOLD_AUTOMATION

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> PartitionMapping | None:
        """Month M of a model depends on month M of its parents (identity), although some read
        earlier months (``meta.reads_months_before``: documented there, followed by the CLI after a
        restatement). Declared as Dagster mappings, a UI backfill of months 1-3 targets months 4+
        of every model downstream (Dagster builds a backfill's target by walking the mappings from
        its roots) and fails on months with no silver: see docs/guarantees.md, Restatements.

        On the lakehouse profile a gold month depends on silver of every month up to it: the
        lakehouse loads months of silver side by side, so a backfill requests gold for a month only
        once silver of every earlier month it targets is in (gold runs queue oldest month first,
        and the `gold_months` pool runs them one at a time, in that order)."""
        if is_lakehouse() and dbt_parent_resource_props.get("resource_type") == "source":
            return SILVER_HISTORY
        return super().get_partition_mapping(dbt_resource_props, dbt_parent_resource_props)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: ["silver", t]
        return AssetKey(["gold", dbt_resource_props["name"]])

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):  # type: ignore[override]
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        test = manifest["nodes"][unique_id]
        description, metadata = spec.description, dict(spec.metadata or {})
        if gold_checks.is_row_rules(test):
            description = gold_checks.describe(test, spec.asset_key.path[-1])
            metadata["rules"] = MetadataValue.json(gold_checks.declared_rules(test))
        elif not description:
            description = gold_checks.leading_comment(test.get("raw_code") or "")
        return partitioned_check_spec(
            spec.name, spec.asset_key, description, spec.blocking, spec.additional_deps, metadata
        )


translator = BankDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=False))
