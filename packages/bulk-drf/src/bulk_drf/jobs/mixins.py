"""``BulkJobsMixin``: the ``/bulk/`` routes of a viewset (background jobs), as DRF's mixins add one action each.

Compose it with a ``GenericViewSet``/``ModelViewSet``; with ``bulk_drf.sync.BulkOperationsMixin`` as well
(or ``bulk_drf.BulkViewSetMixin``, which is both) a synchronous request above ``BULK_DRF_SYNC_MAX_ITEMS``
becomes a 202 job when ``BULK_DRF_AUTO_ASYNC`` is on (``bulk_too_large``).
Combined by hand, it goes first: ``class V(BulkJobsMixin, BulkOperationsMixin, ModelViewSet)``.

- ``POST/PATCH/PUT/DELETE /things/bulk/`` with data: one-shot -- creates a job, stores the data, queues it,
  answers 202 with the job's status document (``id``, ``state``, ``status_url``, ...) (``?dry_run=true``:
  validate only; ``?column_delimiter=``, ``?line_ending=``).
- ``POST /things/bulk/export/`` (and ``GET /things/bulk/?ids=``): a query job exporting the viewset's list as
  its filter backends filter it (``jobs.export``); 202 with the job's status document.
- ``POST /things/bulk/jobs/`` ``{"operation": ..., "unique_fields": [...]}``: a staged ``Open`` job;
  upload with ``PUT /api/bulk-jobs/{id}/data/``, then close with ``PATCH ... {"state": "UploadComplete"}``.
  ``GET /things/bulk/jobs/``: the caller's jobs of this viewset (the filters of ``jobs.listing``).

The viewset's authentication, permissions and throttles run on these routes as on any action; the
permissions are checked for the HTTP method the job's records will be written with.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..conf import bulk_settings
from ..sync import operations
from ..sync.exceptions import BulkValidationError, PayloadTooLarge
from ..sync.ids import InvalidId, id_parser
from ..sync.mixins import BulkOperationsMixin
from . import export, lifecycle
from .csv_options import DELIMITERS, ColumnDelimiter, LineEnding
from .errors import NOTHING_STORED
from .http import as_api_exception
from .listing import BulkJobPagination, filter_jobs
from .models import BulkJob
from .openapi import BulkJobRoutesSchema
from .serializers import BulkExportSerializer, BulkJobCreateSerializer, BulkJobSerializer, job_url
from .states import JobOperation
from .throttles import BulkJobCreateThrottle
from .uploads import CSVStreamParser, JSONStreamParser, RecordStream

__all__ = ["BulkJobsMixin", "BulkViewSetMixin", "check_record_ids"]

# The actions (method handlers) that create a job: throttled with the bulk_drf_jobs scope.
_CREATES_JOBS = frozenset({"bulk", "bulk_patch", "bulk_put", "bulk_delete", "bulk_read", "bulk_jobs", "bulk_export"})
# The actions whose permission is the one of what the job does, not of the request's method (check_permissions).
_PERMISSION_OF_THE_JOB = frozenset({"bulk_jobs", "bulk_export"})

if TYPE_CHECKING:
    # What the mixin is composed with, for the type checker only (at runtime a mixin stays a plain class).
    from rest_framework.viewsets import GenericViewSet

    _ViewSet = GenericViewSet[Any]
else:
    _ViewSet = object

_METHOD_OF = {
    JobOperation.INSERT: "POST",
    JobOperation.UPSERT: "POST",
    JobOperation.DELETE: "DELETE",
    JobOperation.READ: "GET",
}


class BulkJobsMixin(_ViewSet):
    """Adds the background-job routes (``bulk/`` and ``bulk/jobs/``) to a viewset."""

    schema = BulkJobRoutesSchema()

    @action(
        detail=False,
        methods=["post"],
        url_path="bulk",
        url_name="bulk",
        parser_classes=[JSONStreamParser, CSVStreamParser],
    )
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One-shot job: the method picks the operation (POST insert, PATCH/PUT update, DELETE; GET ``?ids=``: a
        query job of those rows)."""
        return self.start_bulk_job(request)

    @bulk.mapping.patch
    def bulk_patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.start_bulk_job(request)

    @bulk.mapping.put
    def bulk_put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.start_bulk_job(request)

    @bulk.mapping.delete
    def bulk_delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.start_bulk_job(request)

    @bulk.mapping.get
    def bulk_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.start_bulk_job(request)

    @action(detail=False, methods=["post"], url_path="bulk/jobs", url_name="bulk-jobs")
    def bulk_jobs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a staged ``Open`` job for this viewset."""
        owner = self._job_owner(request)
        body = BulkJobCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation, partial = body.validated_data["operation"], body.validated_data["partial"]
        # The permission of a staged job is the one of its operation: a read job is a GET (see check_permissions).
        self._check_job_permissions(request, _METHOD_OF.get(operation, "PATCH" if partial else "PUT"))
        self._check_unique_fields(body.validated_data["unique_fields"])
        with transaction.atomic():
            lifecycle.check_open_jobs(owner)
            job = lifecycle.create_job(
                owner=owner,
                viewset=type(self),
                operation=operation,
                unique_fields=body.validated_data["unique_fields"],
                partial=partial,
                dry_run=body.validated_data["dry_run"],
                column_delimiter=body.validated_data["column_delimiter"],
                line_ending=body.validated_data["line_ending"],
            )
        return Response(
            BulkJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
            headers=self._location(request, job),
        )

    @bulk_jobs.mapping.get
    def bulk_jobs_list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The caller's jobs of this viewset, newest first: ``?state=&operation=&created_after=&created_before=``
        (``jobs.listing``), ``?limit=&offset=``."""
        owner = self._job_owner(request)
        path = f"{type(self).__module__}.{type(self).__qualname__}"
        jobs = filter_jobs(BulkJob.objects.filter(owner_id=owner.pk, viewset=path), request.query_params)
        paginator = BulkJobPagination()
        page = paginator.paginate_queryset(jobs.order_by("-created_at", "-pk"), request, view=self)
        return paginator.get_paginated_response(BulkJobSerializer(page, many=True, context={"request": request}).data)

    @action(detail=False, methods=["post"], url_path="bulk/export", url_name="bulk-export")
    def bulk_export(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Query job: this viewset's list, filtered by the query parameters (its ``filter_backends``), exported by a
        worker; ``?fields=a,b`` / ``?ids=1,2`` or a body ``{"fields": [...], "ids": [...]}``; 202."""
        self._job_owner(request)
        self._check_job_permissions(request, "GET")  # an export reads (see check_permissions)
        body = request.data
        if not body:
            body = {}
        if not isinstance(body, dict):
            raise ParseError('expected a JSON object such as {"fields": ["id", "name"]}, or no body')
        options = BulkExportSerializer(data=body)
        options.is_valid(raise_exception=True)
        given = options.validated_data
        params = request.query_params
        fields = given["fields"] if "fields" in given else self._names(params.getlist("fields"))
        ids = given["ids"] if "ids" in given else (self._ids(request, True) if "ids" in params else None)
        for index, pk in enumerate(ids or ()):
            if isinstance(pk, bool | dict | list) or pk is None:  # numbers and text: the id syntax judges them
                raise ValidationError({"ids": [f"item {index}: a primary key is a string or an integer"]})
        csv_options = self._csv_options(request)
        csv_options.update({k: given[k] for k in ("column_delimiter", "line_ending") if k in given})
        return self.start_export_job(request, fields=fields, ids=ids, **csv_options)

    def start_export_job(
        self, request: Request, *, fields: Sequence[str] = (), ids: Sequence[Any] | None = None, **options: Any
    ) -> Response:
        """Create and queue a query job exporting this viewset's list as ``request`` filters it; answers 202.

        ``ids``: only the rows with these primary keys (the ones not found are its failed results); ``options``:
        ``column_delimiter``, ``line_ending``.
        """
        owner = self._job_owner(request)
        if ids is not None:
            check_record_ids(self, JobOperation.READ, ids)
        spec = export.export_spec(self, request, fields=fields, ids=ids)
        lifecycle.check_queue(NOTHING_STORED)  # 503 when no worker could get the job now: nothing is stored
        with transaction.atomic():
            lifecycle.check_open_jobs(owner)
            job = lifecycle.create_job(
                owner=owner, viewset=type(self), operation=JobOperation.QUERY, query=spec, **options
            )
            lifecycle.close(job, queue_checked=True)
        return self._accepted(request, job)

    def start_bulk_job(self, request: Request) -> Response:
        """Create, fill and queue a job from this request; answers 202. A ``GET`` (``?ids=``) is a query job.

        503 (``job_queue_unavailable``) before the body is read when no worker could get the job now (no Celery
        app, a broker that does not answer): nothing is stored, the client sends the request again."""
        owner = self._job_owner(request)
        method = request.method
        options = self._csv_options(request)
        if method == "GET":
            return self.start_export_job(request, ids=self._ids(request, required=True), **options)
        lifecycle.check_queue(NOTHING_STORED)
        records: list[Any] | RecordStream
        dry_run = self._flag(request, "dry_run")
        # The body (CSV) is parsed when first read, below: with the job's delimiter.
        request.parser_context["csv_delimiter"] = DELIMITERS[options.get("column_delimiter", ColumnDelimiter.COMMA)]
        unique_fields = [f for f in request.query_params.get("unique_fields", "").split(",") if f]
        if method == "DELETE":
            operation = JobOperation.DELETE
            body = request.data
            records = body if isinstance(body, list | RecordStream) and body else self._ids(request, True)
        else:
            records = request.data  # type: ignore[assignment]  # any parsed body (the stubs say dict), checked next
            if not isinstance(records, list | RecordStream):
                raise ParseError("expected a JSON array of records (or text/csv)")
            operation = (
                JobOperation.UPSERT
                if unique_fields
                else (JobOperation.INSERT if method == "POST" else JobOperation.UPDATE)
            )
        if not records:
            raise ValidationError({"non_field_errors": ["no records in the request"]})
        if isinstance(records, list) and len(records) > bulk_settings.MAX_RECORDS:
            raise PayloadTooLarge(f"{len(records)} records; BULK_DRF_MAX_RECORDS is {bulk_settings.MAX_RECORDS}")
        self._check_unique_fields(unique_fields)
        with transaction.atomic():  # a stream refused half-way (a limit, a parse error) leaves no job behind
            lifecycle.check_open_jobs(owner)
            job = lifecycle.create_job(
                owner=owner,
                viewset=type(self),
                operation=operation,
                unique_fields=unique_fields,
                partial=method != "PUT",
                dry_run=dry_run,
                **options,
            )
            # A body parsed whole (the synchronous route with AUTO_ASYNC): its size is the upload's (not so for
            # ?ids=, which add_records measures).
            body_size = int(request.META.get("CONTENT_LENGTH") or 0) if request.method not in ("GET", "DELETE") else 0
            lifecycle.add_records(
                job,
                records,
                size=body_size if isinstance(records, list) and body_size > 0 else None,
                check=lambda chunk, first: check_record_ids(self, operation, chunk, first_index=first),
            )
            lifecycle.close(job, queue_checked=True)
        return self._accepted(request, job)

    def _accepted(self, request: Request, job: BulkJob) -> Response:
        # The job's status document, as GET status_url answers it; "job_id" is the 0.1 spelling of "id", kept
        # for one release (deprecated).
        document = {**BulkJobSerializer(job, context={"request": request}).data, "job_id": str(job.pk)}
        return Response(document, status=status.HTTP_202_ACCEPTED, headers=self._location(request, job))

    def get_throttles(self) -> list[Any]:
        """The viewset's throttles, plus ``BulkJobCreateThrottle`` (``bulk_drf_jobs``) on the job-creating routes."""
        throttles = list(super().get_throttles())
        if getattr(self, "action", None) in _CREATES_JOBS:
            throttles.append(BulkJobCreateThrottle())
        return throttles

    def bulk_too_large(self, request: Request, items: list[Any]) -> Response:
        """The synchronous mixin's hook for too many items: a 202 job with ``BULK_DRF_AUTO_ASYNC``, else a 413
        pointing at ``/bulk/``."""
        if bulk_settings.AUTO_ASYNC:
            return self.start_bulk_job(request)
        bulk_url = request.build_absolute_uri(request.path.rstrip("/") + "/bulk/")
        raise PayloadTooLarge(
            f"This request carries {len(items)} items; synchronous requests take at most "
            f"{bulk_settings.SYNC_MAX_ITEMS} (BULK_DRF_SYNC_MAX_ITEMS). Send the same request to {bulk_url} "
            "to run it as a background job.",
            code="too_many_items",
        )

    def handle_exception(self, exc: Exception) -> Response:
        """DRF's, with the job errors answered with their status (``jobs.http``: 409, 429, 503, ...) and a
        too deeply nested JSON body answered 400."""
        return super().handle_exception(as_api_exception(exc))

    def check_permissions(self, request: Request) -> None:
        """DRF's check, except on ``POST bulk/jobs/`` and ``POST bulk/export/``: their method says nothing of the job.

        A staged job's permission is the one of its operation (``read`` is a ``GET``, ``delete`` a
        ``DELETE``, ...), known once the body is parsed: ``bulk_jobs`` checks it then, through
        ``_check_job_permissions``. A user who may read but not write can stage a read job, as they can
        run ``GET bulk/?ids=``. An export is a ``GET``.
        """
        if getattr(self, "action", None) in _PERMISSION_OF_THE_JOB and not getattr(self, "_bulk_job_method", None):
            return
        super().check_permissions(request)

    def _check_unique_fields(self, unique_fields: list[str]) -> None:
        """The same 400 as the synchronous endpoints for ``unique_fields`` that are not a unique key."""
        if unique_fields:
            operations.upsert_key(self.get_queryset().model, unique_fields)

    @staticmethod
    def _job_owner(request: Request) -> Any:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            raise NotAuthenticated("background jobs belong to a user: authenticate first")
        return user

    @staticmethod
    def _names(values: list[str]) -> list[str]:
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    @staticmethod
    def _flag(request: Request, name: str) -> bool:
        """A boolean query parameter (``true``/``false``, ``1``/``0``, ...); 400 naming it otherwise."""
        raw = request.query_params.get(name)
        if raw is None:
            return False
        try:
            return bool(serializers.BooleanField().run_validation(raw))
        except ValidationError as exc:
            raise ValidationError({name: exc.detail}) from None

    @staticmethod
    def _csv_options(request: Request) -> dict[str, str]:
        """``?column_delimiter=`` and ``?line_ending=`` (Salesforce's names); 400 naming a bad one."""
        options = {}
        for name, choices in (("column_delimiter", ColumnDelimiter), ("line_ending", LineEnding)):
            raw = request.query_params.get(name)
            if raw is None:
                continue
            try:
                options[name] = serializers.ChoiceField(choices=choices.choices).run_validation(raw)
            except ValidationError as exc:
                raise ValidationError({name: exc.detail}) from None
        return options

    @staticmethod
    def _ids(request: Request, required: bool) -> list[str]:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i.strip()]
        if required and not ids:
            raise ValidationError({"ids": ["give the ids, e.g. ?ids=1,2,3"]})
        return [i.strip() for i in ids]

    def _check_job_permissions(self, request: Request, method: str) -> None:
        """Run the viewset's permission classes as for a ``method`` request (the job's writes)."""
        if method != request.method:
            django_request = copy.copy(request._request)
            django_request.method = method
            clone = Request(django_request, authenticators=())
            clone.user, clone.auth = request.user, request.auth
            request = clone
        self._bulk_job_method = method
        self.check_permissions(request)

    @staticmethod
    def _location(request: Request, job: Any) -> dict[str, str]:
        url = job_url(job.pk)
        return {"Location": request.build_absolute_uri(url)} if url else {}


class BulkViewSetMixin(BulkJobsMixin, BulkOperationsMixin):
    """Both wings on one viewset, as DRF's ``ModelViewSet`` is its mixins together: arrays and ``?ids=`` on the
    list URL (``BulkOperationsMixin``) plus the ``/bulk/`` job routes (``BulkJobsMixin``); with
    ``BULK_DRF_AUTO_ASYNC`` a synchronous request above ``BULK_DRF_SYNC_MAX_ITEMS`` becomes a 202 job.
    Put it before ``ModelViewSet``: ``class Things(BulkViewSetMixin, ModelViewSet)``."""


def check_record_ids(viewset: Any, operation: str, records: Sequence[Any], first_index: int = 0) -> None:
    """400 listing the records whose id breaks the id syntax (``ids.parse_id``), before anything is stored.

    Delete and read records are ids (or objects with ``id``/``pk``); update records carry the viewset's
    ``bulk_id_field`` (a record without one is reported by the worker, as the synchronous update does).
    The worker parses the ids with the same rules, so a job created another way is held to them too.
    """
    if operation not in (JobOperation.DELETE, JobOperation.READ, JobOperation.UPDATE):
        return
    pk_field = viewset.get_queryset().model._meta.pk
    parse = id_parser(pk_field)
    id_key = getattr(viewset, "bulk_id_field", None) or pk_field.name
    errors: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if operation == JobOperation.UPDATE:
            if not isinstance(record, dict) or id_key not in record:
                continue
            key, raw = id_key, record[id_key]
        elif isinstance(record, dict):
            key = next((name for name in ("id", "pk") if name in record), "id")
            raw = record.get(key, record)
        else:
            key, raw = "id", record
        try:
            parse(raw)
        except InvalidId as exc:
            errors.append({"index": first_index + index, "errors": {key: [{"message": exc.message, "code": exc.code}]}})
            if len(errors) >= _MAX_REPORTED:
                break
    if errors:
        raise BulkValidationError(errors)


_MAX_REPORTED = 100  # a million bad ids need not produce a million errors
