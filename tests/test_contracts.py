"""The contracts are coherent, and every landing file matches its contract."""

from __future__ import annotations

import csv

from bank_assets.contracts import CONTRACTS, SQL_TYPES
from bank_assets.layout import landing_file


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
