"""The Django app (label ``bulk_signals_django``): registers the system checks, reads the span setting."""

from __future__ import annotations

from django.apps import AppConfig


class BulkSignalsDjangoConfig(AppConfig):
    """``INSTALLED_APPS += ["bulk_signals_django"]``."""

    name = "bulk_signals_django"
    label = "bulk_signals_django"
    verbose_name = "Bulk signals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401 - registers the checks
            telemetry,
        )

        telemetry.refresh()  # BULK_SIGNALS_OTEL_SPANS: a span per dispatch, off by default
