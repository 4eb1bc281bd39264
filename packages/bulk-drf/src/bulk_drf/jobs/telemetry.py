"""OpenTelemetry spans and metrics of the job worker (``pip install bulk-drf[otel]``: ``opentelemetry-api``).

A span per job run and one per chunk; counters of the records processed and failed; histograms of the chunk
duration and of the queue wait. The run span is started in the current context, so under
``opentelemetry-instrumentation-celery`` it is a child of the Celery task's span (``run/bulk_drf.run_job``),
and the chunk spans are its children. Names and attributes: docs/jobs.md#opentelemetry.

Off -- ``opentelemetry-api`` not installed, or ``BULK_DRF_OPENTELEMETRY = False`` -- the hooks call the
wrapped function straight away: a module attribute and a settings read per chunk, nothing else. With the API
but no SDK configured, the API's no-op tracer and meter answer (cheap, but not free: turn the setting off).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

from ..conf import bulk_settings
from .models import BulkJob

try:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace as otel_trace
except ImportError:  # bulk-drf[otel] not installed: every hook is a plain call
    otel_metrics = otel_trace = None  # type: ignore[assignment]  # the modules, or None without the extra

__all__ = [
    "METRIC_CHUNK_DURATION",
    "METRIC_QUEUE_WAIT",
    "METRIC_RECORDS_FAILED",
    "METRIC_RECORDS_PROCESSED",
    "SPAN_CHUNK",
    "SPAN_RUN",
    "enabled",
    "process_chunk",
    "run_job",
]

INSTRUMENTATION_NAME = "bulk_drf"
SPAN_RUN = "bulk_drf.job.run"
"""One run of a job by a worker (a job paused by its time limit or retried has several)."""
SPAN_CHUNK = "bulk_drf.job.chunk"
"""One chunk: ``BULK_DRF_CHUNK_SIZE`` records written (or read) and committed in one transaction."""
METRIC_RECORDS_PROCESSED = "bulk_drf.job.records.processed"
METRIC_RECORDS_FAILED = "bulk_drf.job.records.failed"
METRIC_CHUNK_DURATION = "bulk_drf.job.chunk.duration"
METRIC_QUEUE_WAIT = "bulk_drf.job.queue_wait"

_T = TypeVar("_T")


def enabled() -> bool:
    """Whether the hooks trace and measure: ``opentelemetry-api`` is installed and ``BULK_DRF_OPENTELEMETRY``."""
    return otel_trace is not None and bulk_settings.OPENTELEMETRY


class _Instruments(NamedTuple):
    tracer: Any
    processed: Any
    failed: Any
    chunk_duration: Any
    queue_wait: Any


_instruments: _Instruments | None = None


def _tools() -> _Instruments:
    """The tracer and instruments, made once: the API's proxies follow a provider configured later."""
    global _instruments
    if _instruments is None:
        from .. import __version__

        tracer = otel_trace.get_tracer(INSTRUMENTATION_NAME, __version__)
        _instruments = instruments(tracer, otel_metrics.get_meter(INSTRUMENTATION_NAME, __version__))
    return _instruments


def instruments(tracer: Any, meter: Any) -> _Instruments:
    """The tracer and the four instruments the hooks use, from ``tracer`` and ``meter``."""
    return _Instruments(
        tracer=tracer,
        processed=meter.create_counter(
            METRIC_RECORDS_PROCESSED, unit="{record}", description="Records a job committed (succeeded or failed)"
        ),
        failed=meter.create_counter(
            METRIC_RECORDS_FAILED, unit="{record}", description="Records a job reported as failed"
        ),
        chunk_duration=meter.create_histogram(
            METRIC_CHUNK_DURATION, unit="s", description="Time to process and commit one chunk of a job"
        ),
        queue_wait=meter.create_histogram(
            METRIC_QUEUE_WAIT, unit="s", description="Time from a job's close (UploadComplete) to its start"
        ),
    )


def run_job(
    run: Callable[[Any, bool], BulkJob | None],
    job_id: Any,
    retry: bool,
    *,
    pauses: tuple[type[BaseException], ...] = (),
) -> BulkJob | None:
    """``run(job_id, retry)`` in a ``bulk_drf.job.run`` span; ``pauses``: exceptions that pause a job (its time
    slice used), noted on the span as ``bulk.job.paused``, not as errors."""
    if not enabled():
        return run(job_id, retry)
    attributes = {"bulk.job.id": str(job_id), "bulk.job.retry": retry}
    with _tools().tracer.start_as_current_span(
        SPAN_RUN, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            job = run(job_id, retry)
        except pauses:
            span.set_attribute("bulk.job.paused", True)
            raise
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        if job is not None and span.is_recording():
            span.set_attributes(
                {
                    "bulk.job.operation": str(job.operation),
                    "bulk.job.state": str(job.state),
                    "bulk.job.records": job.total_records,
                    "bulk.job.processed": job.processed_records,
                    "bulk.job.failed": job.failed_records,
                }
            )
        return job


def process_chunk(process: Callable[[Any, Any], _T], job: Any, viewset: Any) -> _T:
    """``process(job, viewset)`` (one chunk, returning a ``ChunkOutcome``) in a ``bulk_drf.job.chunk`` span,
    counted and timed; the first chunk of a job also records its queue wait. A ``process`` that returns None
    claimed no chunk (another run holds it, or it is done): its span carries no chunk, nothing is counted."""
    if not enabled():
        return process(job, viewset)
    tools = _tools()
    model = _model_label(viewset)
    run_span = otel_trace.get_current_span()
    if run_span.is_recording():
        run_span.set_attribute("bulk.model", model)
    operation = str(job.operation)
    attributes: dict[str, Any] = {
        "bulk.job.id": str(job.pk),
        "bulk.job.operation": operation,
        "bulk.model": model,
    }
    started = time.perf_counter()
    with tools.tracer.start_as_current_span(SPAN_CHUNK, attributes=attributes) as span:
        outcome: Any = process(job, viewset)
        if outcome is None:
            return cast("_T", outcome)  # process's own _T (None: nothing was claimed)
        records = outcome.stop - outcome.start
        # The chunk is known once claimed: a fanned-out job's chunks commit in any order.
        span.set_attributes(
            {
                "bulk.chunk.index": outcome.start // max(1, bulk_settings.CHUNK_SIZE),
                "bulk.chunk.records": records,
                "bulk.chunk.failed": outcome.failed,
                "bulk.chunk.start": outcome.start,
            }
        )
    labels = {"bulk.job.operation": operation, "bulk.model": model}
    tools.chunk_duration.record(time.perf_counter() - started, labels)
    tools.processed.add(records, labels)
    tools.failed.add(outcome.failed, labels)
    if outcome.start == 0 and job.started_at is not None and job.upload_complete_at is not None:
        tools.queue_wait.record(max(0.0, (job.started_at - job.upload_complete_at).total_seconds()), labels)
    return outcome  # type: ignore[no-any-return]  # process's own _T


def _model_label(viewset: Any) -> str:
    """``app_label.Model`` of the viewset's queryset, worked out once per viewset (the run's)."""
    label = getattr(viewset, "_bulk_drf_model_label", None)
    if label is None:
        try:
            label = viewset.get_queryset().model._meta.label
        except Exception:  # a get_queryset that cannot run here: the spans still carry the job's viewset
            label = type(viewset).__qualname__
        viewset._bulk_drf_model_label = label
    return str(label)
