"""Job status in the Django cache (``BULK_DRF_CACHE_ALIAS``), so polling a running job reads no table.

The cache holds the job's whole status document (what ``GET /api/bulk-jobs/{id}/`` answers) plus the
owner's id for the permission check. Transitions rewrite it; the worker refreshes the counters at
most every ``BULK_DRF_PROGRESS_UPDATE_INTERVAL`` records. The database stays the source of truth: a
missing entry (flushed Redis, expired) is rebuilt from the job row on the next poll.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.cache import caches

from .conf import bulk_settings
from .states import FINAL_STATES

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

    from .models import BulkJob

__all__ = ["cache_key", "forget", "get_status", "publish_progress", "publish_status", "status_document"]


def _cache() -> BaseCache:
    return caches[bulk_settings.CACHE_ALIAS]


def cache_key(job_id: Any) -> str:
    """The cache key of a job's status document."""
    return f"bulk_drf:job:{job_id}"


def status_document(job: BulkJob) -> dict[str, Any]:
    """The job's status as the API shows it (plus ``owner``, used for the permission check)."""
    from .serializers import BulkJobSerializer

    return dict(BulkJobSerializer(job).data)


def publish_status(job: BulkJob) -> dict[str, Any]:
    """Write the job's full status document to the cache and return it."""
    document = status_document(job)
    _cache().set(cache_key(job.pk), document, bulk_settings.CACHE_TIMEOUT)
    return document


def publish_progress(job: BulkJob) -> None:
    """Refresh the counters of a running job's cached status (a final state already cached wins)."""
    cache = _cache()
    key = cache_key(job.pk)
    document = cache.get(key)
    if document is None:
        # Flushed or evicted: rebuild from the job ROW, not from the worker's copy (which may still say
        # InProgress after an abort), and only if no one published meanwhile (add, not set).
        from .models import BulkJob

        fresh = BulkJob.objects.filter(pk=job.pk).first()
        if fresh is not None:
            cache.add(key, status_document(fresh), bulk_settings.CACHE_TIMEOUT)
        return
    if document["state"] in FINAL_STATES:  # an abort published meanwhile: do not resurrect InProgress
        return
    document.update(
        processed_records=job.processed_records,
        succeeded_records=job.succeeded_records,
        failed_records=job.failed_records,
        percentage=job.percentage,
    )
    cache.set(key, document, bulk_settings.CACHE_TIMEOUT)


def get_status(job_id: Any) -> dict[str, Any] | None:
    """The cached status document of a job, or None when the cache does not hold it."""
    return _cache().get(cache_key(job_id))


def forget(job_id: Any) -> None:
    """Drop a job's cached status."""
    _cache().delete(cache_key(job_id))
