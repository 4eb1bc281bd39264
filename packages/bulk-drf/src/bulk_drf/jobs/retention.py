"""Retention: delete the per-record results and stored data of jobs finished longer ago than a TTL.

A 100,000-record job leaves 100,000 result rows and its uploaded data behind; nobody needs them a week
later. ``purge_expired_results`` deletes them for every job that reached a final state more than
``BULK_DRF_RESULTS_TTL`` seconds ago, and stamps ``results_purged_at`` on the job. The job row itself
(state, counters, timestamps, error) stays, so the job list and status keep working; its results and
aggregates answer 410 Gone. Run it periodically: the Celery task ``bulk_drf.purge_expired_results``
(from celery beat) or the management command ``bulk_drf_purge`` (from cron).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..conf import bulk_settings
from . import lifecycle
from .errors import ResultsPurged
from .models import BulkJob, BulkJobChunk, BulkJobDataChunk, BulkJobKeyClaim, BulkJobResult, BulkJobResultPage
from .progress import forget_many
from .states import FINAL_STATES, JobOperation, JobState

__all__ = [
    "PurgeReport",
    "ResultsPurged",
    "abandoned_jobs",
    "expired_jobs",
    "purge_abandoned_jobs",
    "purge_expired_results",
]

_JOBS_PER_TRANSACTION = 100  # bounds each transaction (and its locks) on a large backlog


def _forget(job_ids: list[str]) -> None:
    forget_many(job_ids)  # a cache error is logged: the purge is committed either way


@dataclass
class PurgeReport:
    """What a purge deleted."""

    jobs: int = 0
    results: int = 0  # result rows, and an export's result pages
    data_chunks: int = 0


def expired_jobs(ttl: timedelta | None = None, *, now: datetime | None = None) -> list[str]:
    """Ids of the finished, not yet purged jobs whose final state is older than ``ttl`` (default: the setting)."""
    return [pk for pk, _, _ in _expired(ttl, now)]


def _expired(ttl: timedelta | None, now: datetime | None) -> list[tuple[str, str, bool]]:
    """``(id, operation, dry_run)`` of the expired jobs (see ``expired_jobs``)."""
    ttl = timedelta(seconds=bulk_settings.RESULTS_TTL) if ttl is None else ttl
    cutoff = (now or timezone.now()) - ttl
    finished_before = Q(completed_at__lt=cutoff) | Q(failed_at__lt=cutoff) | Q(aborted_at__lt=cutoff)
    return [
        (str(pk), operation, dry_run)
        for pk, operation, dry_run in BulkJob.objects.filter(
            finished_before, state__in=FINAL_STATES, results_purged_at=None
        )
        .order_by()
        .values_list("pk", "operation", "dry_run")
    ]


def purge_expired_results(
    ttl: timedelta | None = None, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Delete the results and data chunks of every expired job (see ``expired_jobs``); returns the counts.

    Safe to run concurrently with workers: only jobs in a final state are touched, and those never
    move again. ``dry_run`` counts without deleting.
    """
    expired = _expired(ttl, now)
    report = PurgeReport()
    for first in range(0, len(expired), _JOBS_PER_TRANSACTION):
        jobs = expired[first : first + _JOBS_PER_TRANSACTION]
        batch = [pk for pk, _, _ in jobs]
        results = BulkJobResult.objects.filter(job_id__in=batch)
        chunks = BulkJobDataChunk.objects.filter(job_id__in=batch)
        # An export's rows; a dry run's claims (left when it never finished): queried only for such jobs.
        exports = [pk for pk, operation, _ in jobs if operation == JobOperation.QUERY]
        dry_runs = [pk for pk, _, is_dry_run in jobs if is_dry_run]
        pages = BulkJobResultPage.objects.filter(job_id__in=exports)
        if dry_run:
            report.jobs += len(batch)
            report.results += results.count() + (pages.count() if exports else 0)
            report.data_chunks += chunks.count()
            continue
        with transaction.atomic():
            # In the order Django deletes a job's rows (data chunks, chunks, results, pages, claims; the job row
            # last): a job deleted meanwhile waits for this purge, or this purge for it, never both (deadlock).
            report.data_chunks += chunks.delete()[0]
            BulkJobChunk.objects.filter(job_id__in=batch).delete()  # the processing plan: the facts stay on the job
            report.results += results.delete()[0]
            if exports:
                report.results += pages.delete()[0]
            if dry_runs:
                BulkJobKeyClaim.objects.filter(job_id__in=dry_runs).delete()
            report.jobs += BulkJob.objects.filter(pk__in=batch, results_purged_at=None).update(
                results_purged_at=timezone.now()
            )
            # Cached status documents predate the purge: drop them so the next poll shows results_purged_at.
            transaction.on_commit(partial(_forget, batch))
    return report


def abandoned_jobs(ttl: timedelta | None = None, *, now: datetime | None = None) -> list[str]:
    """Ids of the Open jobs with no upload (nor creation) for ``ttl`` (default ``BULK_DRF_OPEN_JOB_TTL``)."""
    ttl = timedelta(seconds=bulk_settings.OPEN_JOB_TTL) if ttl is None else ttl
    cutoff = (now or timezone.now()) - ttl
    return [
        str(pk)
        for pk in BulkJob.objects.filter(state=JobState.OPEN)
        .alias(active=Coalesce("last_upload_at", "created_at"))
        .filter(active__lt=cutoff)
        .order_by()
        .values_list("pk", flat=True)
    ]


def purge_abandoned_jobs(ttl: timedelta | None = None, *, now: datetime | None = None) -> PurgeReport:
    """Abort the Open jobs left idle past ``BULK_DRF_OPEN_JOB_TTL`` and delete their uploaded data.

    A client that creates a job and uploads into it but never closes it would keep its data forever.
    Each abandoned job moves to Aborted (``error_message`` says why; ``job_state_changed`` is sent) and
    loses its data chunks (``results_purged_at`` is stamped), in one transaction per job that re-checks,
    under the job row's lock, that no upload came meanwhile.
    """
    ttl = timedelta(seconds=bulk_settings.OPEN_JOB_TTL) if ttl is None else ttl
    report = PurgeReport()
    for pk in abandoned_jobs(ttl, now=now):
        with transaction.atomic():
            cutoff = (now or timezone.now()) - ttl
            job = (
                BulkJob.objects.select_for_update()
                .filter(pk=pk, state=JobState.OPEN)
                .alias(active=Coalesce("last_upload_at", "created_at"))
                .filter(active__lt=cutoff)
                .first()
            )
            if job is None:  # an upload, a close or an abort came first
                continue
            lifecycle.transition(
                job,
                JobState.ABORTED,
                error_message=f"abandoned: Open with no upload for {int(ttl.total_seconds())}s (BULK_DRF_OPEN_JOB_TTL)",
            )
            report.data_chunks += BulkJobDataChunk.objects.filter(job_id=job.pk).delete()[0]
            BulkJob.objects.filter(pk=pk).update(results_purged_at=timezone.now())
            report.jobs += 1
    return report
