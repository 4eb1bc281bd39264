"""Django's admin autodiscovery imports ``<app>.admin``: the job admin lives in ``bulk_drf.jobs.admin``."""

from __future__ import annotations

from .jobs import admin  # noqa: F401 - registers BulkJobAdmin
