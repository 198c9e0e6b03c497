"""The Celery app the lakehouse's run workers serve (``celery -A bank_assets.lakehouse.celery_app worker``).

dagster-celery's ``CeleryRunLauncher`` (configured in the lakehouse ``dagster.yaml``) sends each
queued run to the broker as an ``execute_job`` task; a worker executes the whole run, with the
job's in-process executor, against the Dagster instance of its ``DAGSTER_HOME`` (PostgreSQL).
This module builds the same app as the launcher, from the same settings: BANK_CELERY_BROKER and
BANK_CELERY_BACKEND (Redis URLs).

Late acknowledgement with a prefetch of one: a worker takes a run only when it is free, so two
queued months go to two idle workers instead of queueing behind each other on one.
"""

from __future__ import annotations

import os

from dagster_celery.config import DEFAULT_CONFIG
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task

#: what the launcher (deploy/lakehouse/dagster.yaml, config_source) and the workers both use
CONFIG_SOURCE = {**DEFAULT_CONFIG, "task_acks_late": True, "worker_prefetch_multiplier": 1}

app = make_app(
    app_args={
        "broker": os.environ.get("BANK_CELERY_BROKER", "redis://127.0.0.1:6379/0"),
        "backend": os.environ.get("BANK_CELERY_BACKEND", "redis://127.0.0.1:6379/1"),
        "include": [],
        "config_source": CONFIG_SOURCE,
        "task_default_queue": "dagster",
    }
)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)
