"""Celery's ``app.autodiscover_tasks()`` imports ``<app>.tasks``: this module keeps that working (and the
documented ``bulk_drf.tasks.requeue_on_worker_ready``). The tasks live in ``bulk_drf.jobs.tasks``; their
names are unchanged (``bulk_drf.run_job``, ``bulk_drf.run_chunk``, ``bulk_drf.requeue_stalled_jobs``, ...)."""

from __future__ import annotations

from .jobs.tasks import (
    MAX_CONSECUTIVE_RETRIES,
    check_at_worker_start,
    purge_abandoned_jobs,
    purge_expired_results,
    requeue_on_worker_ready,
    requeue_stalled_jobs,
    run_bulk_job,
    run_bulk_job_chunk,
)

__all__ = [
    "MAX_CONSECUTIVE_RETRIES",
    "check_at_worker_start",
    "purge_abandoned_jobs",
    "purge_expired_results",
    "requeue_on_worker_ready",
    "requeue_stalled_jobs",
    "run_bulk_job",
    "run_bulk_job_chunk",
]
