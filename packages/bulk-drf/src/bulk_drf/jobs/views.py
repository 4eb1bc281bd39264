"""``/api/bulk-jobs/``: status, data upload, close/abort, results and aggregates of background jobs.

Only a job's owner (or staff) sees or changes it; for anyone else the job does not exist (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.fields import HiddenField
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from ..sync.storable import printable
from . import aggregates, downloads, fanout, lifecycle, progress
from .csv_io import CSVRenderer
from .csv_options import DELIMITERS
from .cursors import decode_locator, encode_locator
from .errors import JobNotComplete, ResultsPurged
from .http import as_api_exception
from .listing import BulkJobPagination, count_param, filter_jobs
from .mixins import check_record_ids
from .models import BulkJob, BulkJobResult
from .openapi import BulkJobSchema
from .processing import build_viewset
from .serializers import BulkJobResultSerializer, BulkJobSerializer, BulkJobStateSerializer, absolute_urls
from .states import FINAL_STATES, JobOperation, JobState, ResultKind
from .uploads import CSVStreamParser, JSONStreamParser, RecordStream

__all__ = ["BulkJobPagination", "BulkJobViewSet", "results_csv"]

_PAGE_DEFAULT = 100
_PAGE_MAX = 10_000


def visible_to(user: Any, owner_id: Any) -> bool:
    """Whether ``user`` may see a job owned by ``owner_id`` (its owner, or staff)."""
    return bool(user.is_staff) or str(user.pk) == str(owner_id)


class BulkJobViewSet(mixins.ListModelMixin, GenericViewSet[BulkJob]):
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

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """DRF's, with an unknown ``?format=`` answered 400 naming the parameter (DRF answers 404)."""
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            formats = [r.format for r in self.get_renderers() if r.format != "api"]
            shown = printable(request.query_params.get("format", ""))[:40]
            raise ValidationError({"format": [f"'{shown}' is not one of {', '.join(formats)}"]}) from None

    def get_queryset(self) -> QuerySet[BulkJob]:
        jobs_qs = BulkJob.objects.all()
        if self.action == "list" or not self.request.user.is_staff:
            jobs_qs = jobs_qs.filter(owner_id=self.request.user.pk)  # the list is always one's own jobs
        if self.action == "list":
            # ?state=, ?operation=, ?created_after=, ?created_before= (listing.filter_jobs: 400 for a bad one)
            jobs_qs = filter_jobs(jobs_qs, self.request.query_params)
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
            return Response(absolute_urls(cached, request))
        job = self.get_job()
        return Response(absolute_urls(progress.publish_status(job), request))

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
        return Response(BulkJobSerializer(job, context={"request": request}).data)

    @action(detail=True, methods=["put"], parser_classes=[JSONStreamParser, CSVStreamParser], url_name="data")
    def data(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Append records (a JSON array, or CSV with a header line) to an Open job; repeatable.

        The body is parsed while it is stored (``uploads``): 413 past ``BULK_DRF_MAX_UPLOAD_BYTES`` or the
        job's ``BULK_DRF_MAX_JOB_BYTES``, and nothing of a refused upload is kept.
        """
        job = self.get_job()  # before the body is read: a stranger's upload is not parsed at all
        request.parser_context["csv_delimiter"] = DELIMITERS[job.column_delimiter]
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
        renderer_classes=[JSONRenderer, BrowsableAPIRenderer, CSVRenderer, downloads.NDJSONRenderer],
        url_name="results",
    )
    def results(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """Per-record outcomes (of a query job: the rows): ``?kind=succeeded|failed|unprocessed``, as JSON, CSV or
        NDJSON (``Accept`` or ``?format=``), paged by locator (``?locator=&max_records=``) or, for JSON pages of an
        ingest job, by ``?offset=&limit=``."""
        job = self.get_job()
        if job.results_purged_at is not None:
            raise ResultsPurged(job)
        params = request.query_params
        kind = params.get("kind", ResultKind.SUCCEEDED)
        if kind not in ResultKind.values:
            raise ValidationError({"kind": [f"{printable(kind)[:40]!r} is not one of {', '.join(ResultKind.values)}"]})
        fmt = getattr(request.accepted_renderer, "format", None) or "json"
        fmt = fmt if fmt in downloads.FORMATS else "json"  # the browsable API's page is the JSON one
        by_locator = "locator" in params or "max_records" in params
        if by_locator and ("offset" in params or "limit" in params):
            raise ValidationError({"locator": ["page by locator and max_records, or by offset and limit, not both"]})
        if job.operation == JobOperation.QUERY:
            if "offset" in params or "limit" in params:
                raise ValidationError({"offset": ["the results of a query job are paged by locator and max_records"]})
            if job.state not in FINAL_STATES:
                raise JobNotComplete(job.state, "the results of a query job are")
        elif fmt == "json" and not by_locator:
            return self._results_by_offset(request, job, kind)
        return self._results_by_locator(request, job, kind, fmt)

    def _results_by_locator(self, request: Request, job: BulkJob, kind: str, fmt: str) -> StreamingHttpResponse:
        """One page of a result list, streamed (``downloads``), its end named by the ``Bulk-Locator`` header."""
        params = request.query_params
        source = downloads.result_list(job, kind)
        start = source.first
        if "locator" in params:
            start = max(decode_locator(job.pk, kind, params["locator"]), source.first)
        max_records = count_param(request, "max_records", 0) if "max_records" in params else None
        if max_records == 0:
            raise ValidationError({"max_records": ["give at least 1 (or leave it out for every row that is left)"]})
        stop = source.next_position(start, max_records)
        next_locator = None if stop is None else encode_locator(job.pk, kind, stop)
        head = {
            "count": source.count,
            "locator": params.get("locator") if "locator" in params else None,
            "next_locator": next_locator,
            "next": None if next_locator is None else self._locator_url(request, next_locator),
        }
        response = StreamingHttpResponse(
            downloads.stream(source, start, stop, fmt, head), content_type=downloads.CONTENT_TYPES[fmt]
        )
        response["Bulk-Locator"] = next_locator or "null"
        if fmt != "json":
            response["Content-Disposition"] = f'attachment; filename="bulk-job-{job.pk}-{kind}.{fmt}"'
        return response

    def _results_by_offset(self, request: Request, job: BulkJob, kind: str) -> Response:
        offset, limit = self._page(request)
        if kind == ResultKind.UNPROCESSED:  # the records of the chunks not committed (not a prefix: fan-out)
            count = fanout.count_unprocessed(job)
            page = fanout.iter_unprocessed(job, offset, limit)
            rows: list[Any] = [{"index": index, "data": record} for index, record in page]
        else:
            queryset = BulkJobResult.objects.filter(job_id=job.pk, kind=kind).order_by("index")
            count = queryset.count()
            rows = BulkJobResultSerializer(queryset[offset : offset + limit], many=True).data  # type: ignore[assignment]  # many=True: a ReturnList
        return Response(
            {
                "count": count,
                "next": self._page_url(request, offset + limit, limit) if offset + limit < count else None,
                "previous": self._page_url(request, max(offset - limit, 0), limit) if offset > 0 else None,
                "results": rows,
            }
        )

    @staticmethod
    def _locator_url(request: Request, locator: str) -> str:
        query = request.query_params.copy()
        query["locator"] = locator
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    @staticmethod
    def _page(request: Request) -> tuple[int, int]:
        offset = count_param(request, "offset", 0)
        limit = count_param(request, "limit", _PAGE_DEFAULT)
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
        computed = aggregates.compute(job, viewset.get_queryset(), spec)
        # "job_id" is the 0.1 spelling, kept for one release (deprecated): every job response names the job "id".
        return Response({"id": str(job.pk), "aggregates": computed, "job_id": str(job.pk)})


def results_csv(job: BulkJob, kind: str) -> StreamingHttpResponse:
    """One whole result list of ``job`` as a streamed CSV download, with the job's ``column_delimiter`` and
    ``line_ending`` (``?kind=`` without a locator; the admin's downloads too)."""
    source = downloads.result_list(job, kind)
    response = StreamingHttpResponse(
        downloads.stream(source, source.first, None, "csv", {}), content_type=downloads.CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="bulk-job-{job.pk}-{kind}.csv"'
    return response


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
