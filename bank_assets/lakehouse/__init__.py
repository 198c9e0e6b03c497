"""The lakehouse profile (DuckLake on PostgreSQL and object storage) and its one-machine stack."""
