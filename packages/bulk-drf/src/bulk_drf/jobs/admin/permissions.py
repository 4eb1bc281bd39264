"""Who may do what with jobs in the admin: Django's model permissions plus the job-owner rule.

- seeing the job list and a job: Django's ``bulk_drf.view_bulkjob`` (or ``change_bulkjob``), and then only
  one's own jobs -- unless one holds ``bulk_drf.view_all_jobs`` (``VIEW_ALL_JOBS``) or is a superuser;
- aborting a job: ``bulk_drf.change_bulkjob`` and seeing the job; deleting one: ``bulk_drf.delete_bulkjob`` and
  seeing it;
- importing into a viewset: the target model's ``add`` (insert), ``change`` (update) or both (upsert)
  permission, and the viewset's own permission classes for the job's method (``jobs.processing.build_viewset``);
- polling a job's progress: its owner, or a user who sees every job (the owner is matched first, from the
  cached status: a poll by the owner makes no query).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..states import JobOperation

__all__ = [
    "VIEW_ALL_JOBS",
    "may_abort",
    "may_delete",
    "may_see",
    "may_view_jobs",
    "model_permissions_for",
    "sees_all_jobs",
    "visible_jobs",
]

VIEW_ALL_JOBS = "bulk_drf.view_all_jobs"
"""The permission that shows a staff user every user's jobs in the admin (else only their own)."""


def sees_all_jobs(user: Any) -> bool:
    """Whether ``user`` sees every user's jobs: a superuser, or a holder of ``VIEW_ALL_JOBS``."""
    return bool(user.is_superuser) or bool(user.has_perm(VIEW_ALL_JOBS))


def may_view_jobs(user: Any) -> bool:
    """Django's model permission to look at jobs at all (view or change, as the admin has it)."""
    return bool(user.has_perm("bulk_drf.view_bulkjob") or user.has_perm("bulk_drf.change_bulkjob"))


def may_see(user: Any, owner_id: Any) -> bool:
    """The owner rule: ``user`` may see a job of ``owner_id`` (the owner is checked first: no query)."""
    return str(user.pk) == str(owner_id) or sees_all_jobs(user)


def visible_jobs(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``queryset`` narrowed to the jobs ``user`` may see."""
    return queryset if sees_all_jobs(user) else queryset.filter(owner_id=user.pk)


def may_abort(user: Any, job: Any) -> bool:
    """``bulk_drf.change_bulkjob`` and the owner rule."""
    return bool(user.has_perm("bulk_drf.change_bulkjob")) and may_see(user, job.owner_id)


def may_delete(user: Any, job: Any | None) -> bool:
    """``bulk_drf.delete_bulkjob`` and (for one job) the owner rule."""
    return bool(user.has_perm("bulk_drf.delete_bulkjob")) and (job is None or may_see(user, job.owner_id))


_ACTIONS = {
    JobOperation.INSERT: ("add",),
    JobOperation.UPDATE: ("change",),
    JobOperation.UPSERT: ("add", "change"),
}


def model_permissions_for(model: Any, operation: str) -> list[str]:
    """The Django permissions an import of ``operation`` into ``model`` needs (``app.add_model``, ...)."""
    opts = model._meta
    return [f"{opts.app_label}.{action}_{opts.model_name}" for action in _ACTIONS[JobOperation(operation)]]
