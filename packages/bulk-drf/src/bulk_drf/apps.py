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
        from django.db.models.signals import post_delete

        from . import checks  # noqa: F401
        from .jobs import tasks  # noqa: F401
        from .jobs.deletion import delete_late_results
        from .jobs.models import BulkJob

        # A job's result rows have no database foreign key: once the job row is deleted, the results a chunk
        # committed meanwhile are deleted too (jobs.deletion).
        post_delete.connect(delete_late_results, sender=BulkJob, dispatch_uid="bulk_drf.jobs.delete_late_results")
