"""An OpenTelemetry span per signal dispatch (``pip install bulk-signals-django[otel]``), off by default.

``BULK_SIGNALS_OTEL_SPANS = True`` wraps each send of a bulk signal that has receivers in a span named
``bulk_signals.<signal>`` (``bulk_signals.bulk_post_create``, ...) with ``bulk.signal``, ``bulk.model``
(``app_label.Model``), ``bulk.operation``, ``bulk.source``, ``bulk.records`` and ``bulk.receivers``; a
receiver's exception is recorded on it. A signal with no receivers for the model makes no span.

Off by default because a project with many receivers would get a flood of spans (other integrations had to
make theirs optional for the same reason). Off, a dispatch pays one module attribute read; the setting is
read when the app is ready and whenever a test changes it (``setting_changed``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed

try:
    from opentelemetry import trace as otel_trace
except ImportError:  # bulk-signals-django[otel] not installed: no spans, whatever the setting
    otel_trace = None  # type: ignore[assignment]  # the module, or None without the extra

__all__ = ["SETTING", "SPANS", "dispatch", "refresh"]

SETTING = "BULK_SIGNALS_OTEL_SPANS"

SPANS = False
"""Whether ``dispatch.emit`` sends through ``dispatch`` (this module): the setting and the API both there."""

_tracer: Any = None


def refresh(**kwargs: Any) -> None:
    """Read ``BULK_SIGNALS_OTEL_SPANS`` again (the app's ``ready()``; ``setting_changed``)."""
    global SPANS
    if kwargs and kwargs.get("setting") != SETTING:
        return
    SPANS = otel_trace is not None and bool(getattr(django_settings, SETTING, False))


setting_changed.connect(refresh, dispatch_uid="bulk_signals_django.telemetry.refresh")


def dispatch(signal: Any, event: Any) -> None:
    """Send ``event`` on ``signal`` inside a ``bulk_signals.<signal>`` span (without one when ``signal`` has no
    receiver for the model: a write sends each signal of its group once any of them has receivers)."""
    global _tracer
    if not signal.has_receivers(event.model):
        signal.send(event.model, event)
        return
    if _tracer is None:
        from . import __version__

        _tracer = otel_trace.get_tracer("bulk_signals_django", __version__)
    meta = event.model._meta
    attributes = {
        "bulk.signal": signal.name,
        "bulk.model": meta.label,
        "bulk.operation": event.operation.value,
        "bulk.source": event.source.value,
        "bulk.records": len(event),
    }
    with _tracer.start_as_current_span(f"bulk_signals.{signal.name}", attributes=attributes):
        signal.send(event.model, event)
