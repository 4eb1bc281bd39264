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
        # Django's rule: modules that import models load in ready(), once the app registry is. checks
        # registers the system checks; jobs.tasks registers the Celery tasks (shared_task registers on
        # import), so a job queued by task name runs as that task even in a project that does not
        # autodiscover tasks (eagerly under task_always_eager).
        from . import checks  # noqa: F401
        from .jobs import (
            deletion,
            tasks,  # noqa: F401
        )

        # Once a job row is deleted, the rows a writer committed meanwhile are deleted too (jobs.deletion).
        deletion.connect()
