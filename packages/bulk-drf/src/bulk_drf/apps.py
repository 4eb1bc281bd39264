"""Django app configuration for ``bulk_drf`` (app label ``bulk_drf``)."""

from __future__ import annotations

from django.apps import AppConfig


class BulkDRFConfig(AppConfig):
    """Registers bulk-drf's models (background jobs) and its system checks."""

    name = "bulk_drf"
    label = "bulk_drf"
    verbose_name = "Bulk DRF"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
