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
        from django.db.models.signals import pre_delete

        from . import checks  # noqa: F401
        from .jobs import tasks  # noqa: F401
        from .jobs.deletion import lock_before_delete
        from .jobs.models import BulkJob

        # A job's result rows have no database foreign key: a deletion locks the job row first (jobs.deletion).
        pre_delete.connect(lock_before_delete, sender=BulkJob, dispatch_uid="bulk_drf.jobs.lock_before_delete")
