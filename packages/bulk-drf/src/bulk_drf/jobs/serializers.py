"""Serializers of the job API: the job's status document, the staged-job creation body, a job's results."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from .models import BulkJob, BulkJobResult
from .states import JobOperation, JobState

__all__ = [
    "BulkJobCreateSerializer",
    "BulkJobResultSerializer",
    "BulkJobSerializer",
    "BulkJobStateSerializer",
    "job_url",
]


def job_url(job_id: Any, name: str = "bulk-job-detail") -> str | None:
    """The path of a job endpoint (``/api/bulk-jobs/<id>/...``), or None when ``bulk_drf.urls`` is not included."""
    try:
        return reverse(f"bulk_drf:{name}", args=[str(job_id)])
    except NoReverseMatch:
        return None


class BulkJobSerializer(serializers.ModelSerializer):
    """A job's status: state, counters, percentage, timestamps, error, and where to go next."""

    owner = serializers.ReadOnlyField(source="owner_id")
    target = serializers.ReadOnlyField(source="viewset")
    percentage = serializers.FloatField(read_only=True)
    workers_used = serializers.IntegerField(read_only=True)
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

    def get_status_url(self, job: BulkJob) -> str | None:
        return job_url(job.pk)

    def get_results_url(self, job: BulkJob) -> str | None:
        return job_url(job.pk, "bulk-job-results")


class BulkJobCreateSerializer(serializers.Serializer):
    """``POST /things/bulk/jobs/``: what the staged job will do."""

    operation = serializers.ChoiceField(choices=JobOperation.choices)
    unique_fields = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    partial = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["operation"] == JobOperation.UPSERT and not attrs["unique_fields"]:
            raise serializers.ValidationError({"unique_fields": ["an upsert job needs unique_fields"]}, code="required")
        return attrs


class BulkJobStateSerializer(serializers.Serializer):
    """``PATCH /api/bulk-jobs/{id}/``: the state a client may ask for."""

    state = serializers.ChoiceField(choices=[JobState.UPLOAD_COMPLETE, JobState.ABORTED])


class BulkJobResultSerializer(serializers.ModelSerializer):
    """One record's outcome."""

    pk = serializers.CharField(source="object_pk")

    class Meta:
        model = BulkJobResult
        fields = ["index", "pk", "created", "errors", "data"]
        read_only_fields = fields
