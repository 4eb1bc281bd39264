"""Job storage: the job, its uploaded data (in chunks) and its per-record results, all in the database.

Nothing about a job lives only in Redis: the cache holds progress counters for cheap polling, the
database holds the truth, so a flushed cache or a dead worker loses nothing.

Django loads an app's models from ``<app>.models``: ``bulk_drf/models.py`` re-exports these (app label
``bulk_drf``, migrations in ``bulk_drf/migrations``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from .csv_options import ColumnDelimiter, LineEnding
from .states import STATE_TIMESTAMPS, ChunkState, JobOperation, JobState, ResultKind

__all__ = ["BulkJob", "BulkJobChunk", "BulkJobDataChunk", "BulkJobKeyClaim", "BulkJobResult", "BulkJobResultPage"]


class BulkJob(models.Model):
    """One background bulk operation against one viewset, owned by the user who created it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operation = models.CharField(max_length=10, choices=JobOperation.choices)
    viewset = models.CharField(max_length=255, help_text="dotted path of the target viewset class")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulk_jobs")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.OPEN, db_index=True)
    unique_fields = models.JSONField(default=list, blank=True)
    partial = models.BooleanField(default=True, help_text="update: PATCH semantics (else PUT)")
    dry_run = models.BooleanField(default=False, help_text="validate every record, write none (ingest jobs)")
    column_delimiter = models.CharField(
        max_length=10, choices=ColumnDelimiter.choices, default=ColumnDelimiter.COMMA, help_text="CSV in and out"
    )
    line_ending = models.CharField(
        max_length=4, choices=LineEnding.choices, default=LineEnding.CRLF, help_text="CSV downloads"
    )
    query = models.JSONField(
        null=True, blank=True, help_text="query jobs: the filter (query parameters), ids, fields and columns"
    )

    total_records = models.PositiveIntegerField(default=0)
    processed_records = models.PositiveIntegerField(default=0, help_text="records of the committed chunks")
    succeeded_records = models.PositiveIntegerField(default=0)
    failed_records = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="times a worker started this job")
    data_bytes = models.PositiveBigIntegerField(default=0, help_text="bytes of the uploads (BULK_DRF_MAX_JOB_BYTES)")
    error_message = models.TextField(blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    upload_complete_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    aborted_at = models.DateTimeField(null=True, blank=True)
    last_upload_at = models.DateTimeField(null=True, blank=True, help_text="last time data was added (Open job TTL)")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last time a worker committed a chunk")
    results_purged_at = models.DateTimeField(
        null=True, blank=True, help_text="when the per-record results and data were deleted (BULK_DRF_RESULTS_TTL)"
    )

    # Processing chunks (bulk_drf.jobs.fanout) and the job facts (bulk_drf.jobs.facts), kept up to date by the
    # transaction that commits each chunk.
    chunks_total = models.PositiveIntegerField(default=0, help_text="processing chunks planned")
    chunks_done = models.PositiveIntegerField(default=0, help_text="processing chunks committed")
    retries = models.PositiveIntegerField(default=0, help_text="runs of committed chunks beyond their first")
    total_processing_ms = models.PositiveBigIntegerField(
        default=0, help_text="wall time from the start of processing to the last committed chunk (ms)"
    )
    active_processing_ms = models.PositiveBigIntegerField(
        default=0, help_text="work time of the committed chunks, summed over the workers (ms)"
    )
    worker_names = models.JSONField(default=list, blank=True, help_text="the workers that committed chunks")

    class Meta:
        app_label = "bulk_drf"  # defined in bulk_drf.jobs, loaded by Django from bulk_drf.models
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="bulk_drf_job_owner_idx")]
        # The admin shows a staff user their own jobs; this permission shows them everyone's (docs/jobs.md#admin).
        permissions = [("view_all_jobs", "Can see every user's bulk jobs in the admin")]

    def __str__(self) -> str:
        return f"{self.operation} job {self.id} ({self.state})"

    @property
    def percentage(self) -> float:
        """Share of the records processed, 0-100."""
        return round(100.0 * self.processed_records / self.total_records, 2) if self.total_records else 0.0

    @property
    def workers_used(self) -> int:
        """How many distinct workers (Celery node names) committed a chunk of this job."""
        return len(self.worker_names or ())

    def state_history(self) -> list[tuple[str, Any]]:
        """``[(state, timestamp)]`` of every state this job entered, in order."""
        stamps = [(state, getattr(self, field)) for state, field in STATE_TIMESTAMPS.items()]
        return sorted(((s, t) for s, t in stamps if t is not None), key=lambda st: st[1])


class BulkJobDataChunk(models.Model):
    """A slice of a job's uploaded records: ``records[i]`` is the record at index ``start_index + i``."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="data_chunks")
    start_index = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    records = models.JSONField()

    class Meta:
        app_label = "bulk_drf"
        ordering = ["job", "start_index"]
        constraints = [models.UniqueConstraint(fields=["job", "start_index"], name="bulk_drf_chunk_unique_start")]


class BulkJobChunk(models.Model):
    """A unit of processing: records ``start_index <= i < stop_index`` of a job, committed in one transaction.

    Planned when the job starts (``bulk_drf.jobs.fanout.plan``); ``waiting`` counts the earlier chunks this one
    must wait for (they hold a record with the same key: see docs/jobs.md, "Parallel processing") and
    ``dependents`` lists the chunks waiting for this one.
    """

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    start_index = models.PositiveIntegerField()
    stop_index = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=ChunkState.choices, default=ChunkState.PENDING)
    waiting = models.PositiveIntegerField(default=0, help_text="earlier chunks not yet done that this one waits for")
    dependents = models.JSONField(default=list, blank=True, help_text="numbers of the chunks waiting for this one")
    token = models.CharField(max_length=32, blank=True, default="", help_text="the run that claimed it last")
    worker = models.CharField(max_length=255, blank=True, default="", help_text="the worker that claimed it last")
    attempts = models.PositiveIntegerField(default=0, help_text="runs started, retries after a database error aside")
    runs = models.PositiveIntegerField(default=0, help_text="runs started")
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    work_ms = models.PositiveBigIntegerField(default=0, help_text="time of the run that committed it (ms)")
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "bulk_drf"
        ordering = ["job_id", "number"]  # not "job": ordering by the relation would join (and lock) the job row
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="bulk_drf_jobchunk_unique_number")]
        indexes = [models.Index(fields=["job", "state", "number"], name="bulk_drf_jobchunk_state_idx")]

    def __str__(self) -> str:
        return f"chunk {self.number} of job {self.job_id} ({self.state})"


class BulkJobResult(models.Model):
    """The outcome of one record, keyed by its index in the uploaded data."""

    id = models.BigAutoField(primary_key=True)
    # A row per record, so each index and check costs: no index of its own (the unique (job, index) serves every
    # lookup by job) and no database constraint (one check per row at commit); jobs.deletion keeps rows from
    # outliving their job.
    job = models.ForeignKey(
        BulkJob, on_delete=models.CASCADE, related_name="results", db_index=False, db_constraint=False
    )
    index = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=ResultKind.choices)
    object_pk = models.CharField(max_length=255, blank=True, default="")
    created = models.BooleanField(default=False)
    errors = models.JSONField(null=True, blank=True)
    data = models.JSONField(null=True, blank=True, help_text="read jobs: the serialized row")

    class Meta:
        app_label = "bulk_drf"
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="bulk_drf_result_unique_index")]
        # The failed and unprocessed lists, in order. The succeeded list (most rows, often all) is read along the
        # unique (job, index) index: the rows a job writes most pay for one index fewer.
        indexes = [
            models.Index(
                fields=["job", "index"], condition=~models.Q(kind="succeeded"), name="bulk_drf_result_unsucceeded"
            )
        ]


class BulkJobResultPage(models.Model):
    """Rows of a query (export) job, rendered: ``rows`` holds ``count`` JSON documents, one a line, the first
    being row number ``start_index`` of the export."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="result_pages")
    start_index = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    rows = models.TextField()
    resume = models.CharField(
        max_length=255, blank=True, default="", help_text="the primary key of the page's last row (keyset resume)"
    )

    class Meta:
        app_label = "bulk_drf"
        ordering = ["job", "start_index"]
        constraints = [models.UniqueConstraint(fields=["job", "start_index"], name="bulk_drf_page_unique_start")]


class BulkJobKeyClaim(models.Model):
    """A dry run's note that record ``index`` would give the row ``row`` the value ``value`` of the unique key
    ``key``: records of different chunks that claim one value for different rows clash (``jobs.dryrun``)."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="key_claims")
    index = models.PositiveIntegerField()
    key = models.CharField(max_length=255, help_text="the key's field names, comma-separated")
    value = models.CharField(max_length=64, help_text="a digest of the key's value as the database stores it")
    row = models.CharField(max_length=255, help_text="which row: 'pk:<pk>' or 'new:<...>'")

    class Meta:
        app_label = "bulk_drf"
        indexes = [models.Index(fields=["job", "key", "value"], name="bulk_drf_claim_key_idx")]
