"""What a worker does with a job: plain functions the Celery tasks call (and tests call directly).

A job is processed in chunks of ``BULK_DRF_CHUNK_SIZE`` records, planned as ``BulkJobChunk`` rows when it
starts (``fanout``). Each chunk is ONE transaction that holds the chunk's row, writes the rows through
``operations.execute_batch(..., all_or_nothing=False)``, stores the per-record results, marks the chunk
done and adds its counts to the job. A worker killed mid-chunk therefore leaves nothing of that chunk
behind, and the redelivered task runs it again: no row lost, none written twice. The chunks run one after
another in one task (``run_job``), or, fanned out on PostgreSQL, as one task each (``run_chunk``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, connections, router, transaction
from django.db.models import F
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from ..conf import bulk_settings
from ..sync import operations
from ..sync.exceptions import WriteConflict
from ..sync.ids import InvalidId, parse_id
from . import dryrun, fanout, lifecycle, progress, telemetry
from .errors import IllegalTransition
from .models import BulkJob, BulkJobChunk, BulkJobResult
from .signals import JobProgress, job_progress
from .states import FINAL_STATES, JobOperation, JobState, ResultKind

__all__ = [
    "MAX_ATTEMPTS",
    "TRANSIENT_DATABASE_ERRORS",
    "TimeSliceUsed",
    "build_viewset",
    "end_time_slice",
    "fail_after_retries",
    "made_progress",
    "process_chunk",
    "requeue_stalled_jobs",
    "run_chunk",
    "run_job",
]

logger = logging.getLogger("bulk_drf.processing")

MAX_ATTEMPTS = 5
"""A job whose worker died this many times is failed instead of retried forever (OOM loops)."""

# The HTTP method and viewset action a job's records are processed under, so permission classes
# (DjangoModelPermissions, object permissions, action-dependent get_queryset) see what a sync request would.
_METHOD = {
    (JobOperation.INSERT, True): "POST",
    (JobOperation.INSERT, False): "POST",
    (JobOperation.UPSERT, True): "POST",
    (JobOperation.UPSERT, False): "POST",
    (JobOperation.UPDATE, True): "PATCH",
    (JobOperation.UPDATE, False): "PUT",
    (JobOperation.DELETE, True): "DELETE",
    (JobOperation.DELETE, False): "DELETE",
    (JobOperation.READ, True): "GET",
    (JobOperation.READ, False): "GET",
}
_ACTION = {
    "POST": "create",
    "PATCH": "partial_update",
    "PUT": "update",
    "DELETE": "destroy",
    "GET": "list",
}


TRANSIENT_DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
"""Errors of the database, not of the records (a dropped connection, a failover, a deadlock): ``run_job``
lets them through so the task retries the job, resuming at the cursor, instead of failing it."""


class TimeSliceUsed(Exception):
    """``run_job`` stopped after a committed chunk: ``BULK_DRF_TASK_SOFT_TIME_LIMIT`` seconds had passed.

    The job is still InProgress at ``processed_records``; the task queues it again to resume there.
    """

    def __init__(self, job_id: Any, processed_records: int) -> None:
        super().__init__(f"bulk job {job_id} paused after record {processed_records - 1} (soft time limit)")
        self.job_id = job_id
        self.processed_records = processed_records


_ChunkConflict = fanout.ChunkConflict  # another run holds or committed the chunk, or the job left InProgress


@dataclass
class ChunkOutcome:
    """What one committed chunk did (``final``: it was the job's last, and moved the job to its end)."""

    start: int
    stop: int
    succeeded: int
    failed: int
    number: int = 0
    final: bool = False


def method_for(job: BulkJob) -> str:
    """The HTTP method a job's records are processed under."""
    return _METHOD[(JobOperation(job.operation), job.partial)]


def build_viewset(job: BulkJob, *, method: str | None = None) -> Any:
    """Rebuild the job's target viewset with a request made by the job's owner.

    ``get_queryset()`` and the permission classes run as for the owner's own request, so a job never
    reaches a row the owner could not. Raises DRF's ``PermissionDenied`` when the owner may no longer
    use the viewset.
    """
    viewset_class = import_string(job.viewset)
    method = method or method_for(job)
    django_request = _worker_request(method)
    owner = get_user_model()._default_manager.get(pk=job.owner_id)
    django_request.user = owner
    request = Request(django_request)
    request.user = owner  # forces authentication: authenticators are not run in the worker
    viewset = viewset_class(request=request, args=(), kwargs={}, format_kwarg=None, action=_ACTION[method], headers={})
    viewset.request = request
    viewset.check_permissions(request)
    return viewset


def _worker_request(method: str) -> HttpRequest:
    """A plain Django request for ``method`` (the job runs in a worker: there is no HTTP request to copy)."""
    request = HttpRequest()
    request.method = method
    request.path = request.path_info = "/bulk-job/"
    request.META = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/bulk-job/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    return request


def run_job(job_id: Any, *, retry: bool = False, fan_out: bool = False, worker: str = "") -> BulkJob | None:
    """Start a queued job and process it to its end (or until it is aborted); safe to call again after a crash.

    ``fan_out`` (the ``bulk_drf.run_job`` task passes it): where ``fanout.parallel_enabled()``, plan the chunks
    and queue them as ``bulk_drf.run_chunk`` tasks (``fanout.dispatch``) instead of processing them here; the
    job is returned InProgress. Called again on such a job (the reaper), it sends the chunks whose message
    or worker was lost again. Otherwise the chunks are processed here, one after another, in order.

    ``retry``: this run retries after a transient database error, so it is not counted in ``attempts``
    (which counts runs that may have died with their worker, for ``MAX_ATTEMPTS``).

    With ``BULK_DRF_TASK_SOFT_TIME_LIMIT`` set, raises ``TimeSliceUsed`` after the first committed chunk
    that ends past the limit (the job stays InProgress; call again to resume).

    Returns None when the job does not exist, also when it is deleted while it runs (an admin deleted
    it, or its owner): the worker stops before its next chunk; the chunks committed before stay.
    """
    parallel = fan_out and fanout.parallel_enabled()
    name = worker or fanout.worker_name()

    def run(pk: Any, again: bool) -> BulkJob | None:
        return _run_job(pk, again, parallel, name)

    try:
        return telemetry.run_job(run, job_id, retry, pauses=(TimeSliceUsed, SoftTimeLimitExceeded))
    except BulkJob.DoesNotExist:
        logger.warning("bulk job %s was deleted while it ran: stopped", job_id)
        progress.forget(job_id)
        return None


def _run_job(job_id: Any, retry: bool, parallel: bool, worker: str) -> BulkJob | None:
    job = BulkJob.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("bulk job %s does not exist (deleted?): nothing to do", job_id)
        return None
    if job.state in FINAL_STATES or job.state == JobState.OPEN:
        progress.publish_status(job)  # cheap repair of a cache a racing progress write left stale
        return job
    # A run that processes chunks may die with its worker (MAX_ATTEMPTS); one that only queues them does not,
    # and the reaper may send it many times: it is not counted either.
    ended = begin_attempt(job, retry or (parallel and job.state != JobState.UPLOAD_COMPLETE))
    if ended is not None:
        return ended
    viewset, ended = _job_viewset(job)
    if ended is not None:
        return ended
    fanout.plan(job, viewset)
    if parallel:
        fanout.dispatch(job.pk, resend_after=bulk_settings.STALE_AFTER)
        job.refresh_from_db()
        return job
    return _process_serially(job, viewset, worker)


def _process_serially(job: BulkJob, viewset: Any, worker: str) -> BulkJob:
    """Process the job's chunks here, one after another in plan order, until the last one moved the job to its
    end (or it was aborted, or the rest is held by other runs)."""
    limit = bulk_settings.TASK_SOFT_TIME_LIMIT
    deadline = None if limit is None else time.monotonic() + limit
    process = partial(process_chunk, worker=worker)
    committed = 0
    while True:
        try:
            outcome = telemetry.process_chunk(process, job, viewset)
        except _ChunkConflict:
            job.refresh_from_db()
            if job.state != JobState.IN_PROGRESS:
                # Aborted (or finished by another worker). Our last progress write may have landed just
                # after the abort's status in the cache: publish the row's state again.
                progress.publish_status(job)
                return job
            continue
        except SoftTimeLimitExceeded:
            # Celery's own soft limit, mid-chunk: the chunk rolled back and the task queues the job again.
            # A run that committed nothing keeps its attempt, so a limit shorter than one chunk ends in
            # MAX_ATTEMPTS instead of re-queueing forever.
            if committed:
                end_time_slice(job.pk)
            raise
        except TRANSIENT_DATABASE_ERRORS as exc:
            # The chunk rolled back; the task retries. It tells a first failure after progress (the retry
            # budget starts again) from another failure at the same chunk (the budget is spent).
            exc.bulk_drf_progressed = committed > 0  # type: ignore[attr-defined]  # our marker, see made_progress()
            raise
        except BulkJob.DoesNotExist:
            raise  # see run_job
        except Exception as exc:
            return _fail_unexpected(job, exc)
        if outcome is None or outcome.final:  # None: done, aborted, or the rest is held by other runs
            break
        committed += 1
        if deadline is not None and time.monotonic() >= deadline:
            # Stop between chunks, well before the broker would redeliver the running task.
            end_time_slice(job.pk)
            raise TimeSliceUsed(job.pk, job.processed_records)
    job.refresh_from_db()
    if job.state != JobState.IN_PROGRESS:
        progress.publish_status(job)
    return job


def begin_attempt(job: BulkJob, retry: bool, *, records_required: bool = True) -> BulkJob | None:
    """Count this run's attempt (a retry is not one) and move an UploadComplete job to InProgress (ingest and
    export jobs alike; an export may have no records: ``records_required=False``).

    Returns the job when the run ends here (too many attempts, no records, aborted meanwhile), else None.
    """
    if retry:
        BulkJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    else:
        BulkJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1, heartbeat_at=timezone.now())
        job.attempts += 1
    if job.attempts > MAX_ATTEMPTS:
        return fail(job, f"gave up after {MAX_ATTEMPTS} attempts: the worker died each time (out of memory?)")
    if job.state == JobState.UPLOAD_COMPLETE:
        if records_required and job.total_records == 0:
            return fail(job, "the job has no records")
        try:
            lifecycle.transition(job, JobState.IN_PROGRESS)
        except IllegalTransition:  # aborted meanwhile
            job.refresh_from_db()
            return job
    return None


def _job_viewset(job: BulkJob) -> tuple[Any, BulkJob | None]:
    """``(viewset, None)``, or ``(None, the failed job)`` when the job's viewset cannot be set up for its owner."""
    try:
        return build_viewset(job), None
    except (SoftTimeLimitExceeded, *TRANSIENT_DATABASE_ERRORS):  # type: ignore[misc]  # mypy reads no starred except tuple
        raise
    except APIException as exc:
        return None, fail(job, f"the job's owner may not use {job.viewset}: {exc.detail}")
    except Exception as exc:
        return None, fail(job, f"cannot set up {job.viewset}: {type(exc).__name__}: {exc}")


def _publish_progress(job: BulkJob, processed_before: int, final: bool) -> None:
    """After a chunk committed: publish the job's progress (cache and ``job_progress``) each time its counters
    cross a multiple of ``PROGRESS_UPDATE_INTERVAL``, and at the end."""
    interval = max(1, bulk_settings.PROGRESS_UPDATE_INTERVAL)
    if final or job.processed_records // interval > processed_before // interval:
        if not final:  # the final transition publishes the whole status
            progress.publish_progress(job)
        lifecycle.send_after_commit(
            job_progress,
            JobProgress(job.pk, job.total_records, job.processed_records, job.succeeded_records, job.failed_records),
        )


def _complete(job: BulkJob, viewset: Any) -> None:
    """The end of a job, in the transaction of its last chunk (``fanout.commit_chunk``, the job row locked, so
    it runs once): JobComplete, or Failed when every record failed (a dry run is a report: it completes, after
    ``dryrun.finish`` found the clashes between its chunks, which may have run in any order)."""
    if job.dry_run:
        dryrun.finish(job, viewset)
    elif job.succeeded_records == 0 and job.failed_records > 0:
        lifecycle.transition(
            job, JobState.FAILED, error_message=f"all {job.failed_records} records failed (see results?kind=failed)"
        )
        return
    lifecycle.transition(job, JobState.JOB_COMPLETE)


def run_chunk(job_id: Any, number: int, *, worker: str = "", retry: bool = False) -> ChunkOutcome | None:
    """Process chunk ``number`` of a fanned-out job (the ``bulk_drf.run_chunk`` task), then queue the job's
    next chunks. A no-op when the chunk is done, held by a live run, or the job is not InProgress.

    A chunk claimed more than ``MAX_ATTEMPTS`` times without committing (its worker died each time) fails
    the job. Transient database errors propagate (the task retries the chunk); any other error fails the job.
    A job deleted meanwhile (by an admin, with its owner) ends the run quietly.
    """
    try:
        return _run_chunk(job_id, number, worker, retry)
    except BulkJob.DoesNotExist:
        logger.warning("bulk job %s was deleted while chunk %s ran: stopped", job_id, number)
        progress.forget(job_id)
        return None


def _run_chunk(job_id: Any, number: int, worker: str, retry: bool) -> ChunkOutcome | None:
    job = BulkJob.objects.filter(pk=job_id).first()
    if job is None or job.state != JobState.IN_PROGRESS:
        return None
    viewset, ended = _job_viewset(job)
    if ended is not None:
        return None
    process = partial(process_chunk, number=number, worker=worker or fanout.worker_name(), retry=retry)
    try:
        outcome = telemetry.process_chunk(process, job, viewset)
    except (_ChunkConflict, _GaveUp):
        outcome = None
    except (SoftTimeLimitExceeded, BulkJob.DoesNotExist, *TRANSIENT_DATABASE_ERRORS):  # type: ignore[misc]  # mypy reads no starred except tuple
        raise
    except Exception as exc:
        _fail_unexpected(job, exc, number)
        return None
    if outcome is None or not outcome.final:
        fanout.dispatch(job.pk)
    return outcome


class _GaveUp(Exception):
    """A chunk was claimed ``MAX_ATTEMPTS`` times and never committed: the job was failed."""


def _fail_unexpected(job: BulkJob, exc: Exception, number: int | None = None) -> BulkJob:
    start, stop = _range_of(job, number)
    logger.exception("bulk job %s failed in records %s-%s", job.pk, start, stop - 1)
    job.refresh_from_db()
    if job.state != JobState.IN_PROGRESS:
        return job
    return fail(job, f"unexpected error in records {start}-{stop - 1}: {type(exc).__name__}: {exc}")


def _range_of(job: BulkJob, number: int | None) -> tuple[int, int]:
    if number is not None:
        row = BulkJobChunk.objects.filter(job_id=job.pk, number=number).values_list("start_index", "stop_index")
        found = row.first()
        if found is not None:
            return found
    return fanout.next_range(job)


def end_time_slice(job_id: Any) -> None:
    """Bookkeeping of a run that stopped at its time limit (its job is queued again, not failed).

    The run is not a dead worker: its attempt is given back, or a long job would hit ``MAX_ATTEMPTS``
    after a few slices. The cached status gets the row's counters.
    """
    BulkJob.objects.filter(pk=job_id, attempts__gt=0).update(attempts=F("attempts") - 1)
    job = BulkJob.objects.filter(pk=job_id).first()
    if job is not None:
        progress.publish_status(job)


def made_progress(exc: BaseException) -> bool:
    """Whether the run that raised the transient database error ``exc`` committed a chunk first."""
    return bool(getattr(exc, "bulk_drf_progressed", False))


def fail_after_retries(job_id: Any, exc: BaseException, retries: int, number: int | None = None) -> BulkJob | None:
    """Fail a job whose database kept failing after ``retries`` retries of its task (of chunk ``number``)."""
    job = BulkJob.objects.filter(pk=job_id).first()
    if job is None or job.state in FINAL_STATES:
        return job
    start, stop = _range_of(job, number)
    return fail(
        job,
        f"database error in records {start}-{stop - 1}, still failing after {retries} retries: "
        f"{type(exc).__name__}: {exc}",
    )


def fail(job: BulkJob, reason: str) -> BulkJob:
    """Move ``job`` to Failed with ``reason``; an abort committed meanwhile wins (the job as it is then)."""
    try:
        return lifecycle.transition(job, JobState.FAILED, error_message=reason)
    except IllegalTransition:  # aborted meanwhile: Aborted wins
        job.refresh_from_db()
        return job


def process_chunk(
    job: BulkJob, viewset: Any, number: int | None = None, *, worker: str = "", retry: bool = False
) -> ChunkOutcome | None:
    """Claim and commit one chunk of ``job`` (``number``, or the first ready one in plan order); updates
    ``job``'s counters. None when there was nothing to claim (see ``fanout.claim``).

    The chunk is ONE transaction: its rows, its results, its ``done`` mark and the job's counters commit
    together, so a run killed mid-chunk leaves nothing of it, and a chunk committed once is never run again.
    ``_ChunkConflict`` when another run took the chunk over or the job left InProgress (rolled back).
    """
    if not job.chunks_total:
        fanout.plan(job, viewset)
    held = fanout.claim(job.pk, number, worker=worker or fanout.worker_name(), retry=retry)
    if held is None:
        return None
    if number is not None and held.attempts > MAX_ATTEMPTS:
        fail(
            job,
            f"gave up on records {held.start}-{held.stop - 1} after {MAX_ATTEMPTS} attempts: "
            "the worker died each time (out of memory?)",
        )
        raise _GaveUp
    records = lifecycle.load_records(job, held.start, held.stop)
    with transaction.atomic():
        fanout.hold(held)  # the chunk row stays locked until the commit: a second run waits or leaves
        if job.operation == JobOperation.READ:
            results = _read_rows(job, viewset, records, held.start)
        else:
            results = write_rows(job, viewset, records, held.start)
        store_results(job, results)
        succeeded = sum(1 for r in results if r.kind == ResultKind.SUCCEEDED)
        failed = len(results) - succeeded
        committed = fanout.commit_chunk(job, held, succeeded, failed, end=partial(_complete, viewset=viewset))
    _publish_progress(job, committed.processed_before, committed.final)
    return ChunkOutcome(held.start, held.stop, succeeded, failed, held.number, committed.final)


class ResultRow(NamedTuple):
    """One record's outcome before it is stored (a tuple: a chunk builds thousands of them)."""

    index: int  # type: ignore[assignment]  # the field shadows tuple.index, as BulkJobResult.index is named
    kind: str
    object_pk: str = ""
    created: bool = False
    errors: Any = None
    data: Any = None


_RESULT_FIELDS = ("job", "index", "kind", "object_pk", "created", "errors", "data")


def store_results(job: BulkJob, rows: Sequence[ResultRow]) -> None:
    """Insert a chunk's result rows: ``COPY`` on PostgreSQL with psycopg 3, else one ``bulk_create``.

    A result row per record is the job's biggest bookkeeping cost; ``COPY`` writes a chunk's rows
    several times faster than a multi-row ``INSERT`` (no parameter binding, no statement to parse).
    """
    if not rows:
        return
    connection = connections[router.db_for_write(BulkJobResult)]
    if connection.vendor == "postgresql" and _psycopg3():
        from psycopg.types.json import Jsonb

        opts, quote = BulkJobResult._meta, connection.ops.quote_name
        columns = ", ".join(quote(opts.get_field(name).column) for name in _RESULT_FIELDS)  # type: ignore[union-attr, arg-type]  # concrete fields
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for r in rows:
                copy.write_row(
                    (
                        job.pk,
                        r.index,
                        r.kind,
                        r.object_pk,
                        r.created,
                        None if r.errors is None else Jsonb(r.errors),
                        None if r.data is None else Jsonb(r.data),
                    )
                )
        return
    BulkJobResult.objects.bulk_create([BulkJobResult(job_id=job.pk, **r._asdict()) for r in rows], batch_size=1000)


def _psycopg3() -> bool:
    # Imports the driver: only on PostgreSQL. django-stubs has no psycopg_any.
    from django.db.backends.postgresql.psycopg_any import is_psycopg3  # type: ignore[import-untyped]  # see above

    return bool(is_psycopg3)


def write_rows(job: BulkJob, viewset: Any, records: Sequence[Any], start: int) -> list[ResultRow]:
    """The outcome of each of ``records`` (the first at index ``start``): written, or for a dry run validated."""
    items: list[Any] = list(records)
    if job.operation == JobOperation.DELETE:
        items = [_pk_of(record) for record in records]
    if job.dry_run:
        succeeded, failed = dryrun.validate_chunk(job, viewset, items, start)
    else:
        succeeded, failed = _write_isolating(job, viewset, items, start)
    succeeded_kind, failed_kind = str(ResultKind.SUCCEEDED), str(ResultKind.FAILED)
    results = [ResultRow(s.index, succeeded_kind, "" if s.pk is None else str(s.pk), s.created) for s in succeeded]
    results += [ResultRow(e.index, failed_kind, errors=e.errors) for e in failed]
    return results


# What a write may raise because of one (unknown) bad record rather than the whole batch: the database
# refused a row the serializer accepted (CHECK constraint, a unique key another transaction took
# meanwhile, a value out of the column's range, a protected foreign key on delete).
_RECORD_LEVEL_ERRORS = (WriteConflict, IntegrityError, DataError, ProtectedError, RestrictedError)


def _write_isolating(
    job: BulkJob, viewset: Any, items: list[Any], offset: int
) -> tuple[list[operations.ItemSuccess], list[operations.ItemError]]:
    """``execute_batch`` on ``items``; when the database refuses the batch, bisect it to find the bad records.

    Each attempt runs in a savepoint of the chunk's transaction, so a refused half leaves nothing behind
    and the chunk still commits once with its bookkeeping. Clean chunks pay one savepoint; a chunk with
    ``k`` bad records costs about ``2·k·log2(chunk)`` more batches. Each bad record is reported with the
    database's reason (``code`` ``integrity_error``/``data_error``/``protected``).
    """
    try:
        with transaction.atomic():
            batch = operations.execute_batch(
                viewset,
                job.operation,  # type: ignore[arg-type]  # a write operation: read jobs never get here
                items,
                unique_fields=list(job.unique_fields) or None,
                partial=job.partial,
                all_or_nothing=False,
                index_offset=offset,
            )
    except _RECORD_LEVEL_ERRORS as exc:
        if len(items) == 1:
            return [], [operations.ItemError(offset, database_error(viewset, exc))]
        succeeded: list[operations.ItemSuccess] = []
        failed = _upsert_duplicates(job, items, offset)
        # Halves of the runs between the duplicates refused above (usually one run: the whole chunk).
        skip = {e.index - offset for e in failed}
        runs, first = [], 0
        for i in [*sorted(skip), len(items)]:
            if i > first:
                runs.append((first, i))
            first = i + 1
        if runs == [(0, len(items))]:
            middle = len(items) // 2
            runs = [(0, middle), (middle, len(items))]
        for lo, hi in runs:
            ok, bad = _write_isolating(job, viewset, items[lo:hi], offset + lo)
            succeeded += ok
            failed += bad
        return succeeded, sorted(failed, key=lambda e: e.index)
    return batch.succeeded, batch.failed


def _upsert_duplicates(job: BulkJob, items: list[Any], offset: int) -> list[operations.ItemError]:
    """Upsert items repeating an earlier item's key, refused as ``execute_batch`` refuses them in one batch.

    Once a chunk is split, its halves no longer see each other: without this, the later of two items
    with the same key would update the row the earlier one wrote.
    """
    names = list(job.unique_fields)
    if job.operation != JobOperation.UPSERT or not names:
        return []
    first: dict[tuple[str, ...], int] = {}
    errors = []
    field = names[0] if len(names) == 1 else "non_field_errors"
    for i, item in enumerate(items):
        if not isinstance(item, dict) or any(item.get(name) in (None, "") for name in names):
            continue  # execute_batch reports these
        key = tuple(str(item[name]).strip() for name in names)
        if key in first:
            message = f"Same {', '.join(names)} as item {offset + first[key]} of this request."
            errors.append(operations.ItemError(offset + i, {field: [{"message": message, "code": "duplicate"}]}))
        else:
            first[key] = i
    return errors


def database_error(viewset: Any, exc: BaseException) -> dict[str, Any]:
    """A DRF-style error (``{field: [{"message", "code"}]}``) for one record the database refused."""
    cause: BaseException = exc
    while isinstance(cause, WriteConflict) and cause.__cause__ is not None:
        cause = cause.__cause__  # the IntegrityError / ProtectedError behind the API error
    if isinstance(cause, (ProtectedError, RestrictedError)):
        return {"non_field_errors": [{"message": str(cause.args[0]), "code": "protected"}]}
    code = "data_error" if isinstance(cause, DataError) else "integrity_error"
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return {_field_of(viewset, cause): [{"message": message, "code": code}]}


def _field_of(viewset: Any, exc: BaseException) -> str:
    """The model field a database error is about, when the driver says; else ``non_field_errors``."""
    try:
        model = viewset.get_queryset().model
    except Exception:
        return "non_field_errors"
    table = model._meta.db_table
    columns: list[str] = []
    diag: Any = getattr(exc.__cause__, "diag", None)  # psycopg's error behind Django's wrapper (PostgreSQL)
    if getattr(diag, "column_name", None):
        columns = [diag.column_name]
    elif getattr(diag, "constraint_name", None):
        constraint = diag.constraint_name
        for c in model._meta.constraints:
            if c.name == constraint and getattr(c, "fields", None):
                columns = [model._meta.get_field(name).column for name in c.fields]
        columns = columns or [f.column for f in model._meta.concrete_fields if constraint == f"{table}_{f.column}_key"]
    else:  # SQLite: "UNIQUE constraint failed: table.col" / "NOT NULL constraint failed: table.col"
        _, _, failed = str(exc).partition("constraint failed: ")
        columns = [part.split(".", 1)[1] for part in failed.split(", ") if part.startswith(f"{table}.")]
    names = [f.name for f in model._meta.concrete_fields if f.column in columns]
    return names[0] if len(names) == 1 and len(columns) == 1 else "non_field_errors"


def _pk_of(record: Any) -> Any:
    if isinstance(record, dict):
        for key in ("id", "pk"):
            if key in record:
                return record[key]
    return record


def _read_rows(job: BulkJob, viewset: Any, records: Sequence[Any], start: int) -> list[ResultRow]:
    queryset = viewset.get_queryset()
    pk_field = queryset.model._meta.pk
    wanted: list[tuple[int, Any]] = []
    results: list[ResultRow] = []
    for offset, record in enumerate(records):
        try:
            wanted.append((start + offset, parse_id(pk_field, _pk_of(record))))
        except InvalidId as exc:
            results.append(_not_found(job, start + offset, exc.code, exc.message))
    found = queryset.in_bulk([pk for _, pk in wanted])
    for index, pk in wanted:
        obj = found.get(pk)
        if obj is None:
            results.append(_not_found(job, index, "not_found", f"no row with id {pk} (or not visible to you)"))
            continue
        try:
            viewset.check_object_permissions(viewset.request, obj)
        except APIException as exc:
            results.append(_not_found(job, index, "permission_denied", str(exc.detail)))
            continue
        data = viewset.get_serializer(obj).data
        results.append(ResultRow(index, str(ResultKind.SUCCEEDED), str(pk), data=_jsonable(data)))
    results.sort(key=lambda r: r.index)
    return results


def _not_found(job: BulkJob, index: int, code: str, message: str) -> ResultRow:
    return ResultRow(index, str(ResultKind.FAILED), errors={"id": [{"message": message, "code": code}]})


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def requeue_stalled_jobs(stale_after: timedelta = timedelta(minutes=10)) -> list[str]:
    """Queue again every UploadComplete/InProgress job no worker has touched for ``stale_after``.

    Brokers that lose an unacknowledged message with a dead worker (kombu's filesystem transport)
    need this; Redis redelivers by itself after ``visibility_timeout``. Running it while a worker is
    still busy with a job is harmless: a chunk in work is held by its row lock, so a second run skips it.
    For a fanned-out job the queued ``bulk_drf.run_job`` sends again the chunks queued or claimed longer ago
    than ``BULK_DRF_STALE_AFTER`` (a lost message, a dead worker's chunk) and tops the job up to its cap.
    """
    cutoff = timezone.now() - stale_after
    stalled = BulkJob.objects.filter(
        state__in=[JobState.UPLOAD_COMPLETE, JobState.IN_PROGRESS], heartbeat_at__lt=cutoff
    ) | BulkJob.objects.filter(
        state__in=[JobState.UPLOAD_COMPLETE, JobState.IN_PROGRESS], heartbeat_at=None, upload_complete_at__lt=cutoff
    )
    ids = [str(pk) for pk in stalled.values_list("pk", flat=True)]
    for pk in ids:
        lifecycle.enqueue(BulkJob(pk=pk))
    return ids
