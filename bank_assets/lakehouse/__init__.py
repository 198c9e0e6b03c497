"""The lakehouse profile: DuckLake on PostgreSQL and object storage, and the Celery app of its workers."""
