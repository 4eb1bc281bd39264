"""The optional span per signal dispatch (``BULK_SIGNALS_OTEL_SPANS``): off by default, one span per send with
receivers when on, a receiver's error recorded. Read with the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bulk_signals_django import telemetry
from bulk_signals_django.decorators import after_create
from bulk_signals_django.signals import bulk_post_create, bulk_pre_create
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "_tracer", provider.get_tracer("bulk_signals_django"))
    yield exporter
    provider.shutdown()


def test_off_by_default_no_span_is_made(spans: InMemorySpanExporter) -> None:
    seen: list[int] = []

    @after_create(Account)
    def count(sender: Any, event: Any) -> None:
        seen.append(len(event))

    assert telemetry.SPANS is False
    Account.objects.bulk_create([Account(name="a"), Account(name="b")])
    assert seen == [2] and spans.get_finished_spans() == ()


def test_on_each_dispatch_with_receivers_is_a_span(spans: InMemorySpanExporter, settings: Any) -> None:
    settings.BULK_SIGNALS_OTEL_SPANS = True
    assert telemetry.SPANS is True

    def receiver(sender: Any, event: Any) -> None:
        pass

    bulk_pre_create.connect(receiver, sender=Account)
    bulk_post_create.connect(receiver, sender=Account)

    Account.objects.bulk_create([Account(name="a"), Account(name="b"), Account(name="c")])
    Account.objects.update(status="closed")  # no update receivers: nothing dispatched, no span
    found = spans.get_finished_spans()
    assert [s.name for s in found] == ["bulk_signals.bulk_pre_create", "bulk_signals.bulk_post_create"]
    assert dict(found[1].attributes) == {
        "bulk.signal": "bulk_post_create",
        "bulk.model": "tests.Account",
        "bulk.operation": "create",
        "bulk.source": "bulk_create",
        "bulk.records": 3,
    }
    assert Account.objects.filter(status="closed").count() == 3


def test_a_receivers_error_is_recorded_on_the_span_and_raised(spans: InMemorySpanExporter, settings: Any) -> None:
    settings.BULK_SIGNALS_OTEL_SPANS = True

    def refuse(sender: Any, event: Any) -> None:
        raise ValueError("no accounts today")

    bulk_pre_create.connect(refuse, sender=Account)

    with pytest.raises(ValueError, match="no accounts today"):
        Account.objects.create(name="a")
    (span,) = spans.get_finished_spans()
    assert span.name == "bulk_signals.bulk_pre_create" and span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


def test_the_setting_is_read_again_when_it_changes(settings: Any) -> None:
    settings.BULK_SIGNALS_OTEL_SPANS = True
    assert telemetry.SPANS is True
    settings.BULK_SIGNALS_OTEL_SPANS = False
    assert telemetry.SPANS is False
    del settings.BULK_SIGNALS_OTEL_SPANS
    assert telemetry.SPANS is False
