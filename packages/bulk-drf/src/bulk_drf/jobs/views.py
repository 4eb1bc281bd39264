"""``/api/bulk-jobs/``: status, data upload, close/abort, results and aggregates of background jobs.

Only a job's owner (or staff) sees or changes it; for anyone else the job does not exist (404).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.fields import HiddenField
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from ..sync.storable import printable
from . import aggregates, fanout, lifecycle, progress
from .csv_io import CSVRenderer, csv_lines
from .errors import JobNotComplete, ResultsPurged
from .http import as_api_exception
from .mixins import check_record_ids
from .models import BulkJob, BulkJobResult
from .openapi import BulkJobSchema
from .processing import build_viewset
from .serializers import BulkJobResultSerializer, BulkJobSerializer, BulkJobStateSerializer
from .states import JobOperation, JobState, ResultKind
from .uploads import CSVStreamParser, JSONStreamParser, RecordStream

__all__ = ["BulkJobPagination", "BulkJobViewSet"]

_PAGE_DEFAULT = 100
_PAGE_MAX = 10_000


def visible_to(user: Any, owner_id: Any) -> bool:
    """Whether ``user`` may see a job owned by ``owner_id`` (its owner, or staff)."""
    return bool(user.is_staff) or str(user.pk) == str(owner_id)


_COUNT = re.compile(r"[0-9]{1,15}\Z")  # ASCII digits; 15 keep any offset + limit far inside a bigint


def _count_param(request: Request, name: str, default: int) -> int:
    """A non-negative integer query parameter: ASCII digits only (``int()`` takes "\\u0661", "1_0", "+1" and
    numbers past the database's bigint), else a 400 naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if _COUNT.match(raw) is None:
        raise ValidationError({name: [f"'{printable(raw)[:40]}' is not a count (ASCII digits, at most 15 of them)"]})
    return int(raw)


class BulkJobPagination(LimitOffsetPagination):
    """``?limit=&offset=`` on the job list: 50 jobs a page by default, at most 500."""

    default_limit = 50
    max_limit = 500

    def get_offset(self, request: Request) -> int:
        """DRF's offset, parsed as a count (400 for anything else: a huge offset is a database error)."""
        return _count_param(request, self.offset_query_param, 0)

    def get_limit(self, request: Request) -> int | None:
        """DRF's limit, parsed as a count, at least 1 and at most ``max_limit``."""
        limit = _count_param(request, self.limit_query_param, self.default_limit)
        return min(max(limit, 1), self.max_limit)


class BulkJobViewSet(mixins.ListModelMixin, GenericViewSet):
    """The job resource. ``GET`` on a job answers from the cache while the job runs (no query)."""

    serializer_class = BulkJobSerializer
    permission_classes = [IsAuthenticated]
    schema = BulkJobSchema()
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    # A user with years of jobs must not get them all in one response; pages are newest first.
    pagination_class = BulkJobPagination

    def handle_exception(self, exc: Exception) -> Response:
        """DRF's, with the job errors answered with their status (``jobs.http``) and a too deeply nested
        JSON body answered 400."""
        return super().handle_exception(as_api_exception(exc))

    def get_queryset(self) -> Any:
        jobs_qs = BulkJob.objects.all()
        if self.action == "list" or not self.request.user.is_staff:
            jobs_qs = jobs_qs.filter(owner_id=self.request.user.pk)  # the list is always one's own jobs
        if self.action == "list":
            jobs_qs = jobs_qs.order_by("-created_at", "-pk")  # pk breaks ties: stable pages
        return jobs_qs

    def get_job(self, *, lock: bool = False) -> BulkJob:
        """The job in the URL, if the user may see it (404 otherwise, also for malformed ids)."""
        queryset = self.get_queryset()
        if lock:
            queryset = queryset.select_for_update()
        job = queryset.filter(pk=self.job_id()).first()
        if job is None:
            raise Http404("no such bulk job")
        return job

    def job_id(self) -> str:
        """The URL's job id in canonical form; 404 for anything that is not a UUID.

        The route's regex lets through strings such as 36 dashes, which ``UUIDField`` would refuse with
        a 500; canonical form also makes ``A0...`` and ``a0...`` share one cache entry.
        """
        try:
            return str(uuid.UUID(self.kwargs["pk"]))
        except ValueError:
            raise Http404("no such bulk job") from None

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The job's status; from the cache when it holds it (0 queries), else from the job row."""
        cached = progress.get_status(self.job_id())
        if cached is not None:
            if not visible_to(request.user, cached["owner"]):
                raise Http404("no such bulk job")
            return Response(cached)
        job = self.get_job()
        return Response(progress.publish_status(job))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``{"state": "UploadComplete"}`` closes the job (and queues it); ``{"state": "Aborted"}`` aborts it."""
        body = BulkJobStateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            job = self.get_job()
            if body.validated_data["state"] == JobState.UPLOAD_COMPLETE:
                lifecycle.close(job)
            else:
                lifecycle.abort(job)
        return Response(BulkJobSerializer(job).data)

    @action(detail=True, methods=["put"], parser_classes=[JSONStreamParser, CSVStreamParser], url_name="data")
    def data(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Append records (a JSON array, or CSV with a header line) to an Open job; repeatable.

        The body is parsed while it is stored (``uploads``): 413 past ``BULK_DRF_MAX_UPLOAD_BYTES`` or the
        job's ``BULK_DRF_MAX_JOB_BYTES``, and nothing of a refused upload is kept.
        """
        job = self.get_job()  # before the body is read: a stranger's upload is not parsed at all
        records = request.data
        if not isinstance(records, list | RecordStream):
            raise ParseError("expected a JSON array of records (or text/csv)")
        if not records:
            raise ValidationError({"non_field_errors": ["no records in the request"]})
        columns = getattr(records, "columns", None)
        if columns is not None:
            _check_csv_columns(job, columns)
        upload = lifecycle.add_upload(job, records, check=_id_checker(job))
        return Response(
            {"id": str(job.pk), "state": job.state, "received": upload.received, "total_records": upload.total},
            status=status.HTTP_201_CREATED,
        )

    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, BrowsableAPIRenderer, CSVRenderer],
        url_name="results",
    )
    def results(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """Per-record outcomes: ``?kind=succeeded|failed|unprocessed``, ``?offset=&limit=``; CSV by ``Accept``."""
        job = self.get_job()
        if job.results_purged_at is not None:
            raise ResultsPurged(job)
        kind = request.query_params.get("kind", ResultKind.SUCCEEDED)
        if kind not in ResultKind.values:
            raise ValidationError({"kind": [f"{kind!r} is not one of {', '.join(ResultKind.values)}"]})
        as_csv = getattr(request.accepted_renderer, "format", None) == "csv"
        if as_csv:
            return self._results_csv(job, kind)
        offset, limit = self._page(request)
        if kind == ResultKind.UNPROCESSED:  # the records of the chunks not committed (not a prefix: fan-out)
            count = fanout.count_unprocessed(job)
            page = fanout.iter_unprocessed(job, offset, limit)
            rows: list[Any] = [{"index": index, "data": record} for index, record in page]
        else:
            queryset = BulkJobResult.objects.filter(job_id=job.pk, kind=kind).order_by("index")
            count = queryset.count()
            rows = BulkJobResultSerializer(queryset[offset : offset + limit], many=True).data
        return Response(
            {
                "count": count,
                "next": self._page_url(request, offset + limit, limit) if offset + limit < count else None,
                "previous": self._page_url(request, max(offset - limit, 0), limit) if offset > 0 else None,
                "results": rows,
            }
        )

    def _results_csv(self, job: BulkJob, kind: str) -> StreamingHttpResponse:
        if kind == ResultKind.UNPROCESSED:

            def unprocessed() -> Any:
                return (
                    {"index": index, **(record if isinstance(record, dict) else {"id": record})}
                    for index, record in fanout.iter_unprocessed(job)
                )

            # Records need not share their keys: a first pass collects every column, in order of appearance.
            columns = list(dict.fromkeys(key for row in unprocessed() for key in row)) or ["index"]
            lines = csv_lines(unprocessed(), columns=columns)
        else:
            queryset = BulkJobResult.objects.filter(job_id=job.pk, kind=kind).order_by("index")
            lines = csv_lines(
                (
                    {"index": r.index, "pk": r.object_pk, "created": r.created, "errors": r.errors, "data": r.data}
                    for r in queryset.iterator(chunk_size=2000)
                ),
                columns=["index", "pk", "created", "errors", "data"],
            )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="bulk-job-{job.pk}-{kind}.csv"'
        return response

    @staticmethod
    def _page(request: Request) -> tuple[int, int]:
        offset = _count_param(request, "offset", 0)
        limit = _count_param(request, "limit", _PAGE_DEFAULT)
        return offset, min(max(limit, 1), _PAGE_MAX)

    @staticmethod
    def _page_url(request: Request, offset: int, limit: int) -> str:
        query = request.query_params.copy()
        query["offset"], query["limit"] = str(offset), str(limit)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    @action(detail=True, methods=["get", "post"], url_name="aggregates")
    def aggregates(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``?sum=amount&avg=amount&count=*&custom=name`` (or the same as a JSON object in a POST)."""
        job = self.get_job()
        if job.state != JobState.JOB_COMPLETE:
            raise JobNotComplete(job.state)
        if job.results_purged_at is not None:
            raise ResultsPurged(job)
        if request.method == "POST":
            if not isinstance(request.data, dict):
                raise ParseError('expected a JSON object such as {"sum": ["amount"], "count": ["*"]}')
            spec = {k: v if isinstance(v, list) else [v] for k, v in request.data.items()}
            aggregates.check_spec(spec)  # names are strings: {"sum": {"a": 1}} is a 400, not a TypeError
        else:
            spec = {
                k: [f for value in request.query_params.getlist(k) for f in value.split(",") if f]
                for k in request.query_params
                if k not in ("format",)
            }
        viewset = build_viewset(job, method="GET")
        return Response({"job_id": str(job.pk), "aggregates": aggregates.compute(job, viewset.get_queryset(), spec)})


def _id_checker(job: BulkJob) -> Any:
    """For an upload to a delete, read or update job: ``check(chunk, first_index)``, a 400 for ids that break
    the id syntax (run on each chunk as the upload is stored); else None."""
    if job.operation not in (JobOperation.DELETE, JobOperation.READ, JobOperation.UPDATE):
        return None
    try:
        viewset = build_viewset(job)
    except Exception:  # the worker reports a viewset it cannot set up (and parses the ids with the same rules)
        return None
    return lambda chunk, first: check_record_ids(viewset, job.operation, chunk, first_index=first)


def _check_csv_columns(job: BulkJob, columns: list[str]) -> None:
    """400 for a CSV column the target serializer does not take.

    A JSON key the serializer does not know is the client's choice; a misspelt CSV header ("prcie")
    would silently drop that column from every record, so it is refused at upload.
    """
    if job.operation in (JobOperation.DELETE, JobOperation.READ):
        return
    try:
        serializer = build_viewset(job).get_serializer()
    except Exception:  # the worker reports a viewset it cannot set up; do not guess here
        return
    fields = getattr(serializer, "child", serializer).fields
    accepted = {"id", "pk"} | {
        name for name, field in fields.items() if not field.read_only and not isinstance(field, HiddenField)
    }
    for name in columns:
        if name not in accepted:
            raise ParseError(
                f"CSV line 1 (the header): {name!r} is not a field of {type(serializer).__name__}; "
                f"it takes {', '.join(sorted(accepted - {'pk'}))}"
            )
