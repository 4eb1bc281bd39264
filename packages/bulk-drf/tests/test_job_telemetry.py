"""OpenTelemetry of the job worker: a span per run and per chunk, the counters and histograms, the Celery task
span as parent, and nothing at all when it is off or ``opentelemetry-api`` is absent.

Read with the SDK's in-memory exporters, from providers of the test's own (no global provider is set).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing, telemetry
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests import jobs_fixtures
from tests.jobs_fixtures import closed_job, gadgets

alice = jobs_fixtures.alice
eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]


class Otel:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self, name: str | None = None) -> list[Any]:
        return [s for s in self.exporter.get_finished_spans() if name is None or s.name == name]

    def metrics(self) -> dict[str, list[Any]]:
        """Data points by metric name (cumulative since the test began)."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Otel]:
    settings.BULK_DRF_CHUNK_SIZE = 3
    recorder = Otel()
    tools = telemetry.instruments(
        recorder.tracer_provider.get_tracer("bulk_drf"), recorder.meter_provider.get_meter("bulk_drf")
    )
    monkeypatch.setattr(telemetry, "_instruments", tools)
    yield recorder
    recorder.tracer_provider.shutdown()
    recorder.meter_provider.shutdown()


def seven_gadgets_two_bad() -> list[dict[str, Any]]:
    records = gadgets(7)
    records[1]["price"] = "lots"
    records[6]["price"] = "more"
    return records


def test_a_run_and_each_chunk_are_spans_with_the_jobs_attributes(alice: Any, otel: Otel) -> None:
    job = closed_job(alice, seven_gadgets_two_bad())
    processing.run_job(job.pk)
    (run,) = otel.spans(telemetry.SPAN_RUN)
    chunks = sorted(otel.spans(telemetry.SPAN_CHUNK), key=lambda s: s.attributes["bulk.chunk.index"])
    assert [dict(c.attributes) for c in chunks] == [
        {
            "bulk.job.id": str(job.pk),
            "bulk.job.operation": "insert",
            "bulk.model": "jobs_app.Gadget",
            "bulk.chunk.index": index,
            "bulk.chunk.start": 3 * index,
            "bulk.chunk.records": records,
            "bulk.chunk.failed": failed,
        }
        for index, records, failed in [(0, 3, 1), (1, 3, 0), (2, 1, 1)]
    ]
    assert all(c.parent is not None and c.parent.span_id == run.context.span_id for c in chunks)
    assert all(c.context.trace_id == run.context.trace_id for c in chunks)
    assert dict(run.attributes) == {
        "bulk.job.id": str(job.pk),
        "bulk.job.retry": False,
        "bulk.model": "jobs_app.Gadget",
        "bulk.job.operation": "insert",
        "bulk.job.state": "JobComplete",
        "bulk.job.records": 7,
        "bulk.job.processed": 7,
        "bulk.job.failed": 2,
    }
    assert run.status.status_code is StatusCode.UNSET


def test_records_chunk_durations_and_the_queue_wait_are_measured(alice: Any, otel: Otel) -> None:
    job = closed_job(alice, seven_gadgets_two_bad())
    processing.run_job(job.pk)
    metrics = otel.metrics()
    labels = {"bulk.job.operation": "insert", "bulk.model": "jobs_app.Gadget"}
    (processed,) = metrics[telemetry.METRIC_RECORDS_PROCESSED]
    (failed,) = metrics[telemetry.METRIC_RECORDS_FAILED]
    assert (processed.value, dict(processed.attributes)) == (7, labels)
    assert (failed.value, dict(failed.attributes)) == (2, labels)
    (durations,) = metrics[telemetry.METRIC_CHUNK_DURATION]
    assert durations.count == 3 and durations.sum > 0
    (wait,) = metrics[telemetry.METRIC_QUEUE_WAIT]
    job.refresh_from_db()
    assert wait.count == 1
    assert wait.sum == pytest.approx((job.started_at - job.upload_complete_at).total_seconds())


def test_the_run_span_is_a_child_of_the_current_span(alice: Any, otel: Otel) -> None:
    job = closed_job(alice, gadgets(2))
    with otel.tracer_provider.get_tracer("celery").start_as_current_span("run/bulk_drf.run_job") as task:
        processing.run_job(job.pk)
    (run,) = otel.spans(telemetry.SPAN_RUN)
    assert run.parent is not None and run.parent.span_id == task.get_span_context().span_id


def test_under_the_celery_instrumentation_the_task_span_is_the_parent(
    alice: Any, otel: Otel, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    instrumentor = CeleryInstrumentor()
    instrumentor.instrument(tracer_provider=otel.tracer_provider)
    try:
        job = jobs.create_job(owner=alice, viewset=jobs_fixtures.GADGET_VIEWSET, operation="insert")
        jobs.add_records(job, gadgets(4))
        with django_capture_on_commit_callbacks(execute=True):
            jobs.close(job)
    finally:
        instrumentor.uninstrument()
    job.refresh_from_db()
    assert job.state == "JobComplete"
    (task,) = [s for s in otel.spans() if s.name == "run/bulk_drf.run_job"]
    (run,) = otel.spans(telemetry.SPAN_RUN)
    assert run.parent is not None and run.parent.span_id == task.context.span_id
    assert len(otel.spans(telemetry.SPAN_CHUNK)) == 2


def test_a_paused_run_is_not_an_error_and_a_failure_is(alice: Any, otel: Otel, settings: Any) -> None:
    settings.BULK_DRF_TASK_SOFT_TIME_LIMIT = 0  # stop after the first committed chunk
    job = closed_job(alice, gadgets(5))
    with pytest.raises(processing.TimeSliceUsed):
        processing.run_job(job.pk)
    (paused,) = otel.spans(telemetry.SPAN_RUN)
    assert paused.attributes["bulk.job.paused"] is True and paused.status.status_code is StatusCode.UNSET

    def broken(job_id: Any, retry: bool) -> None:
        raise RuntimeError("worker lost its mind")

    with pytest.raises(RuntimeError):
        telemetry.run_job(broken, job.pk, False)
    failed = otel.spans(telemetry.SPAN_RUN)[-1]
    assert failed.status.status_code is StatusCode.ERROR
    assert [e.name for e in failed.events] == ["exception"]


def test_off_by_setting_there_are_no_spans_and_no_metrics(alice: Any, otel: Otel, settings: Any) -> None:
    settings.BULK_DRF_OPENTELEMETRY = False
    assert not telemetry.enabled()
    job = closed_job(alice, gadgets(4))
    assert processing.run_job(job.pk).state == "JobComplete"
    assert otel.spans() == [] and otel.metrics() == {}


def test_without_the_api_the_hooks_are_plain_calls() -> None:
    """``opentelemetry`` not importable (bulk-drf without the [otel] extra): the module loads, is off, and
    the hooks call the function they wrap."""
    script = """
import sys
sys.modules["opentelemetry"] = None  # as if not installed: any import of it fails
import django
django.setup()
from bulk_drf.jobs import telemetry
assert telemetry.otel_trace is None and not telemetry.enabled()
assert telemetry.run_job(lambda job_id, retry: (job_id, retry), 7, True) == (7, True)
assert telemetry.process_chunk(lambda job, viewset: (job, viewset), "job", "viewset") == ("job", "viewset")
print("plain")
"""
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "plain", result.stderr
