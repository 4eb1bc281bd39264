"""The job admin: the job list and page (``job_admin``), the import pages (``imports``, ``preview``,
``targets``) and who may do what (``permissions``). Importing this package registers ``BulkJobAdmin``
on Django's default admin site (``bulk_drf.admin`` does, for the admin's autodiscovery).
"""

from __future__ import annotations

from django.contrib import admin

from ..models import BulkJob
from .job_admin import BulkJobAdmin
from .permissions import VIEW_ALL_JOBS

__all__ = ["VIEW_ALL_JOBS", "BulkJobAdmin"]

admin.site.register(BulkJob, BulkJobAdmin)
