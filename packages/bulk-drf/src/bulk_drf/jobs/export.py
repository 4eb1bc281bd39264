"""Query (export) jobs: the rows of a viewset's list, filtered as its list is, rendered in a worker into pages.

``POST /things/bulk/export/`` (``BulkJobsMixin.bulk_export``) checks and stores what to export
(``export_spec``): the request's query parameters, which the viewset's own ``filter_backends`` read (DRF's
``SearchFilter`` and ``OrderingFilter``, django-filter's ``DjangoFilterBackend``, yours), the fields to keep
(``?fields=a,b`` or ``{"fields": [...]}``) and, for ``?ids=`` (``GET /things/bulk/?ids=`` too), the primary keys.

A worker (``run_export``) rebuilds the viewset for the job's owner with those parameters, and reads
``filter_queryset(get_queryset())`` ``BULK_DRF_EXPORT_PAGE_SIZE`` rows at a time, renders them through the
viewset's serializer (``sync.rendering``: from the columns' values alone when every field reads a column,
with the per-field plan otherwise) and stores each page as JSON lines in one transaction with the job's
counters (``BulkJobResultPage``). Its memory is one page, however many rows the export holds. On PostgreSQL,
keyset pages of integer, text, boolean and decimal columns are rendered by PostgreSQL itself (``pg_render``,
whose contract says exactly when: the same text, byte for byte).

Pages follow the list's ordering. Ordered by primary key (or not at all: then by primary key), pages are read
by keyset (``pk > <last pk of the previous page>``): each page is one indexed query and a rerun after a crash
starts exactly after the last stored row. Any other ordering is read with one streaming cursor
(``QuerySet.iterator``), and a rerun skips the rows already stored (``OFFSET``): rows inserted or deleted
before that position meanwhile shift it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import islice
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]  # c_make_encoder: not in typeshed
from typing import Any

from bulk_signals_django.builders import select_blocks
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.query import ModelIterable
from django.http import QueryDict
from django.utils import timezone
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from ..conf import bulk_settings
from ..sync.exceptions import PayloadTooLarge
from ..sync.ids import InvalidId, id_parser
from ..sync.shortcuts import column_json_plan, js_safe, use_plain_views, use_render_plan
from ..sync.storable import printable, unstorable_text
from . import lifecycle, pg_render, processing, progress
from .errors import IllegalTransition
from .models import BulkJob, BulkJobResultPage
from .signals import JobProgress, job_progress
from .states import FINAL_STATES, JobState, ResultKind

__all__ = ["RESERVED_PARAMS", "export_spec", "run_export"]

logger = logging.getLogger("bulk_drf.export")

RESERVED_PARAMS = frozenset({"fields", "ids", "column_delimiter", "line_ending", "format"})
"""Query parameters of ``bulk/export/`` that are not filters (a filter of the viewset cannot use these names)."""


def readable_fields(viewset: Any) -> list[str]:
    """The names of the fields the viewset's serializer renders, in its order."""
    serializer = viewset.get_serializer()
    return [name for name, field in serializer.fields.items() if not field.write_only]


def export_spec(
    viewset: Any, request: Request, *, fields: Sequence[str] = (), ids: Sequence[Any] | None = None
) -> dict[str, Any]:
    """What a query job exports, checked now (a 400 naming the parameter), stored on the job, used by the worker.

    ``{"filters": [[name, value], ...], "fields": [...], "columns": [...], "ids": [...] | None}``: the request's
    query parameters but ``RESERVED_PARAMS``; the fields asked for (all when empty) and so the CSV columns, in
    the order asked; the primary keys asked for (their canonical text, without repeats), or None.
    The viewset's filter backends run on the request once (django-filter refuses bad values here with its
    own 400); the query itself runs in the worker.
    """
    filters: list[list[str]] = []
    for name, values in request.query_params.lists():
        if name in RESERVED_PARAMS:
            continue
        for value in values:
            for text in (name, value):
                reason = unstorable_text(text)
                if reason is not None:
                    raise ValidationError({printable(name)[:100]: [f"This value {reason}."]})
            filters.append([name, value])
    viewset.filter_queryset(viewset.get_queryset())  # a filter backend's own 400 (django-filter's), now
    readable = readable_fields(viewset)
    wanted = list(dict.fromkeys(fields))
    for name in wanted:
        if name not in readable:
            serializer_name = type(viewset.get_serializer()).__name__
            raise ValidationError(
                {
                    "fields": [
                        f"'{printable(name)[:100]}' is not a field of {serializer_name}; it has {', '.join(readable)}"
                    ]
                }
            )
    spec: dict[str, Any] = {"filters": filters, "fields": wanted, "columns": wanted or readable, "ids": None}
    if ids is not None:
        if len(ids) > bulk_settings.MAX_RECORDS:
            raise PayloadTooLarge(f"{len(ids)} ids; BULK_DRF_MAX_RECORDS is {bulk_settings.MAX_RECORDS}")
        parse = id_parser(viewset.get_queryset().model._meta.pk)
        canonical = dict.fromkeys(str(parse(raw)) for raw in ids)  # ids checked by the caller (check_record_ids)
        spec["ids"] = list(canonical)
    return spec


class _Stopped(Exception):
    """The job left InProgress (aborted) or another run moved its cursor: stop without writing."""


def run_export(job_id: Any, *, retry: bool = False) -> BulkJob | None:
    """Run a queued query job to its end (or until it is aborted); safe to call again after a crash.

    The same contract as ``processing.run_job``: ``attempts`` and ``MAX_ATTEMPTS``, ``TimeSliceUsed`` at
    ``BULK_DRF_TASK_SOFT_TIME_LIMIT`` (the job stays InProgress; call again to resume), the transient database
    errors raised for the task to retry (``processing.made_progress`` tells whether a page was committed), and
    None for a job that does not exist (or was deleted while it ran).
    """
    try:
        return _run(job_id, retry)
    except BulkJob.DoesNotExist:
        logger.warning("bulk job %s was deleted while it ran: stopped", job_id)
        progress.forget(job_id)
        return None


def _run(job_id: Any, retry: bool) -> BulkJob | None:
    limit = bulk_settings.TASK_SOFT_TIME_LIMIT
    deadline = None if limit is None else time.monotonic() + limit
    job = BulkJob.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("bulk job %s does not exist (deleted?): nothing to do", job_id)
        return None
    if job.state in FINAL_STATES or job.state == JobState.OPEN:
        progress.publish_status(job)
        return job
    ended = processing.begin_attempt(job, retry, records_required=False)
    if ended is not None:
        return ended
    exporter = _exporter(job)
    if isinstance(exporter, BulkJob):  # failed: the viewset cannot be set up
        return exporter
    ended = _export_pages(job, exporter, deadline)
    if ended is not None:
        return ended
    return _complete(job)


def _exporter(job: BulkJob) -> Exporter | BulkJob:
    """The job's ``Exporter``, or the failed job when its viewset cannot be set up for its owner."""
    try:
        return Exporter(job)
    except (SoftTimeLimitExceeded, *processing.TRANSIENT_DATABASE_ERRORS):  # type: ignore[misc]  # mypy reads no starred except tuple
        raise
    except APIException as exc:
        return processing.fail(job, f"the job's owner may not use {job.viewset}: {exc.detail}")
    except Exception as exc:
        return processing.fail(job, f"cannot set up {job.viewset}: {type(exc).__name__}: {exc}")


def _export_pages(job: BulkJob, exporter: Exporter, deadline: float | None) -> BulkJob | None:
    """Store the job's pages from its cursor on; the job when the run ends before the last one, else None."""
    first = last_published = job.processed_records
    try:
        for _ in exporter.pages():
            if job.processed_records - last_published >= bulk_settings.PROGRESS_UPDATE_INTERVAL:
                last_published = job.processed_records
                _publish_progress(job)
            if deadline is not None and time.monotonic() >= deadline:
                processing.end_time_slice(job.pk)
                raise processing.TimeSliceUsed(job.pk, job.processed_records)
    except _Stopped:
        job.refresh_from_db()
        progress.publish_status(job)
        return job
    except processing.TimeSliceUsed:
        raise
    except SoftTimeLimitExceeded:
        if job.processed_records > first:
            processing.end_time_slice(job.pk)
        raise
    except processing.TRANSIENT_DATABASE_ERRORS as exc:
        exc.bulk_drf_progressed = job.processed_records > first  # type: ignore[attr-defined]  # our marker, see processing.made_progress()
        raise
    except BulkJob.DoesNotExist:
        raise
    except Exception as exc:
        logger.exception("bulk job %s failed after row %s", job.pk, job.succeeded_records)
        job.refresh_from_db()
        if job.state != JobState.IN_PROGRESS:
            return job
        return processing.fail(job, f"unexpected error after {job.succeeded_records} rows: {type(exc).__name__}: {exc}")
    return None


def _complete(job: BulkJob) -> BulkJob:
    """The end of a run that read every row: the job holds what it read, JobComplete."""
    # The rows counted at the start may have changed meanwhile: the job holds what it read.
    BulkJob.objects.filter(pk=job.pk, state=JobState.IN_PROGRESS).update(total_records=job.processed_records)
    job.total_records = job.processed_records
    _publish_progress(job)
    try:
        return lifecycle.transition(job, JobState.JOB_COMPLETE)
    except IllegalTransition:
        job.refresh_from_db()
        return job


def _publish_progress(job: BulkJob) -> None:
    progress.publish_progress(job)
    lifecycle.send_after_commit(
        job_progress,
        JobProgress(job.pk, job.total_records, job.processed_records, job.succeeded_records, job.failed_records),
    )


class Exporter:
    """The viewset of a query job rebuilt for its owner, and the pages of its rows (``pages``)."""

    def __init__(self, job: BulkJob, *, render_in_database: bool = True) -> None:
        """``render_in_database=False``: never let PostgreSQL write the rows' JSON (``pg_render``), as a reference."""
        spec = job.query or {}
        self.job = job
        self._db = router.db_for_write(BulkJob)
        viewset = processing.build_viewset(job, method="GET")
        params = QueryDict(mutable=True)
        for name, value in spec.get("filters") or []:
            params.appendlist(name, value)
        viewset.request._request.GET = params  # what the filter backends read (request.query_params)
        self.viewset = viewset
        self.queryset = viewset.filter_queryset(viewset.get_queryset())
        self.model = self.queryset.model
        self.pk_field = self.model._meta.pk
        serializer = viewset.get_serializer([], many=True)
        child = serializer.child
        columns = list(spec.get("columns") or [])
        readable = [name for name, field in child.fields.items() if not field.write_only]
        missing = [name for name in columns if name not in readable]
        if missing:
            raise ValueError(f"{', '.join(missing)}: no longer a field of {type(child).__name__}")
        for name in readable:
            if name not in columns:
                del child.fields[name]
        use_plain_views(child)
        self.ids: list[str] | None = spec.get("ids")
        self._encode = row_encoder()
        plan = None
        if self.queryset._iterable_class is ModelIterable:
            plan = column_json_plan(serializer, self.model, self._encode)
        if plan is not None and self.queryset.query.distinct:
            plan = None  # values_list of other columns would change what DISTINCT keeps
        if plan is None:
            use_render_plan(serializer, self.model)
            self.attnames: list[str] | None = None
            self._render_objects = serializer.to_representation
        else:
            attnames, render = plan
            if self.pk_field.attname not in attnames:
                attnames = [*attnames, self.pk_field.attname]  # keyset pages and ids read the pk
            self.attnames, self._render_values = attnames, render
        self._pk_position = None if self.attnames is None else self.attnames.index(self.pk_field.attname)
        self._row_json = None  # keyset pages rendered by PostgreSQL itself, where it writes DRF's exact text
        if plan is not None and render_in_database and self.ids is None:
            self._row_json = pg_render.row_json_plan(serializer, self.queryset)

    # -- reading --------------------------------------------------------------------------------

    def pages(self) -> Iterator[None]:
        """Read, render and commit the next pages; yields after each committed page."""
        size = max(1, bulk_settings.EXPORT_PAGE_SIZE)
        if self.ids is not None:
            return self._id_pages(size)
        direction = self._keyset_direction()
        if self.job.processed_records == 0 and self.job.total_records == 0:
            total = self.queryset.count()
            BulkJob.objects.filter(pk=self.job.pk).update(total_records=total)
            self.job.total_records = total
        if direction is not None:
            return self._keyset_pages(size, direction)
        return self._streamed_pages(size)

    def _keyset_direction(self) -> str | None:
        """``"asc"``/``"desc"`` when the list is ordered by primary key alone (or not ordered), else None."""
        query = self.queryset.query
        if query.is_sliced or query.combinator or query.distinct_fields or query.extra_order_by:
            return None
        if query.order_by:
            order = list(query.order_by)
        else:
            order = list(self.model._meta.ordering) if query.default_ordering else []
        if not order:
            return "asc"
        if len(order) != 1 or not isinstance(order[0], str):
            return None
        name = order[0]
        descending = name.startswith("-")
        if name.lstrip("-") not in ("pk", self.pk_field.name, self.pk_field.attname):
            return None
        return "desc" if descending else "asc"

    def _fetch(self, queryset: Any) -> Any:
        return queryset.values_list(*self.attnames) if self.attnames is not None else queryset

    def _read(self, queryset: Any) -> list[Any]:
        """The rows of one page: ``list(self._fetch(queryset))``."""
        return list(queryset) if self.attnames is None else _values_of(queryset, self.attnames)

    def _pk_of(self, row: Any) -> Any:
        return row[self._pk_position] if self._pk_position is not None else row.pk

    def _render(self, rows: list[Any]) -> list[str]:
        encode = self._encode
        if self.attnames is not None:
            render = self._render_values  # straight to JSON text (column_json_plan)
            return [render(row) for row in rows]
        return [encode(row) for row in self._render_objects(rows)]

    def _keyset_pages(self, size: int, direction: str) -> Iterator[None]:
        ordering = self.pk_field.attname if direction == "asc" else f"-{self.pk_field.attname}"
        after = f"{self.pk_field.attname}__{'gt' if direction == 'asc' else 'lt'}"
        last = self._resume_pk()
        while True:
            queryset = (self.queryset if last is None else self.queryset.filter(**{after: last})).order_by(ordering)
            if self._row_json is not None and self.queryset.db == self._db:
                count, last_read = self._commit_rendered(queryset[:size], direction)
                if not count:
                    return
                last = self.pk_field.to_python(last_read)
                yield
                if count < size:
                    return
                continue
            if self._row_json is not None:  # the rows live in another database than the job: read, then store
                lines, last_read = self._row_json.read(queryset[:size], direction)
            else:
                rows = self._read(queryset[:size])
                lines = self._render(rows)
                last_read = self._pk_of(rows[-1]) if rows else None
            if not lines:
                return
            last = last_read
            self._commit(lines, consumed=len(lines), resume=str(last))
            yield
            if len(lines) < size:
                return

    def _resume_pk(self) -> Any:
        if self.job.processed_records == 0:
            return None
        last = (
            BulkJobResultPage.objects.filter(job_id=self.job.pk)
            .order_by("-start_index")
            .values_list("resume", flat=True)
            .first()
        )
        return None if not last else self.pk_field.to_python(last)

    def _streamed_pages(self, size: int) -> Iterator[None]:
        rows_left = self._fetch(self.queryset)[self.job.processed_records :].iterator(chunk_size=size)
        while True:
            rows = list(islice(rows_left, size))
            if not rows:
                return
            self._commit(self._render(rows), consumed=len(rows))
            yield

    def _id_pages(self, size: int) -> Iterator[None]:
        ids = self.ids or []
        parse = id_parser(self.pk_field)
        limit = connections[self.queryset.db].features.max_query_params  # SQLite binds at most 999 values
        size = min(size, limit) if limit else size
        if self.job.total_records != len(ids):
            BulkJob.objects.filter(pk=self.job.pk).update(total_records=len(ids))
            self.job.total_records = len(ids)
        while self.job.processed_records < len(ids):
            start = self.job.processed_records
            wanted: list[tuple[int, Any]] = []
            failed: list[processing.ResultRow] = []
            for index, raw in enumerate(ids[start : start + size], start):
                try:
                    wanted.append((index, parse(raw)))
                except InvalidId as exc:
                    failed.append(_missing(index, exc.code, exc.message))
            attname = self.pk_field.attname
            found = {
                self._pk_of(row): row
                for row in self._fetch(self.queryset.filter(**{f"{attname}__in": [pk for _, pk in wanted]}))
            }
            rows = []
            for index, pk in wanted:
                row = found.get(pk)
                if row is None:
                    failed.append(_missing(index, "not_found", f"no row with id {pk} (or not visible to you)"))
                else:
                    rows.append(row)
            failed.sort(key=lambda r: r.index)
            self._commit(self._render(rows), consumed=min(size, len(ids) - start), failed=failed)
            yield

    # -- writing --------------------------------------------------------------------------------

    def _commit(
        self, lines: list[str], *, consumed: int, resume: str = "", failed: Sequence[processing.ResultRow] = ()
    ) -> None:
        """Store one page (and the ids not found) with the job's counters, in one transaction.

        The counters move first, with a conditional UPDATE that also locks the job row: a second run of the
        same job (a redelivered task) waits there, then matches no row and stops, before writing anything. On
        PostgreSQL the transaction does not wait for its WAL flush (``synchronous_commit`` off, for this
        transaction only): a database crash may lose the last pages committed, but only with the counters
        committed in the same transactions (the WAL is replayed in order), so a rerun resumes exactly where
        the surviving pages end. The job's final state is committed as usual. On PostgreSQL a page without
        ids not found is one statement (``_commit_page``), its own transaction; elsewhere statement by statement.
        """
        job = self.job
        start = job.processed_records
        stop = start + consumed
        total = max(job.total_records, stop)
        connection = connections[self._db]
        if connection.vendor == "postgresql" and lines and not failed:
            # One statement: a transaction of its own (no BEGIN, no COMMIT to wait for), or part of the caller's.
            if not self._commit_page(connection, lines, resume):
                raise _Stopped
        else:
            with transaction.atomic(using=self._db):
                self._commit_statements(connection, lines, start, stop, total, resume, failed)
        job.processed_records, job.total_records = stop, total
        job.succeeded_records += len(lines)
        job.failed_records += len(failed)

    def _commit_page(self, connection: Any, lines: list[str], resume: str) -> bool:
        """PostgreSQL, a page rendered in Python: ``_store_page`` of the page's text, its parameters bound by the
        server (psycopg 3): a page of some 450 kB is sent as it is, not quoted into the SQL text. Whether it was
        stored."""
        text = "SELECT %s::integer AS n, %s::text AS body, %s::text AS last"
        _, _, stored = self._store_page(connection, text, [len(lines), "\n".join(lines), resume], _server_bound_cursor)
        return stored

    def _commit_rendered(self, page: Any, direction: str) -> tuple[int, str | None]:
        """PostgreSQL, the rows in the job's database: ``_store_page`` of ``page`` read and rendered by PostgreSQL
        (``pg_render``): the rows' text never leaves the server. ``(rows stored, the last one's pk as text)``;
        ``(0, None)`` at the end."""
        assert self._row_json is not None
        connection = connections[self._db]
        page_sql, page_params = self._row_json.page(page, direction)
        count, last, stored = self._store_page(connection, page_sql, page_params, lambda c: c.cursor())
        if not count:
            return 0, None
        if not stored:  # aborted, or another run moved the cursor
            raise _Stopped
        job, start = self.job, self.job.processed_records
        job.processed_records = start + count
        job.total_records = max(job.total_records, start + count)
        job.succeeded_records += count
        return int(count), last

    def _store_page(
        self, connection: Any, page_sql: str, page_params: list[Any], cursor_of: Callable[[Any], Any]
    ) -> tuple[int, str | None, bool]:
        """One statement, its own transaction (or part of the caller's): ``page_sql`` gives one row ``(n, body,
        last)`` (the page's row count, text and last pk), the counters' conditional UPDATE moves the job's cursor
        by ``n`` (and locks its row: a second run of the same job waits there, then matches no row) and sets
        ``synchronous_commit`` off, and the page's INSERT reads the UPDATE's row (none: nothing stored).
        ``(n, last, stored)``.

        ``set_config(..., true)`` lasts until the end of the transaction: in autocommit, the statement's own, whose
        commit it makes asynchronous (the session keeps its setting)."""
        job, jobs, pages = self.job, BulkJob._meta, BulkJobResultPage._meta
        quote = connection.ops.quote_name
        column = partial(_column, connection)
        processed, total, succeeded = (
            column(jobs, name) for name in ("processed_records", "total_records", "succeeded_records")
        )
        start = job.processed_records
        sql = (
            f"WITH page AS ({page_sql}), "
            f"moved AS (UPDATE {quote(jobs.db_table)} SET {processed} = %s + page.n, "
            f"{total} = GREATEST(%s, %s + page.n), {succeeded} = {succeeded} + page.n, "
            f"{column(jobs, 'heartbeat_at')} = %s FROM page "
            f"WHERE {column(jobs, 'id')} = %s AND {column(jobs, 'state')} = %s AND {processed} = %s AND page.n > 0 "
            "RETURNING set_config('synchronous_commit', 'off', true), page.n, page.body, page.last), "
            f"stored AS (INSERT INTO {quote(pages.db_table)} "
            f"({', '.join(column(pages, name) for name in self._PAGE_COLUMNS)}) "
            "SELECT %s, %s, moved.n, moved.body, moved.last::text FROM moved RETURNING 1) "
            "SELECT page.n, page.last::text, (SELECT count(*) FROM stored) FROM page"
        )
        params = [
            *page_params,
            *(start, job.total_records, start, timezone.now(), job.pk, str(JobState.IN_PROGRESS), start),
            *(job.pk, job.succeeded_records),
        ]
        with cursor_of(connection) as cursor:
            cursor.execute(sql, params)
            count, last, stored = cursor.fetchone()
        return int(count or 0), last, stored == 1

    _PAGE_COLUMNS = ("job", "start_index", "count", "rows", "resume")

    def _commit_statements(
        self,
        connection: Any,
        lines: list[str],
        start: int,
        stop: int,
        total: int,
        resume: str,
        failed: Sequence[processing.ResultRow],
    ) -> None:
        """``_commit``'s statements one by one (any database; ids pages with ids not found)."""
        job = self.job
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        moved = BulkJob.objects.filter(pk=job.pk, state=JobState.IN_PROGRESS, processed_records=start).update(
            processed_records=stop,
            total_records=total,
            succeeded_records=F("succeeded_records") + len(lines),
            failed_records=F("failed_records") + len(failed),
            heartbeat_at=timezone.now(),
        )
        if moved != 1:  # aborted, or another run moved the cursor
            raise _Stopped
        if lines:
            BulkJobResultPage.objects.create(
                job_id=job.pk,
                start_index=job.succeeded_records,
                count=len(lines),
                rows="\n".join(lines),
                resume=resume,
            )
        if failed:
            processing.store_results(job, failed)


def _column(connection: Any, meta: Any, name: str) -> str:
    """The quoted column of the field ``name`` of the model whose ``_meta`` is ``meta``."""
    return str(connection.ops.quote_name(meta.get_field(name).column))


def _values_of(queryset: Any, attnames: Sequence[str]) -> list[Any]:
    """``list(queryset.values_list(*attnames))``, the same tuples, read with one plain cursor (``select_blocks``:
    Django's converters applied as Django applies them, without its per-row iterator)."""
    rows: list[Any] = []
    for block in select_blocks(queryset, attnames):
        rows += block
    return rows


def _server_bound_cursor(connection: Any) -> Any:
    """A cursor of ``connection`` (PostgreSQL) whose parameters the server binds (psycopg 3's ``Cursor``; Django's
    is a ``ClientCursor``, which quotes them into the SQL text), wrapped as Django wraps its own (query logging,
    ``execute_wrapper``). psycopg 2 binds client-side only: its usual cursor."""
    if not processing._psycopg3():
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


def row_encoder() -> Callable[[Any], str]:
    """``encode(row)``: one row as compact JSON text, as DRF's ``JSONRenderer`` writes it (its encoder, non-ASCII
    kept, no NaN, U+2028/U+2029 escaped). ``JSONEncoder.encode`` builds its C encoder anew for every call, a cost
    as large as encoding a short row; the C encoder is built once here (the standard library's own)."""
    encoder = JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return lambda value: js_safe(encoder.encode(value))
    try:
        iterencode = c_make_encoder({}, encoder.default, encode_basestring, None, ":", ",", False, False, False)
    except TypeError:  # pragma: no cover - another signature: the public method
        return lambda value: js_safe(encoder.encode(value))
    join = "".join

    def encode(value: Any) -> str:
        text = join(iterencode(value, 0))
        return text if "\u2028" not in text and "\u2029" not in text else js_safe(text)

    return encode


def _missing(index: int, code: str, message: str) -> processing.ResultRow:
    return processing.ResultRow(index, str(ResultKind.FAILED), errors={"id": [{"message": message, "code": code}]})
