"""Warehouse operations in plain DuckDB SQL, derived from the contracts. No Dagster imports."""
