"""The contracts are coherent, and every landing file matches its contract."""

from __future__ import annotations

import csv
import json

import pytest

from bank_assets.contracts import CONTRACTS, SQL_TYPES
from bank_assets.layout import landing_file
from bank_assets.settings import DBT_PROJECT_DIR


def test_every_contract_is_coherent():
    for name, c in CONTRACTS.items():
        names = c.column_names
        assert len(names) == len(set(names)), f"{name}: duplicate column"
        assert set(c.key) <= set(names), f"{name}: key not in columns"
        for col in c.columns:
            assert col.type in SQL_TYPES
            if col.references:
                table, column = col.references.split(".")
                assert column in CONTRACTS[table].column_names, f"{name}.{col.name} -> {col.references}"
        if c.carries_forward:
            assert c.event_column is None, f"{name}: reference snapshots have no event column"
        else:
            assert c.event_column in names, f"{name}: event tables need an event column"
        if c.money_columns:
            assert all(m.sql_type == "DECIMAL(18,2)" for m in c.money_columns), "money is DECIMAL(18,2)"


def test_pii_is_declared_for_people_data():
    assert set(CONTRACTS["customers"].pii_columns) >= {"first_name", "last_name", "email", "national_id", "phone"}


def test_landing_headers_match_contracts(dirty_landing):
    for name, c in CONTRACTS.items():
        path = landing_file(dirty_landing, name, "2024-01")
        with path.open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        assert header == c.column_names, name


def _manifest() -> dict:
    return json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))


def test_dbt_sources_flag_exactly_the_contracts_pii_columns():
    """PII is declared in contracts.py; the silver sources' meta.pii (what dbt docs show) agrees."""
    flagged: dict[str, set[str]] = {}
    for node in _manifest()["sources"].values():
        if node["source_name"] == "silver" and node["name"] in CONTRACTS:
            flagged[node["name"]] = {c for c, col in node["columns"].items() if col.get("meta", {}).get("pii")}
    assert set(flagged) == set(CONTRACTS)
    for name, contract in CONTRACTS.items():
        assert flagged[name] == set(contract.pii_columns), name


#: gold columns whose values gold computes (no contract column declares them)
COMPUTED_IN_GOLD = {
    ("churn_risk", "risk_band"),
    ("fct_loan_payments", "delinquency_bucket"),
    ("dim_product", "product_family"),
    ("fct_fraud_alerts", "status_at_month_end"),
    ("velocity_alerts_daily", "rule"),
    ("fraud_alert_ageing", "age_bucket"),
    ("aml_alerts", "typology"),
    ("ifrs9_loan_stage_monthly", "stage"),
}
#: gold columns that carry a contract column under another name
RENAMED = {"product_a": "product", "product_b": "product"}


def test_dbt_accepted_values_are_the_contracts():
    """Every accepted-values rule of a gold model lists the values a contract accepts for that
    column (for a column several tables carry, e.g. `product`, one table's list or all of them
    together), unless gold computes the column itself (COMPUTED_IN_GOLD)."""
    declared: dict[str, list[frozenset[str]]] = {}
    for contract in CONTRACTS.values():
        for col in contract.columns:
            if col.accepted:
                declared.setdefault(col.name, []).append(frozenset(col.accepted))
    seen = 0
    for node in _manifest()["nodes"].values():
        if node["resource_type"] != "test" or node.get("test_metadata", {}).get("name") != "row_rules":
            continue
        model = node["attached_node"].split(".")[-1]
        for rule in node["test_metadata"]["kwargs"]["rules"]:
            if "accepted_values" not in rule:
                continue
            seen += 1
            column, values = rule["column"], frozenset(rule["accepted_values"])
            if (model, column) in COMPUTED_IN_GOLD:
                continue
            options = declared.get(RENAMED.get(column, column), [])
            assert values in options or values == frozenset().union(*options), (model, column, sorted(values))
    assert seen >= 20


def test_identity_rule_is_warn_by_default_and_blocks_when_set_to_error(monkeypatch):
    from bank_assets.warehouse.audit import masked, rule_specs

    rule = {s.name: s for s in rule_specs(CONTRACTS["customers"])}["identity_stable"]
    assert (rule.severity, rule.blocking) == ("WARN", False)
    monkeypatch.setenv("BANK_IDENTITY_CHANGE_SEVERITY", "error")
    rule = {s.name: s for s in rule_specs(CONTRACTS["customers"])}["identity_stable"]
    assert (rule.severity, rule.blocking) == ("ERROR", True)
    monkeypatch.setenv("BANK_IDENTITY_CHANGE_SEVERITY", "LOUD")
    with pytest.raises(ValueError, match="BANK_IDENTITY_CHANGE_SEVERITY"):
        rule_specs(CONTRACTS["customers"])
    assert "identity_stable" not in {s.name for s in rule_specs(CONTRACTS["accounts"])}
    assert masked("C0000000005") == "C0*******05"
