"""Celery tasks of the job layer: thin wrappers around ``processing`` (tests call that directly).

Delivery is at-least-once: ``acks_late`` plus ``reject_on_worker_lost`` redeliver the task when a
worker dies; ``processing.run_job`` resumes after the job's committed chunks, and a redelivered
``bulk_drf.run_chunk`` of a committed chunk is a no-op. With Redis as broker,
set ``broker_transport_options={"visibility_timeout": ...}`` above your longest job, or a running
job is redelivered to a second worker (harmless -- the chunk lock serialises them -- but wasteful).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_ready

from ..conf import bulk_settings
from . import fanout, processing, retention, runner
from .lifecycle import enqueue
from .models import BulkJob
from .wiring import job_plumbing_problems

logger = logging.getLogger("bulk_drf.tasks")

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


MAX_CONSECUTIVE_RETRIES = 3
"""Retries a job gets for transient database errors that come one after another with no chunk committed
between them; a committed chunk starts the count again."""


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    name="bulk_drf.run_job",
    max_retries=MAX_CONSECUTIVE_RETRIES,
)
def run_bulk_job(self: Any, job_id: str, failures: int = 0) -> None:
    """Process the bulk job ``job_id`` (its data is read from the database, never from the message).

    A database error that is not about a record (``processing.TRANSIENT_DATABASE_ERRORS``: a dropped
    connection, a failover, a deadlock) rolls the chunk back and retries the task with backoff (1, 2,
    4 s), resuming at the cursor. ``failures`` counts the retries since the last committed chunk: the
    budget (``max_retries``, 3) is for CONSECUTIVE failures, so a long job survives any number of drops
    as long as it moves between them; after ``max_retries`` retries at one cursor the job is failed.

    A run stops at ``BULK_DRF_TASK_SOFT_TIME_LIMIT`` seconds after a committed chunk (or at Celery's own
    soft time limit, rolling back the chunk it interrupts) and queues the job again, which resumes at the
    cursor: the task is acknowledged long before Redis' ``visibility_timeout`` would redeliver it.
    """
    try:
        # Run in the caller's process (apply(), task_always_eager): no worker would take the chunk tasks.
        fan_out = not self.request.is_eager
        runner.run_job(job_id, retry=failures > 0, fan_out=fan_out, worker=self.request.hostname or "")
    except processing.TimeSliceUsed:
        _queue_again(job_id)
    except SoftTimeLimitExceeded:
        logger.info("bulk job %s reached the task's soft time limit: queued again", job_id)
        _queue_again(job_id)
    except processing.TRANSIENT_DATABASE_ERRORS as exc:
        spent = 0 if processing.made_progress(exc) else failures
        if spent >= self.max_retries:
            processing.fail_after_retries(job_id, exc, spent)
            return
        logger.warning(
            "bulk job %s: database error (%s: %s), retry %s of %s in %s s",
            job_id,
            type(exc).__name__,
            exc,
            spent + 1,
            self.max_retries,
            2**spent,
        )
        # Celery's own count (request.retries) never resets, ours does: its limit is moved past it.
        raise self.retry(
            exc=exc,
            countdown=2**spent,
            args=[job_id],
            kwargs={"failures": spent + 1},
            max_retries=self.request.retries + 1,
        ) from exc


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    name="bulk_drf.run_chunk",
    max_retries=MAX_CONSECUTIVE_RETRIES,
)
def run_bulk_job_chunk(self: Any, job_id: str, number: int, failures: int = 0) -> None:
    """Process chunk ``number`` of the bulk job ``job_id`` (queued by ``fanout.dispatch`` on PostgreSQL).

    A redelivered or duplicate message is a no-op once the chunk committed (or while another run holds it).
    A transient database error (a dropped connection, a deadlock with another chunk) rolls the chunk back
    and retries it with backoff (1, 2, 4 s); after ``max_retries`` consecutive failures the job is failed.
    Celery's soft time limit rolls the chunk back and sends it again.
    """
    try:
        processing.run_chunk(job_id, number, worker=self.request.hostname or "", retry=failures > 0)
    except SoftTimeLimitExceeded:
        logger.info("chunk %s of bulk job %s reached the task's soft time limit: queued again", number, job_id)
        fanout.send_chunks(job_id, [number])
    except processing.TRANSIENT_DATABASE_ERRORS as exc:
        if failures >= self.max_retries:
            processing.fail_after_retries(job_id, exc, failures, number)
            return
        logger.warning(
            "chunk %s of bulk job %s: database error (%s: %s), retry %s of %s in %s s",
            number,
            job_id,
            type(exc).__name__,
            exc,
            failures + 1,
            self.max_retries,
            2**failures,
        )
        raise self.retry(
            exc=exc,
            countdown=2**failures,
            args=[job_id, number],
            kwargs={"failures": failures + 1},
            max_retries=self.request.retries + 1,
        ) from exc


def _queue_again(job_id: str) -> None:
    """A fresh message (not ``self.retry``: that would spend the retries kept for database errors)."""
    enqueue(BulkJob(pk=job_id))


@shared_task(ignore_result=True, name="bulk_drf.requeue_stalled_jobs")
def requeue_stalled_jobs(stale_after_seconds: float | None = None) -> list[str]:
    """The reaper: queue again the jobs no worker has touched for ``stale_after_seconds``.

    Default ``BULK_DRF_STALE_AFTER``. Run it from celery beat (``bulk_drf.schedule.beat_schedule()``);
    it also runs once when a worker starts (``requeue_on_worker_ready``). It recovers a job whose message
    was lost: a broker restarted without persistence, a publish that failed while the broker was down,
    a worker killed on a broker that does not redeliver.
    """
    seconds = bulk_settings.STALE_AFTER if stale_after_seconds is None else stale_after_seconds
    requeued = processing.requeue_stalled_jobs(timedelta(seconds=seconds))
    if requeued:
        logger.warning("requeued %s stalled bulk jobs (no chunk for %ss): %s", len(requeued), seconds, requeued)
    return requeued


@worker_ready.connect
def requeue_on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """When a worker starts: requeue the stalled jobs (a restarted fleet picks up what the dead one left).

    Errors are logged: a database not reachable yet must not keep the worker from starting.
    """
    try:
        requeue_stalled_jobs()
    except Exception:
        logger.exception("requeue_stalled_jobs at worker start failed; celery beat's run will retry it")


@shared_task(ignore_result=True, name="bulk_drf.purge_abandoned_jobs")
def purge_abandoned_jobs(ttl_seconds: float | None = None) -> dict[str, int]:
    """Abort the Open jobs idle past ``ttl_seconds`` (default ``BULK_DRF_OPEN_JOB_TTL``), deleting their data."""
    ttl = None if ttl_seconds is None else timedelta(seconds=ttl_seconds)
    return asdict(retention.purge_abandoned_jobs(ttl))


@shared_task(ignore_result=True, name="bulk_drf.purge_expired_results")
def purge_expired_results(ttl_seconds: float | None = None) -> dict[str, int]:
    """Delete results and data of jobs finished more than ``ttl_seconds`` (default ``BULK_DRF_RESULTS_TTL``) ago.

    Schedule it with celery beat, e.g. hourly.
    """
    ttl = None if ttl_seconds is None else timedelta(seconds=ttl_seconds)
    return asdict(retention.purge_expired_results(ttl))


@worker_init.connect
def check_at_worker_start(sender: Any = None, **kwargs: Any) -> None:
    """Log the job plumbing's system check warnings (``bulk_drf.W002``/``W003``) as errors when a worker
    starts: a worker with a process-local progress cache finishes jobs nobody sees finish."""
    try:
        for problem in job_plumbing_problems():
            logger.error("%s: %s (%s)", problem.id, problem.msg, problem.hint)
    except Exception:  # Django not set up in this worker: nothing of ours runs there either
        logger.debug("bulk-drf plumbing check skipped at worker start", exc_info=True)
