"""The project's Celery app -- the only ``Celery()`` in the repository (bulk_drf uses ``@shared_task``).

Run a worker with ``celery -A project worker -Q bulk-integration`` from ``tests-integration/``, and
celery beat (``celery -A project beat``, or ``-B`` on one worker) for the reaper and the purges of
``bulk_drf.schedule.beat_schedule()`` (settings.py). A starting worker requeues stalled jobs by itself:
``bulk_drf.tasks.requeue_on_worker_ready`` (jobs idle for ``BULK_DRF_STALE_AFTER`` seconds).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["bulk_drf"])
