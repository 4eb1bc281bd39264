"""Fan-out: a job's records in chunks that any worker may process, in parallel, each exactly once.

A job is planned into ``BulkJobChunk`` rows when it starts (``plan``): chunk ``k`` holds records
``[k·BULK_DRF_CHUNK_SIZE, (k+1)·BULK_DRF_CHUNK_SIZE)``, as the serial worker always cut them. On PostgreSQL
(outside eager runs) ``dispatch`` queues up to ``BULK_DRF_MAX_PARALLEL_CHUNKS`` of them as
``bulk_drf.run_chunk`` tasks, and each finished chunk queues the next; elsewhere one task takes them one
after another. Either way a chunk is processed the same way (``processing.process_chunk``):

1. ``claim`` (a short transaction): lock the chunk row (``FOR UPDATE SKIP LOCKED``: a chunk whose row is
   locked is being worked on, so a duplicate delivery leaves at once), check under the job row's lock that
   the job is still InProgress (an abort is seen by every later claim: no chunk starts after it), stamp
   a fresh ``token``, the worker and the start.
2. The work (one transaction): lock the chunk row again and check the token (a delivery that took it over
   meanwhile wins), write the rows, store the results, then ``commit_chunk``: release the chunks waiting for
   this one, lock the job row (``FOR NO KEY UPDATE``), refuse to commit into a job that left InProgress
   (the chunk rolls back: an aborted job keeps exactly the chunks committed before the abort), mark the
   chunk ``done`` and add its counts and facts to the job. The transaction that commits the last chunk moves
   the job to JobComplete (or Failed: every record failed; a dry run first settles its claims,
   ``dryrun.finish``): the barrier is a counter on the job row, no Celery chord, and exactly one chunk sees
   ``chunks_done == chunks_total``.

**Ordering.** Records of different chunks that touch the same row or the same unique value depend on each
other's order (an upsert key repeated in two chunks: the later one updates what the earlier one wrote). At
planning time PostgreSQL collects, for every record, its keys -- the id for update/delete, the value of
every unique field and unique-together set of the model (upsert's ``unique_fields`` among them) -- compared
as trimmed, lower-cased text (a false match only costs parallelism). A chunk sharing a key with an earlier
chunk waits (``waiting``) until that chunk is done, so such records are processed in the order, and with
the results, of serial processing. Chunks with no shared key run in any order.
"""

from __future__ import annotations

import logging
import math
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Any

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..conf import bulk_settings
from ..sync.validation import unique_keys
from . import facts, lifecycle, wiring
from .models import BulkJob, BulkJobChunk, BulkJobDataChunk
from .states import ChunkState, JobOperation, JobState

__all__ = [
    "CHUNK_TASK",
    "ChunkConflict",
    "Claim",
    "claim",
    "commit_chunk",
    "count_unprocessed",
    "dispatch",
    "hold",
    "iter_unprocessed",
    "key_specs",
    "next_range",
    "parallel_enabled",
    "plan",
    "send_chunks",
    "unprocessed_ranges",
    "worker_name",
]

logger = logging.getLogger("bulk_drf.fanout")

CHUNK_TASK = "bulk_drf.run_chunk"
"""The name of the Celery task that processes one chunk (``jobs.tasks.run_bulk_job_chunk``)."""

_IN_FLIGHT = (ChunkState.QUEUED, ChunkState.RUNNING)


class ChunkConflict(Exception):
    """Another delivery holds or committed this chunk, or the job left InProgress: roll back, re-read."""


def _connection() -> Any:
    return connections[router.db_for_write(BulkJobChunk)]


def parallel_enabled() -> bool:
    """Whether a job's chunks go out as separate tasks: PostgreSQL (row locks with ``SKIP LOCKED``),
    ``BULK_DRF_MAX_PARALLEL_CHUNKS`` above 1, and tasks that run on workers (not eagerly)."""
    return bulk_settings.MAX_PARALLEL_CHUNKS > 1 and _connection().vendor == "postgresql" and not wiring.runs_eagerly()


def worker_name() -> str:
    """This process's name for ``workers_used`` when no Celery node name is known: the host name."""
    return socket.gethostname()


# -- planning ---------------------------------------------------------------------------------------------

_PK = ("",)  # the key spec of a record's id: the viewset's id field, "id" or "pk", or the record itself


def key_specs(job: BulkJob, viewset: Any) -> list[tuple[str, ...]]:
    """The keys (record field names, one tuple per key) whose equal values order two records of a job.

    ``()`` for a read job: reads never depend on each other.
    """
    if job.operation == JobOperation.READ:
        return []
    specs: list[tuple[str, ...]] = [_PK]
    if job.operation == JobOperation.DELETE:
        return specs
    model = viewset.get_queryset().model
    try:
        serializer = viewset.get_serializer_class()(context=viewset.get_serializer_context())
        fields = getattr(serializer, "child", serializer).fields
        name_of = {f.source: name for name, f in fields.items() if isinstance(f.source, str) and f.source != "*"}
    except (TypeError, ValueError, AttributeError, AssertionError, LookupError):
        name_of = {}  # a serializer that cannot be built without data: the records use the model's names
    for key in unique_keys(model):
        specs.append(tuple(name_of.get(name, name) for name in key.names))
    if job.operation == JobOperation.UPSERT and job.unique_fields:
        specs.append(tuple(job.unique_fields))
    return list(dict.fromkeys(tuple(spec) for spec in specs))


def plan(job: BulkJob, viewset: Any) -> int:
    """Create the job's chunk rows, once (a second call returns the count); returns ``chunks_total``.

    A job started by an older version (a cursor, no chunks) gets a first chunk ``[0, cursor)`` already done.
    """
    with transaction.atomic(using=router.db_for_write(BulkJobChunk)):
        planned, total, cursor = (
            BulkJob.objects.select_for_update(no_key=True)
            .values_list("chunks_total", "total_records", "processed_records")
            .get(pk=job.pk)
        )
        if planned:
            job.chunks_total = planned
            return int(planned)
        size = max(1, bulk_settings.CHUNK_SIZE)
        ranges = [(0, cursor)] if cursor else []
        ranges += [(start, min(start + size, total)) for start in range(cursor, total, size)]
        waits_for = _dependencies(job, viewset, cursor, size) if ranges else {}
        dependents: dict[int, list[int]] = defaultdict(list)
        for later, earlier in waits_for.items():
            for number in earlier:
                dependents[number].append(later)
        done_first = bool(cursor)
        chunks = [
            BulkJobChunk(
                job_id=job.pk,
                number=number,
                start_index=start,
                stop_index=stop,
                state=ChunkState.DONE if done_first and number == 0 else ChunkState.PENDING,
                waiting=len(waits_for.get(number, ())),
                dependents=sorted(dependents.get(number, ())),
            )
            for number, (start, stop) in enumerate(ranges)
        ]
        BulkJobChunk.objects.bulk_create(chunks, batch_size=1000)
        BulkJob.objects.filter(pk=job.pk).update(chunks_total=len(chunks), chunks_done=1 if done_first else 0)
        job.chunks_total, job.chunks_done = len(chunks), 1 if done_first else 0
        return len(chunks)


def _dependencies(job: BulkJob, viewset: Any, cursor: int, size: int) -> dict[int, set[int]]:
    """``{chunk: {earlier chunks it waits for}}``: one query over the job's data, on PostgreSQL only.

    Other databases run a job's chunks one after another, in order, so nothing needs to wait.
    """
    connection = _connection()
    if connection.vendor != "postgresql":
        return {}
    specs = key_specs(job, viewset)
    if not specs:
        return {}
    id_names = list(dict.fromkeys([getattr(viewset, "bulk_id_field", None) or "id", "id", "pk"]))
    index = "(d.start_index + e.ord - 1)"  # the record's index in the job
    chunk = f"CASE WHEN {index} < %s THEN 0 ELSE %s + ({index} - %s) / %s END"
    chunk_params = [cursor, 1 if cursor else 0, cursor, size]
    table = connection.ops.quote_name(BulkJobDataChunk._meta.db_table)
    # One SELECT per key, appended (a lateral VALUES of every key costs twice as much), grouped by hashing: only
    # the keys found in two chunks or more are returned, with their chunks (repeats and order: Python's).
    params: list[Any] = []
    selects = []
    for number, spec in enumerate(specs):
        if spec == _PK:
            # A record of a delete/read job may be the id itself; a dict names it by the id field.
            ids = ", ".join(["e.rec ->> %s"] * len(id_names))
            key = f"CASE WHEN jsonb_typeof(e.rec) = 'object' THEN coalesce({ids}) ELSE e.rec #>> '{{}}' END"
            key = f"lower(btrim({key}))"
            key_params: list[Any] = list(id_names)
        else:
            key = " || chr(31) || ".join(["lower(btrim(e.rec ->> %s))"] * len(spec))
            key_params = list(spec)
        selects.append(
            f"SELECT {number} AS spec, {key} AS key, {chunk} AS chunk FROM {table} d "
            "CROSS JOIN LATERAL jsonb_array_elements(d.records) WITH ORDINALITY AS e(rec, ord) WHERE d.job_id = %s"
        )
        params += [*key_params, *chunk_params, job.pk]
    sql = (
        f"SELECT array_agg(i.chunk) FROM ({' UNION ALL '.join(selects)}) i WHERE i.key IS NOT NULL "
        "GROUP BY i.spec, i.key HAVING min(i.chunk) <> max(i.chunk)"
    )
    waits_for: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor_:
        cursor_.execute(sql, params)
        for (chunks,) in cursor_.fetchall():
            for earlier, later in pairwise(sorted(set(chunks))):
                if not (cursor and earlier == 0):  # the first chunk of a resumed job is done already
                    waits_for[later].add(earlier)
    return dict(waits_for)


# -- claiming and committing a chunk ----------------------------------------------------------------------


@dataclass
class Claim:
    """A run's hold on one chunk: the token it stamped, and what the facts need."""

    job_id: Any
    chunk_id: int
    number: int
    start: int
    stop: int
    token: str
    worker: str
    runs: int
    attempts: int
    dependents: list[int]
    started: float  # time.monotonic() at the claim

    @property
    def work_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def _bookkeeping_commit() -> None:
    """In a claim or dispatch transaction on PostgreSQL: commit without waiting for the WAL flush.

    These transactions only stamp who works on what; a database crash that loses one leaves a chunk pending
    or claimed by nobody, which the next delivery or the reaper takes again. The chunk's own transaction (its
    rows, results and ``done``) still commits synchronously, and flushes these records with its own.
    """
    connection = _connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _skip_locked(queryset: Any) -> Any:
    """``FOR UPDATE OF <chunk> SKIP LOCKED`` where the database has it (SQLite serialises writers instead).

    ``OF`` the chunk table only: a join to the job (an ordering by ``job``) must never lock the job row, which
    an abort has to be able to take while chunks are in work.
    """
    features = _connection().features
    if features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",) if features.has_select_for_update_of else ())
    return queryset


def claim(job_id: Any, number: int | None = None, *, worker: str = "", retry: bool = False) -> Claim | None:
    """Claim chunk ``number`` of the job (None: the first ready chunk in plan order); None when there is
    nothing to claim: the chunk is done, held by a live run, still waiting for an earlier chunk, or the job
    is no longer InProgress.

    ``retry``: this run follows a database error of the same chunk (counted in ``runs``, not ``attempts``).
    """
    with transaction.atomic(using=router.db_for_write(BulkJobChunk)):
        chunks = BulkJobChunk.objects.filter(job_id=job_id).exclude(state=ChunkState.DONE)
        # None: the first ready chunk, in plan order; else that chunk, ready or not (checked below).
        chunks = (
            chunks.filter(waiting=0).order_by("number") if number is None else chunks.filter(number=number).order_by()
        )
        row = (
            _skip_locked(chunks)
            .values("pk", "number", "start_index", "stop_index", "waiting", "runs", "attempts", "dependents")
            .first()
        )
        if row is None or row["waiting"]:
            return None
        # Under the job row's lock: an abort committed before this point is seen, one after it waits for us.
        state = BulkJob.objects.select_for_update(no_key=True).filter(pk=job_id).values_list("state", flat=True)
        if state.first() != JobState.IN_PROGRESS:
            return None
        _bookkeeping_commit()
        token = uuid.uuid4().hex
        runs, attempts = row["runs"] + 1, row["attempts"] + (0 if retry else 1)
        BulkJobChunk.objects.filter(pk=row["pk"]).update(
            state=ChunkState.RUNNING,
            token=token,
            worker=worker[:255],
            runs=runs,
            attempts=attempts,
            started_at=timezone.now(),
        )
    return Claim(
        job_id=job_id,
        chunk_id=row["pk"],
        number=row["number"],
        start=row["start_index"],
        stop=row["stop_index"],
        token=token,
        worker=worker,
        runs=runs,
        attempts=attempts,
        dependents=list(row["dependents"] or ()),
        started=time.monotonic(),
    )


def hold(held: Claim) -> None:
    """In the chunk's work transaction: lock its row; ``ChunkConflict`` when another run holds or took it."""
    chunk = BulkJobChunk.objects.filter(pk=held.chunk_id).order_by()
    row = _skip_locked(chunk).values_list("state", "token").first()
    if row is None or row[0] == ChunkState.DONE or row[1] != held.token:
        raise ChunkConflict


@dataclass
class Committed:
    """The job's counters right after a chunk committed (before: ``processed_before``)."""

    processed_before: int
    final: bool


def commit_chunk(
    job: BulkJob, held: Claim, succeeded: int, failed: int, *, end: Callable[[BulkJob], None]
) -> Committed:
    """The end of a chunk's work transaction: release its dependents, add its counts and facts to the job
    row, and, for the last chunk, call ``end(job)`` (``processing._complete``), which moves the job to its final
    state: exactly one chunk's transaction does, under the job row's lock. Updates ``job`` in memory.

    ``ChunkConflict`` (the caller rolls the chunk back) when the job left InProgress meanwhile.
    """
    if held.dependents:  # before the job row's lock: every lock on the job row is taken last (no deadlock)
        BulkJobChunk.objects.filter(job_id=job.pk, number__in=held.dependents).update(waiting=F("waiting") - 1)
    locked = (
        BulkJob.objects.select_for_update(no_key=True)
        .filter(pk=job.pk)
        .values(
            "state",
            "chunks_done",
            "chunks_total",
            "processed_records",
            "succeeded_records",
            "failed_records",
            "started_at",
            "total_processing_ms",
            "active_processing_ms",
            "retries",
            "worker_names",
        )
        .first()
    )
    if locked is None:
        raise BulkJob.DoesNotExist
    if locked["state"] != JobState.IN_PROGRESS:
        raise ChunkConflict
    now = timezone.now()
    work_ms = held.work_ms
    moved = (
        BulkJobChunk.objects.filter(pk=held.chunk_id, token=held.token)
        .exclude(state=ChunkState.DONE)
        .update(state=ChunkState.DONE, finished_at=now, work_ms=work_ms, succeeded=succeeded, failed=failed)
    )
    if moved != 1:  # the row lock of ``hold`` makes this unreachable where there are row locks (not SQLite)
        raise ChunkConflict
    count = held.stop - held.start
    updates = facts.committed_chunk(locked, work_ms=work_ms, worker=held.worker, runs=held.runs, now=now)
    BulkJob.objects.filter(pk=job.pk).update(
        processed_records=F("processed_records") + count,
        succeeded_records=F("succeeded_records") + succeeded,
        failed_records=F("failed_records") + failed,
        chunks_done=F("chunks_done") + 1,
        heartbeat_at=now,
        **updates,
    )
    job.state = JobState.IN_PROGRESS
    job.processed_records = locked["processed_records"] + count
    job.succeeded_records = locked["succeeded_records"] + succeeded
    job.failed_records = locked["failed_records"] + failed
    job.chunks_done, job.chunks_total = locked["chunks_done"] + 1, locked["chunks_total"]
    job.heartbeat_at = now
    for name, value in updates.items():
        setattr(job, name, value)
    final = job.chunks_done >= job.chunks_total
    if final:
        end(job)
    return Committed(processed_before=locked["processed_records"], final=final)


# -- dispatching chunk tasks ------------------------------------------------------------------------------


def dispatch(job_id: Any, *, resend_after: float | None = None) -> list[int]:
    """Queue the job's next ready chunks, so that at most ``BULK_DRF_MAX_PARALLEL_CHUNKS`` are queued or
    running; returns the numbers queued. Called when a job starts and after each chunk.

    ``resend_after`` (seconds; the reaper): also send again the chunks queued or claimed longer ago than
    that -- a message lost with a broker, a worker that died holding a chunk. A chunk still in work is not
    run twice: the second delivery finds its row locked and leaves.
    """
    cap = bulk_settings.MAX_PARALLEL_CHUNKS
    with transaction.atomic(using=router.db_for_write(BulkJobChunk)):
        # The job row's lock serialises dispatches of one job: two chunks ending at once cannot both fill
        # the last free place.
        state = BulkJob.objects.select_for_update(no_key=True).filter(pk=job_id).values_list("state", flat=True)
        if state.first() != JobState.IN_PROGRESS:
            return []
        now = timezone.now()
        chunks = BulkJobChunk.objects.filter(job_id=job_id)
        again: list[int] = []
        if resend_after is not None:
            cutoff = now - timedelta(seconds=resend_after)
            stale = chunks.filter(state__in=_IN_FLIGHT).filter(
                Q(queued_at__lt=cutoff) | Q(queued_at=None),
                Q(started_at__lt=cutoff) | Q(started_at=None),
            )
            # SKIP LOCKED: a chunk row another transaction holds is in work (or being deleted), not stale; waiting
            # for it here, under the job row's lock, would deadlock with that chunk's commit.
            again = list(_skip_locked(stale).values_list("number", flat=True))
            if again:
                chunks.filter(number__in=again).update(queued_at=now)
        free = cap - chunks.filter(state__in=_IN_FLIGHT).count()
        ready: list[int] = []
        if free > 0:
            pending = chunks.filter(state=ChunkState.PENDING, waiting=0).order_by("number")
            ready = list(_skip_locked(pending).values_list("number", flat=True)[:free])
            if ready:
                chunks.filter(number__in=ready).update(state=ChunkState.QUEUED, queued_at=now)
        numbers = again + ready
        if numbers:
            _bookkeeping_commit()
            transaction.on_commit(lambda: send_chunks(job_id, numbers))
    return numbers


def send_chunks(job_id: Any, numbers: list[int]) -> None:
    """Send one ``bulk_drf.run_chunk`` message per chunk (by task name: no import of the tasks).

    A broker error is logged: the chunks stay ``queued`` and the reaper sends them again.
    """
    app = wiring.celery_app()
    for number in numbers:
        try:
            app.signature(CHUNK_TASK, args=[str(job_id), number]).apply_async(
                task_id=f"bulk-drf-job-{job_id}-chunk-{number}-{uuid.uuid4().hex[:8]}"
            )
        except Exception:
            logger.exception("could not queue chunk %s of bulk job %s; the reaper will send it", number, job_id)


# -- what is left -----------------------------------------------------------------------------------------


def unprocessed_ranges(job: BulkJob) -> list[tuple[int, int]]:
    """``[(start, stop)]`` of the job's records no committed chunk holds, in order, adjacent ranges merged."""
    if not job.chunks_total:
        return [(job.processed_records, job.total_records)] if job.processed_records < job.total_records else []
    ranges: list[tuple[int, int]] = []
    rows = BulkJobChunk.objects.filter(job_id=job.pk).exclude(state=ChunkState.DONE).order_by("number")
    for start, stop in rows.values_list("start_index", "stop_index"):
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], stop)
        else:
            ranges.append((start, stop))
    return ranges


def count_unprocessed(job: BulkJob) -> int:
    """How many of the job's records no committed chunk holds."""
    return sum(stop - start for start, stop in unprocessed_ranges(job))


def iter_unprocessed(job: BulkJob, offset: int = 0, limit: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, record)`` of the records no committed chunk holds, from the ``offset``-th, at most ``limit``."""
    left = math.inf if limit is None else limit
    for start, stop in unprocessed_ranges(job):
        if left <= 0:
            return
        if offset >= stop - start:
            offset -= stop - start
            continue
        first = start + offset
        offset = 0
        last = int(min(stop, first + left))
        left -= last - first
        yield from lifecycle.iter_records(job, first, last)


def next_range(job: BulkJob) -> tuple[int, int]:
    """The records of the first chunk not committed yet (for error messages)."""
    if not job.chunks_total:
        return job.processed_records, min(job.processed_records + max(1, bulk_settings.CHUNK_SIZE), job.total_records)
    rows = BulkJobChunk.objects.filter(job_id=job.pk).exclude(state=ChunkState.DONE).order_by("number")
    first = rows.values_list("start_index", "stop_index").first()
    return first if first is not None else (job.total_records, job.total_records)
