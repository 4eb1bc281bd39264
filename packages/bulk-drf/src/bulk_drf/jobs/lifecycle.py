"""Job lifecycle operations: create a job, add data, move it between states, queue it.

``transition`` is the only code that changes ``BulkJob.state``: it checks the move against
``states.TRANSITIONS``, applies it with a conditional UPDATE (so two racing writers cannot both
win), stamps the state's timestamp, and once the transaction commits sends ``job_state_changed`` and
republishes the cached status (a rolled-back move sends and publishes nothing).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bulk_signals_core import ErrorStrategy
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from ..conf import bulk_settings
from ..sync.exceptions import PayloadTooLarge
from ..sync.storable import check_records
from . import progress, wiring
from .csv_options import ColumnDelimiter, LineEnding
from .errors import JOB_STAYS_OPEN, BrokerUnreachable, IllegalTransition, JobQueueUnavailable, TooManyOpenJobs
from .models import BulkJob, BulkJobDataChunk
from .signals import JobStateChanged, job_state_changed
from .states import FINAL_STATES, STATE_TIMESTAMPS, JobOperation, JobState, can_transition
from .uploads import RecordStream, UploadTooLarge

__all__ = [
    "Upload",
    "abort",
    "add_records",
    "add_upload",
    "check_open_jobs",
    "check_queue",
    "close",
    "create_job",
    "enqueue",
    "transition",
]

RUN_JOB_TASK = "bulk_drf.run_job"
"""The name of the Celery task that runs a job (``jobs.tasks.run_bulk_job``)."""

logger = logging.getLogger("bulk_drf.jobs")


def create_job(
    *,
    owner: Any,
    viewset: type | str,
    operation: str,
    unique_fields: Sequence[str] = (),
    partial: bool = True,
    dry_run: bool = False,
    column_delimiter: str = ColumnDelimiter.COMMA,
    line_ending: str = LineEnding.CRLF,
    query: dict[str, Any] | None = None,
) -> BulkJob:
    """Create an ``Open`` job of ``owner`` against ``viewset`` (a class or its dotted path).

    ``dry_run``: validate the records, write none (``jobs.dryrun``); ``column_delimiter``, ``line_ending``: its CSV
    (``csv_options``); ``query``: a query job's spec (``jobs.export.export_spec``).
    """
    path = viewset if isinstance(viewset, str) else f"{viewset.__module__}.{viewset.__qualname__}"
    job = BulkJob.objects.create(
        owner=owner,
        viewset=path,
        operation=JobOperation(operation),
        unique_fields=list(unique_fields),
        partial=partial,
        dry_run=dry_run,
        column_delimiter=ColumnDelimiter(column_delimiter),
        line_ending=LineEnding(line_ending),
        query=query,
    )
    send_after_commit(job_state_changed, JobStateChanged(job.pk, "", JobState.OPEN, job.created_at))
    return job


def check_open_jobs(owner: Any) -> None:
    """``TooManyOpenJobs`` (429) when ``owner`` already has ``BULK_DRF_MAX_OPEN_JOBS`` unfinished jobs.

    Call it in the transaction that creates the job: the owner's row is locked, so two concurrent
    requests of one user cannot both take the last free place.
    """
    limit = bulk_settings.MAX_OPEN_JOBS
    if limit is None:
        return
    list(get_user_model()._default_manager.select_for_update().filter(pk=owner.pk).values_list("pk"))
    unfinished = BulkJob.objects.filter(owner_id=owner.pk).exclude(state__in=FINAL_STATES).count()
    if unfinished >= limit:
        raise TooManyOpenJobs(unfinished, limit)


def send_after_commit(signal: Any, payload: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one); never for a rollback.

    A receiver that emails "job done" must not fire for a move that was rolled back. A receiver's error
    cannot undo the committed move either, so it is logged (``ErrorStrategy.LOG``), not raised into
    the request or the worker that made the move.
    """
    transaction.on_commit(lambda: signal.send(BulkJob, payload, errors=ErrorStrategy.LOG))


ChunkCheck = Callable[[list[Any], int], None]
"""``check(chunk, first_index)``: refuses (raises) a chunk of an upload as it is stored."""


@dataclass
class Upload:
    """What one upload added to a job: ``received`` records and ``bytes``; the job now holds ``total``."""

    received: int
    total: int
    bytes: int


def add_records(
    job: BulkJob, records: Iterable[Any], *, size: int | None = None, check: ChunkCheck | None = None
) -> int:
    """Append ``records`` to an ``Open`` job, stored in chunks of ``BULK_DRF_CHUNK_SIZE``; returns the new total.

    See ``add_upload``, which this calls.
    """
    return add_upload(job, records, size=size, check=check).total


def add_upload(
    job: BulkJob, records: Iterable[Any], *, size: int | None = None, check: ChunkCheck | None = None
) -> Upload:
    """Append ``records`` (a list, or an upload's ``RecordStream``) to an ``Open`` job, chunk by chunk.

    Raises ``BulkValidationError`` (400) for a record holding a value no database stores (``storable``) or
    refused by ``check(chunk, first_index)`` (the id syntax of a delete/read/update job), ``IllegalTransition``
    (409) when the job is not Open, ``PayloadTooLarge`` (413) when the job would exceed
    ``BULK_DRF_MAX_RECORDS`` records or ``BULK_DRF_MAX_JOB_BYTES`` bytes. Records are checked chunk by chunk
    as they are stored. ``size`` is the
    upload's size in bytes (a stream counts its own; a list without one is measured as compact JSON).
    Everything happens in one transaction: an upload refused half-way (a limit, a parse error in a
    stream) stores nothing. Safe against concurrent uploads to the same job: the job row is locked
    while its totals grow. A stream is stored while it is read: at most a few chunks are in memory.
    """
    limit = bulk_settings.MAX_RECORDS
    byte_limit = bulk_settings.MAX_JOB_BYTES
    chunk_size = max(1, bulk_settings.CHUNK_SIZE)
    with transaction.atomic():
        locked = BulkJob.objects.select_for_update().only("state", "total_records", "data_bytes").get(pk=job.pk)
        if locked.state != JobState.OPEN:
            raise IllegalTransition(
                locked.state,
                JobState.OPEN,
                detail=(f"data can only be added to an Open job; this job is {locked.state}"),
            )
        start, stored = locked.total_records, locked.data_bytes

        def job_too_large(upload: int | str) -> UploadTooLarge:
            return UploadTooLarge(
                f"the job would hold {upload} more bytes on top of the {stored} it holds; "
                f"BULK_DRF_MAX_JOB_BYTES is {byte_limit}"
            )

        if isinstance(records, RecordStream):
            records.reader.cap(byte_limit - stored, lambda: job_too_large(f"more than {byte_limit - stored}"))
        else:
            records = list(records)
            if start + len(records) > limit:
                raise PayloadTooLarge(
                    f"the job would hold {start + len(records)} records; BULK_DRF_MAX_RECORDS is {limit}"
                )
            size = _json_size(records) if size is None else size
            if stored + size > byte_limit:
                raise job_too_large(size)
        count = 0
        pending: list[BulkJobDataChunk] = []
        chunk: list[Any] = []
        for record in records:
            chunk.append(record)
            if len(chunk) == chunk_size:
                _check_chunk(chunk, count, check)
                pending.append(_chunk(job, start + count, chunk))
                count += len(chunk)
                chunk = []
                if start + count > limit:
                    raise PayloadTooLarge(
                        f"the job would hold more than {limit} records; BULK_DRF_MAX_RECORDS is {limit}"
                    )
                if len(pending) == _CHUNKS_PER_INSERT:
                    BulkJobDataChunk.objects.bulk_create(pending)
                    pending = []
        if chunk:
            _check_chunk(chunk, count, check)
            pending.append(_chunk(job, start + count, chunk))
            count += len(chunk)
            if start + count > limit:
                raise PayloadTooLarge(f"the job would hold {start + count} records; BULK_DRF_MAX_RECORDS is {limit}")
        BulkJobDataChunk.objects.bulk_create(pending)
        if isinstance(records, RecordStream):
            size = records.bytes_read
        total = start + count
        BulkJob.objects.filter(pk=job.pk).update(
            total_records=total, data_bytes=F("data_bytes") + (size or 0), last_upload_at=timezone.now()
        )
        job.state, job.total_records, job.data_bytes = locked.state, total, stored + (size or 0)
        _publish_on_commit(job)  # a status cached before this upload would show the old total
    return Upload(received=count, total=total, bytes=size or 0)


def _check_chunk(chunk: list[Any], first: int, check: ChunkCheck | None) -> None:
    check_records(chunk, first)  # 400 for NUL, lone surrogates, inf/NaN: jsonb would answer a 500
    if check is not None:
        check(chunk, first)


_CHUNKS_PER_INSERT = 4  # chunks written per INSERT: bounds the memory a streamed upload holds


def _chunk(job: BulkJob, start_index: int, records: list[Any]) -> BulkJobDataChunk:
    return BulkJobDataChunk(job_id=job.pk, start_index=start_index, count=len(records), records=records)


def _json_size(records: list[Any]) -> int:
    return len(json.dumps(records, cls=JSONEncoder, separators=(",", ":")).encode())


def load_records(job: BulkJob, start: int, stop: int) -> list[Any]:
    """The records at indexes ``start <= i < stop`` of the job's data (one query)."""
    return [record for _, record in _records_in(_chunks(job, start, stop), start, stop)]


def iter_records(job: BulkJob, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, record)`` for the job's records from ``start`` to ``stop``, reading a few chunks at a time."""
    stop = job.total_records if stop is None else stop
    yield from _records_in(_chunks(job, start, stop).iterator(chunk_size=4), start, stop)


def _chunks(job: BulkJob, start: int, stop: int) -> Any:
    # The chunk holding ``start`` begins at the greatest start_index <= start (a subquery), and
    # chunks are contiguous, so [that start, stop) covers exactly the chunks needed.
    first = (
        BulkJobDataChunk.objects.filter(job_id=job.pk, start_index__lte=start)
        .order_by("-start_index")
        .values("start_index")[:1]
    )
    return (
        BulkJobDataChunk.objects.filter(job_id=job.pk, start_index__lt=stop, start_index__gte=first)
        .order_by("start_index")
        .values_list("start_index", "records")
    )


def _records_in(chunks: Iterable[tuple[int, list[Any]]], start: int, stop: int) -> Iterator[tuple[int, Any]]:
    for chunk_start, chunk_records in chunks:
        lo, hi = max(start - chunk_start, 0), min(stop - chunk_start, len(chunk_records))
        for offset in range(lo, hi):
            yield chunk_start + offset, chunk_records[offset]


def transition(job: BulkJob, to_state: str, *, error_message: str = "") -> BulkJob:
    """Move ``job`` to ``to_state``, or raise ``IllegalTransition`` naming both states (409).

    The move is a conditional ``UPDATE ... WHERE state = <current>``; when another process moved the
    job first, the check is repeated against the state it left, so exactly one writer wins.
    """
    for _ in range(5):
        from_state = job.state
        if not can_transition(from_state, to_state):
            raise IllegalTransition(from_state, to_state)
        now = timezone.now()
        updates: dict[str, Any] = {"state": to_state, STATE_TIMESTAMPS[to_state]: now}
        if error_message:
            updates["error_message"] = error_message[:10_000]
        with transaction.atomic():
            if BulkJob.objects.filter(pk=job.pk, state=from_state).update(**updates):
                job.refresh_from_db()
                send_after_commit(
                    job_state_changed, JobStateChanged(job.pk, from_state, to_state, now, job.error_message)
                )
                _publish_on_commit(job)
                return job
        job.refresh_from_db(fields=["state"])  # someone else moved it: judge the move from where it is now
    raise IllegalTransition(job.state, to_state)


def _publish_on_commit(job: BulkJob) -> None:
    snapshot = progress.status_document(job)

    # set_status logs a cache error instead of raising it: the move is committed, the cache is a view.
    transaction.on_commit(lambda: progress.set_status(job.pk, snapshot))


def check_queue(outcome: str = JOB_STAYS_OPEN) -> None:
    """Refuse a job no worker could get now (:class:`JobQueueUnavailable`, 503): no Celery app is configured,
    or (:class:`BrokerUnreachable`) its broker does not answer. Nothing to check when tasks run eagerly.

    ``outcome`` ends the message: what the refusal left behind (``errors.JOB_STAYS_OPEN``, ``NOTHING_STORED``).
    """
    if wiring.runs_eagerly():
        return
    if not wiring.celery_is_configured():
        raise JobQueueUnavailable(outcome)
    problem = wiring.broker_problem()
    if problem is not None:
        raise BrokerUnreachable(*problem, outcome=outcome)


def close(job: BulkJob, *, queue_checked: bool = False) -> BulkJob:
    """``Open -> UploadComplete``, then queue the job for a worker once the transaction commits.

    Refused before the move (503 :class:`JobQueueUnavailable`; the job stays Open and can be closed again)
    when no worker could get it: no Celery app configured, or a broker that does not answer (``check_queue``;
    skipped when the caller ran it, ``queue_checked``). A broker that dies between that check and the publish
    at commit is logged; the job stays UploadComplete and the reaper (``requeue_stalled_jobs``) sends it."""
    if not queue_checked and can_transition(JobState(job.state), JobState.UPLOAD_COMPLETE):  # illegal: a 409
        check_queue()
    transition(job, JobState.UPLOAD_COMPLETE)
    enqueue(job)
    return job


def abort(job: BulkJob) -> BulkJob:
    """Move the job to ``Aborted``; a worker running it stops before its next chunk."""
    return transition(job, JobState.ABORTED)


def enqueue(job: BulkJob) -> None:
    """Send the job's id (never its data) to the broker after the current transaction commits."""
    job_id = str(job.pk)

    def send() -> None:
        try:
            # By name, so this module needs not import the tasks (which import the processing, which imports
            # this module). A registered task runs as its own ``apply_async`` (eagerly under task_always_eager).
            wiring.celery_app().signature(RUN_JOB_TASK, args=[job_id]).apply_async(task_id=f"bulk-drf-job-{job_id}")
        except Exception:
            # The job is committed: a 500 now would hide it from the client. It stays UploadComplete
            # with no heartbeat, and ``requeue_stalled_jobs`` (periodic) sends it once the broker is back.
            logger.exception("could not queue bulk job %s (broker down?); requeue_stalled_jobs will send it", job_id)

    transaction.on_commit(send)
