"""``BulkJobActionsMixin``: the ``/bulk/`` routes a viewset gets from ``BulkOperationsMixin``.

- ``POST/PATCH/PUT/DELETE /things/bulk/`` with data, ``GET /things/bulk/?ids=``: one-shot -- creates
  a job, stores the data, queues it, answers 202 ``{job_id, state, status_url}``.
- ``POST /things/bulk/jobs/`` ``{"operation": ..., "unique_fields": [...]}``: a staged ``Open`` job;
  upload with ``PUT /api/bulk-jobs/{id}/data/``, then close with ``PATCH ... {"state": "UploadComplete"}``.

The viewset's authentication, permissions and throttles run on these routes as on any action; the
permissions are checked for the HTTP method the job's records will be written with.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from . import jobs
from .conf import bulk_settings
from .exceptions import PayloadTooLarge
from .serializers import BulkJobCreateSerializer, BulkJobSerializer, job_url
from .states import JobOperation
from .throttles import BulkJobCreateThrottle
from .uploads import CSVStreamParser, JSONStreamParser, RecordStream

__all__ = ["BulkJobActionsMixin"]

# The actions (method handlers) that create a job: throttled with the bulk_drf_jobs scope.
_CREATES_JOBS = frozenset({"bulk", "bulk_patch", "bulk_put", "bulk_delete", "bulk_read", "bulk_jobs"})

_METHOD_OF = {
    JobOperation.INSERT: "POST", JobOperation.UPSERT: "POST", JobOperation.DELETE: "DELETE", JobOperation.READ: "GET",
}


class BulkJobActionsMixin:
    """Adds the background-job routes (``bulk/`` and ``bulk/jobs/``) to a viewset."""

    @action(
        detail=False, methods=["post"], url_path="bulk", url_name="bulk",
        parser_classes=[JSONStreamParser, CSVStreamParser],
    )
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One-shot job: the method picks the operation (POST insert, PATCH/PUT update, DELETE, GET read)."""
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
        self._check_job_permissions(request, _METHOD_OF.get(operation, "PATCH" if partial else "PUT"))
        with transaction.atomic():
            jobs.check_open_jobs(owner)
            job = jobs.create_job(
                owner=owner,
                viewset=type(self),
                operation=operation,
                unique_fields=body.validated_data["unique_fields"],
                partial=partial,
            )
        return Response(BulkJobSerializer(job).data, status=status.HTTP_201_CREATED, headers=self._location(job))

    def start_bulk_job(self, request: Request) -> Response:
        """Create, fill and queue a job from this request; answers 202."""
        owner = self._job_owner(request)
        method = request.method
        unique_fields = [f for f in request.query_params.get("unique_fields", "").split(",") if f]
        if method == "GET":
            operation, records = JobOperation.READ, self._ids(request, required=True)
        elif method == "DELETE":
            operation = JobOperation.DELETE
            body = request.data
            records = body if isinstance(body, list | RecordStream) and body else self._ids(request, True)
        else:
            records = request.data
            if not isinstance(records, list | RecordStream):
                raise ParseError("expected a JSON array of records (or text/csv)")
            operation = JobOperation.UPSERT if unique_fields else (
                JobOperation.INSERT if method == "POST" else JobOperation.UPDATE
            )
        if not records:
            raise ValidationError({"non_field_errors": ["no records in the request"]})
        if isinstance(records, list) and len(records) > bulk_settings.MAX_RECORDS:
            raise PayloadTooLarge(f"{len(records)} records; BULK_DRF_MAX_RECORDS is {bulk_settings.MAX_RECORDS}")
        with transaction.atomic():  # a stream refused half-way (a limit, a parse error) leaves no job behind
            jobs.check_open_jobs(owner)
            job = jobs.create_job(
                owner=owner, viewset=type(self), operation=operation, unique_fields=unique_fields,
                partial=method != "PUT",
            )
            # A body parsed whole (the synchronous route with AUTO_ASYNC): its size is the upload's (not so for
            # ?ids=, which add_records measures).
            body_size = int(request.META.get("CONTENT_LENGTH") or 0) if request.method not in ("GET", "DELETE") else 0
            jobs.add_records(job, records, size=body_size if isinstance(records, list) and body_size > 0 else None)
            jobs.close(job)
        status_url = job_url(job.pk)
        return Response(
            {
                "job_id": str(job.pk),
                "state": job.state,
                "operation": job.operation,
                "total_records": job.total_records,
                "status_url": request.build_absolute_uri(status_url) if status_url else None,
            },
            status=status.HTTP_202_ACCEPTED,
            headers=self._location(job),
        )

    def get_throttles(self) -> list[Any]:
        """The viewset's throttles, plus ``BulkJobCreateThrottle`` (``bulk_drf_jobs``) on the job-creating routes."""
        throttles = list(super().get_throttles())  # type: ignore[misc]
        if getattr(self, "action", None) in _CREATES_JOBS:
            throttles.append(BulkJobCreateThrottle())
        return throttles

    @staticmethod
    def _job_owner(request: Request) -> Any:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            raise NotAuthenticated("background jobs belong to a user: authenticate first")
        return user

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
        self.check_permissions(request)  # type: ignore[attr-defined]

    @staticmethod
    def _location(job: Any) -> dict[str, str]:
        url = job_url(job.pk)
        return {"Location": url} if url else {}
