"""Job status in the Django cache (``BULK_DRF_CACHE_ALIAS``), so polling a running job reads no table.

The cache holds the job's whole status document (what ``GET /api/bulk-jobs/{id}/`` answers) plus the
owner's id for the permission check. Transitions rewrite it; the worker refreshes the counters at
most every ``BULK_DRF_PROGRESS_UPDATE_INTERVAL`` records. The database stays the source of truth: a
missing entry (flushed Redis, expired) is rebuilt from the job row on the next poll.

The cache is a view, never a dependency: every function here logs and swallows the cache's errors
(Redis down, a timeout), so a cache outage can neither fail a job in the worker nor answer a 500 to a
poll -- ``get_status`` then answers None and the caller reads the job row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.cache import caches

from ..conf import bulk_settings
from .facts import facts_of
from .models import BulkJob
from .serializers import BulkJobSerializer
from .states import FINAL_STATES

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

__all__ = [
    "cache_key",
    "forget",
    "forget_many",
    "get_status",
    "publish_progress",
    "publish_status",
    "set_status",
    "status_document",
]

logger = logging.getLogger("bulk_drf.progress")

_T = TypeVar("_T")


def _cache() -> BaseCache:
    return caches[bulk_settings.CACHE_ALIAS]


def _safely(what: str, job_id: Any, call: Callable[[], _T], default: _T) -> _T:
    """``call()``, or ``default`` when the cache fails: logged once per call, never raised."""
    try:
        return call()
    except Exception as exc:  # any backend's error (redis.ConnectionError, TimeoutError, OSError, ...)
        logger.warning(
            "bulk job %s: could not %s the cached status (%s: %s); the database stays the record",
            job_id,
            what,
            type(exc).__name__,
            exc,
        )
        return default


def cache_key(job_id: Any) -> str:
    """The cache key of a job's status document."""
    return f"bulk_drf:job:{job_id}"


def status_document(job: BulkJob) -> dict[str, Any]:
    """The job's status as the API shows it (plus ``owner``, used for the permission check)."""
    return dict(BulkJobSerializer(job).data)


def publish_status(job: BulkJob) -> dict[str, Any]:
    """Write the job's full status document to the cache (if it answers) and return it."""
    document = status_document(job)
    set_status(job.pk, document)
    return document


RUNNING_TIMEOUT = 120
"""Seconds at most a status document of an unfinished job is cached: if the write of a job's final state
was lost (Redis away at that moment, then back with its old data), polls see the truth again soon."""


def _timeout(document: dict[str, Any]) -> int:
    if document.get("state") in FINAL_STATES:
        return bulk_settings.CACHE_TIMEOUT
    return min(bulk_settings.CACHE_TIMEOUT, RUNNING_TIMEOUT)


def set_status(job_id: Any, document: dict[str, Any]) -> None:
    """Cache ``document`` as the status of ``job_id`` (a cache error is logged, not raised)."""
    _safely("write", job_id, lambda: _cache().set(cache_key(job_id), document, _timeout(document)), None)


def publish_progress(job: BulkJob) -> None:
    """Refresh the counters of a running job's cached status (a final state already cached wins).

    Never raises for the cache: a worker must go on writing records while Redis is away.
    """
    _safely("refresh", job.pk, lambda: _publish_progress(job), None)


def _publish_progress(job: BulkJob) -> None:
    cache = _cache()
    key = cache_key(job.pk)
    document = cache.get(key)
    if document is None:
        # Flushed or evicted: rebuild from the job ROW, not from the worker's copy (which may still say
        # InProgress after an abort), and only if no one published meanwhile (add, not set).
        fresh = BulkJob.objects.filter(pk=job.pk).first()
        if fresh is not None:
            document = status_document(fresh)
            cache.add(key, document, _timeout(document))
        return
    if document["state"] in FINAL_STATES:  # an abort published meanwhile: do not resurrect InProgress
        return
    if document.get("processed_records", 0) > job.processed_records:
        return  # chunks commit in parallel: a later chunk's counters were published first
    document.update(facts_of(job), succeeded_records=job.succeeded_records, percentage=job.percentage)
    cache.set(key, document, _timeout(document))


def get_status(job_id: Any) -> dict[str, Any] | None:
    """The cached status document of a job, or None when the cache does not hold it (or does not answer)."""
    document: dict[str, Any] | None = _safely("read", job_id, lambda: _cache().get(cache_key(job_id)), None)
    return document


def forget(job_id: Any) -> None:
    """Drop a job's cached status."""
    _safely("drop", job_id, lambda: _cache().delete(cache_key(job_id)), None)


def forget_many(job_ids: list[str]) -> None:
    """Drop the cached status of several jobs (one cache call)."""
    if job_ids:
        _safely("drop", ", ".join(job_ids[:3]), lambda: _cache().delete_many([cache_key(pk) for pk in job_ids]), None)
