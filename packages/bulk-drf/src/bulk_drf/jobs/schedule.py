"""``beat_schedule()``: the celery beat entries the job layer needs, to merge into ``CELERY_BEAT_SCHEDULE``.

::

    # settings.py
    from bulk_drf.jobs.schedule import beat_schedule
    CELERY_BEAT_SCHEDULE = {**beat_schedule(), ...your entries...}

and run ``celery -A project beat`` (or a worker with ``-B``) next to the workers. The entries:

- ``bulk-drf-requeue-stalled-jobs``, every ``requeue_every`` seconds (60): the reaper. A job with no
  committed chunk for ``BULK_DRF_STALE_AFTER`` seconds is queued again; it resumes at its cursor, and a
  second delivery of a job still running waits on the job row's lock and skips, so a false alarm only
  costs one message.
- ``bulk-drf-purge-expired-results``, every ``purge_every`` seconds (3600): results and data of jobs
  finished more than ``BULK_DRF_RESULTS_TTL`` ago.
- ``bulk-drf-purge-abandoned-jobs``, every ``purge_every`` seconds: Open jobs idle past
  ``BULK_DRF_OPEN_JOB_TTL`` are aborted and their data deleted.
"""

from __future__ import annotations

from typing import Any

__all__ = ["beat_schedule"]


def beat_schedule(*, requeue_every: float = 60, purge_every: float = 3600) -> dict[str, dict[str, Any]]:
    """The job layer's periodic tasks as celery beat entries (intervals in seconds)."""
    return {
        "bulk-drf-requeue-stalled-jobs": {"task": "bulk_drf.requeue_stalled_jobs", "schedule": float(requeue_every)},
        "bulk-drf-purge-expired-results": {"task": "bulk_drf.purge_expired_results", "schedule": float(purge_every)},
        "bulk-drf-purge-abandoned-jobs": {"task": "bulk_drf.purge_abandoned_jobs", "schedule": float(purge_every)},
    }
