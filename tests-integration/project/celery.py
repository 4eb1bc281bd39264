"""The project's Celery app -- the only ``Celery()`` in the repository (bulk_drf uses ``@shared_task``).

Run a worker with ``celery -A project worker -Q bulk-integration`` from ``tests-integration/``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["bulk_drf"])


@worker_ready.connect
def requeue_jobs_lost_with_a_dead_worker(sender: Any = None, **kwargs: Any) -> None:
    """On the filesystem broker a killed worker's unacknowledged message is gone: requeue stalled jobs.

    Redis keeps it and redelivers after ``visibility_timeout``, so this runs for the embedded broker only.
    """
    if not app.conf.broker_url.startswith("filesystem"):
        return
    from bulk_drf.processing import requeue_stalled_jobs

    stale_after = float(os.environ.get("BULK_STALE_AFTER", 60))
    requeued = requeue_stalled_jobs(timedelta(seconds=stale_after))
    if requeued:
        print(f"requeued stalled bulk jobs: {', '.join(requeued)}", flush=True)
