"""bulk-drf settings: flat ``BULK_DRF_*`` names read from ``django.conf.settings`` on every access.

Reading on access (django-allauth's pattern) means ``override_settings`` just works. ``DEFAULTS``
is the single list of settings; ``docs/settings.md`` documents each one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

__all__ = ["DEFAULTS", "bulk_settings"]

DEFAULTS: dict[str, Any] = {
    # Records a job processes (and commits) per transaction. Each chunk has a fixed cost (its bookkeeping
    # statements, the receivers' per-write work, a commit): at 1000 it was a third of an insert job's time.
    "CHUNK_SIZE": 5000,
    "MAX_RECORDS": 100_000,  # most records one request or job may carry (413 above it)
    "BATCH_SIZE": None,  # batch_size passed to bulk_create/bulk_update (None: Django's default)
    "SYNC_MAX_ITEMS": 1000,  # most items a synchronous array request may carry (413 above, pointing at /bulk/)
    "AUTO_ASYNC": False,  # answer an oversized sync request with a 202 job instead of a 413
    "MAX_IDS": 1000,  # most ids one ?ids= request may name
    "CACHE_ALIAS": "default",  # Django cache holding job progress counters (Redis in production)
    "CACHE_TIMEOUT": 86_400,  # seconds progress counters live in the cache
    "PROGRESS_UPDATE_INTERVAL": 500,  # records between two progress writes to the cache
    "RESULTS_TTL": 7 * 86_400,  # seconds a finished job's per-record results are kept
    "TASK_SOFT_TIME_LIMIT": None,  # seconds one run of bulk_drf.run_job works before re-queueing the job
    "STALE_AFTER": 600,  # seconds without a committed chunk before requeue_stalled_jobs queues a job again
    "MAX_UPLOAD_BYTES": 100 * 1024 * 1024,  # most bytes one job upload (request body) may carry (413 above)
    "MAX_JOB_BYTES": 512 * 1024 * 1024,  # most bytes all uploads of one job may carry together (413 above)
    "MAX_OPEN_JOBS": 20,  # most unfinished jobs one user may have (429 above); None: no limit
    "JOB_CREATE_RATE": "120/minute",  # default rate of the bulk_drf_jobs throttle scope; None: not throttled
    "OPEN_JOB_TTL": 86_400,  # seconds an Open job may sit without an upload before the purge aborts it
    "MAX_PARALLEL_CHUNKS": 4,  # chunks of one job queued or running at once on PostgreSQL (1: one after another)
    "EXPORT_PAGE_SIZE": 5000,  # rows a query (export) job reads, renders and stores per transaction
    "OPENTELEMETRY": True,  # spans and metrics of job runs, when opentelemetry-api is installed (bulk-drf[otel])
}


class BulkDRFSettings:
    """Typed access to the ``BULK_DRF_*`` settings; each property reads Django's settings now."""

    prefix = "BULK_DRF_"

    def _get(self, name: str) -> Any:
        return getattr(django_settings, self.prefix + name, DEFAULTS[name])

    @property
    def CHUNK_SIZE(self) -> int:  # upper case, as in settings.py
        return int(self._get("CHUNK_SIZE"))

    @property
    def MAX_RECORDS(self) -> int:
        return int(self._get("MAX_RECORDS"))

    @property
    def BATCH_SIZE(self) -> int | None:
        value = self._get("BATCH_SIZE")
        return None if value is None else int(value)

    @property
    def SYNC_MAX_ITEMS(self) -> int:
        return int(self._get("SYNC_MAX_ITEMS"))

    @property
    def AUTO_ASYNC(self) -> bool:
        return bool(self._get("AUTO_ASYNC"))

    @property
    def MAX_IDS(self) -> int:
        return int(self._get("MAX_IDS"))

    @property
    def CACHE_ALIAS(self) -> str:
        return str(self._get("CACHE_ALIAS"))

    @property
    def CACHE_TIMEOUT(self) -> int:
        return int(self._get("CACHE_TIMEOUT"))

    @property
    def PROGRESS_UPDATE_INTERVAL(self) -> int:
        return int(self._get("PROGRESS_UPDATE_INTERVAL"))

    @property
    def RESULTS_TTL(self) -> int:
        return int(self._get("RESULTS_TTL"))

    @property
    def TASK_SOFT_TIME_LIMIT(self) -> float | None:
        value = self._get("TASK_SOFT_TIME_LIMIT")
        return None if value is None else float(value)

    @property
    def STALE_AFTER(self) -> float:
        return float(self._get("STALE_AFTER"))

    @property
    def MAX_UPLOAD_BYTES(self) -> int:
        return int(self._get("MAX_UPLOAD_BYTES"))

    @property
    def MAX_JOB_BYTES(self) -> int:
        return int(self._get("MAX_JOB_BYTES"))

    @property
    def MAX_OPEN_JOBS(self) -> int | None:
        value = self._get("MAX_OPEN_JOBS")
        return None if value is None else int(value)

    @property
    def JOB_CREATE_RATE(self) -> str | None:
        value = self._get("JOB_CREATE_RATE")
        return None if value is None else str(value)

    @property
    def OPEN_JOB_TTL(self) -> int:
        return int(self._get("OPEN_JOB_TTL"))

    @property
    def MAX_PARALLEL_CHUNKS(self) -> int:
        return max(1, int(self._get("MAX_PARALLEL_CHUNKS")))

    @property
    def EXPORT_PAGE_SIZE(self) -> int:
        return int(self._get("EXPORT_PAGE_SIZE"))

    @property
    def OPENTELEMETRY(self) -> bool:
        return bool(self._get("OPENTELEMETRY"))


bulk_settings = BulkDRFSettings()
