"""Serializers of the job API: the job's status document, the staged-job creation body, a job's results."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from .csv_options import ColumnDelimiter, LineEnding
from .models import BulkJob, BulkJobResult
from .states import JobOperation, JobState

__all__ = [
    "BulkExportSerializer",
    "BulkJobCreateSerializer",
    "BulkJobResultSerializer",
    "BulkJobSerializer",
    "BulkJobStateSerializer",
    "absolute_urls",
    "job_url",
]

URL_KEYS = ("status_url", "results_url")


def job_url(job_id: Any, name: str = "bulk-job-detail") -> str | None:
    """The path of a job endpoint (``/api/bulk-jobs/<id>/...``), or None when ``bulk_drf.urls`` is not included."""
    try:
        return reverse(f"bulk_drf:{name}", args=[str(job_id)])
    except NoReverseMatch:
        return None


def absolute_urls(document: dict[str, Any], request: Any) -> dict[str, Any]:
    """``document`` with its ``status_url`` and ``results_url`` made absolute for ``request``'s host.

    Status documents are cached with paths (a worker has no request, and the cache is shared by every
    host name the API answers to); every response carries absolute URLs, as DRF's pagination links do.
    """
    return {
        key: request.build_absolute_uri(value) if key in URL_KEYS and isinstance(value, str) else value
        for key, value in document.items()
    }


class BulkJobSerializer(serializers.ModelSerializer[BulkJob]):
    """A job's status: state, counters, percentage, timestamps, error, and where to go next.

    ``status_url`` and ``results_url`` are absolute when the serializer has a ``request`` in its context
    (every response), paths otherwise (the cached status document).
    """

    owner = serializers.ReadOnlyField(source="owner_id")
    target = serializers.ReadOnlyField(source="viewset")
    percentage = serializers.FloatField(read_only=True)
    workers_used = serializers.IntegerField(read_only=True)
    query = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    results_url = serializers.SerializerMethodField()

    class Meta:
        model = BulkJob
        fields = [
            "id",
            "operation",
            "target",
            "owner",
            "state",
            "unique_fields",
            "partial",
            "dry_run",
            "column_delimiter",
            "line_ending",
            "query",
            "total_records",
            "processed_records",
            "succeeded_records",
            "failed_records",
            "percentage",
            "attempts",
            "retries",
            "total_processing_ms",
            "active_processing_ms",
            "workers_used",
            "error_message",
            "created_at",
            "upload_complete_at",
            "started_at",
            "completed_at",
            "failed_at",
            "aborted_at",
            "results_purged_at",
            "status_url",
            "results_url",
        ]
        read_only_fields = fields

    def get_query(self, job: BulkJob) -> dict[str, Any] | None:
        """A query job's filters (``{name: [values]}``), fields and number of ids; None for other jobs."""
        spec = job.query
        if job.operation != JobOperation.QUERY or not isinstance(spec, dict):
            return None
        filters: dict[str, list[str]] = {}
        for name, value in spec.get("filters") or []:
            filters.setdefault(name, []).append(value)
        ids = spec.get("ids")
        return {"filters": filters, "fields": spec.get("fields") or [], "ids": None if ids is None else len(ids)}

    def get_status_url(self, job: BulkJob) -> str | None:
        return self._url(job_url(job.pk))

    def get_results_url(self, job: BulkJob) -> str | None:
        return self._url(job_url(job.pk, "bulk-job-results"))

    def _url(self, path: str | None) -> str | None:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path is not None and request is not None else path


class BulkJobCreateSerializer(serializers.Serializer[Any]):
    """``POST /things/bulk/jobs/``: what the staged job will do."""

    operation = serializers.ChoiceField(choices=[c for c in JobOperation.choices if c[0] != JobOperation.QUERY])
    unique_fields = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    partial = serializers.BooleanField(required=False, default=True)  # type: ignore[assignment]  # DRF moves fields off the class
    dry_run = serializers.BooleanField(required=False, default=False)
    column_delimiter = serializers.ChoiceField(choices=ColumnDelimiter.choices, default=ColumnDelimiter.COMMA)
    line_ending = serializers.ChoiceField(choices=LineEnding.choices, default=LineEnding.CRLF)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["operation"] == JobOperation.UPSERT and not attrs["unique_fields"]:
            raise serializers.ValidationError({"unique_fields": ["an upsert job needs unique_fields"]}, code="required")
        if attrs["dry_run"] and attrs["operation"] == JobOperation.READ:
            raise serializers.ValidationError(
                {"dry_run": ["a dry run validates the records of an insert, update, upsert or delete job"]},
                code="invalid",
            )
        return attrs


class BulkExportSerializer(serializers.Serializer[Any]):
    """``POST /things/bulk/export/``'s optional body (each key may be a query parameter instead)."""

    ids = serializers.ListField(child=serializers.JSONField(), required=False, allow_empty=False)
    column_delimiter = serializers.ChoiceField(choices=ColumnDelimiter.choices, required=False)
    line_ending = serializers.ChoiceField(choices=LineEnding.choices, required=False)

    def get_fields(self) -> dict[str, Any]:
        # A key named "fields" cannot be declared: ``Serializer.fields`` is the serializer's own attribute.
        return {
            "fields": serializers.ListField(child=serializers.CharField(), required=False, allow_empty=True),
            **super().get_fields(),
        }


class BulkJobStateSerializer(serializers.Serializer[Any]):
    """``PATCH /api/bulk-jobs/{id}/``: the state a client may ask for."""

    state = serializers.ChoiceField(choices=[JobState.UPLOAD_COMPLETE, JobState.ABORTED])


class BulkJobResultSerializer(serializers.ModelSerializer[BulkJobResult]):
    """One record's outcome."""

    pk = serializers.SerializerMethodField()

    class Meta:
        model = BulkJobResult
        fields = ["index", "pk", "created", "errors", "data"]
        read_only_fields = fields

    def get_pk(self, result: BulkJobResult) -> str | None:
        """The row's primary key as text; ``null`` when the record has no row (a failed record)."""
        return result.object_pk or None
