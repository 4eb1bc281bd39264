"""``BulkJobAdmin``: the job list (state, owner, counts, a progress bar) and the job page (a live progress bar,
state history, throughput, failed records, downloads, Abort), plus the import pages (``imports``).

Every job view goes through ``get_queryset``, narrowed by the owner rule (``permissions``): a job the user
may not see is a 404, as in the API. The job's data and results are too large for inlines: the page shows
the first failures and links the full lists as CSV downloads (the API's own CSV code, ``views.results_csv``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from .. import lifecycle, progress
from ..errors import JobError
from ..http import JOB_ERROR_STATUS
from ..models import BulkJob, BulkJobResult
from ..states import FINAL_STATES, ResultKind
from ..views import results_csv
from . import imports
from .display import error_text
from .permissions import may_abort, may_delete, may_see, may_view_jobs, visible_jobs

__all__ = ["BulkJobAdmin", "throughput"]

SHOWN_FAILED_RESULTS = 50
"""Failed records listed on the job page (the CSV download has them all)."""

POLL_INTERVAL_MS = 1000
"""How often the job page polls the job's progress while it runs."""


def throughput(job: BulkJob, now: datetime | None = None) -> dict[str, float | None]:
    """``records_per_second`` since the job started (to its end, or now), ``elapsed`` and ``queue_wait``
    (seconds between closing the upload and a worker starting it); None where not known yet."""
    now = now or timezone.now()
    end = job.completed_at or job.failed_at or job.aborted_at or now
    elapsed = (end - job.started_at).total_seconds() if job.started_at else None
    rate = round(job.processed_records / elapsed, 1) if elapsed and elapsed > 0 else None
    wait = (
        (job.started_at - job.upload_complete_at).total_seconds() if job.started_at and job.upload_complete_at else None
    )
    return {"records_per_second": rate, "elapsed": elapsed, "queue_wait": wait}


class BulkJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # subscripted, Django's class fails at runtime
    """Jobs with their state, owner, counters and progress; read-only, with Abort and the import pages."""

    change_form_template = "admin/bulk_drf/bulkjob/change_form.html"
    change_list_template = "admin/bulk_drf/bulkjob/change_list.html"
    list_display = [
        "short_id",
        "operation",
        "target",
        "owner",
        "state_badge",
        "progress_bar",
        "record_counts",
        "created_at",
        "results_purged_at",
    ]
    list_display_links = ["short_id"]
    list_filter = ["state", "operation", ("results_purged_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "viewset", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = [f.name for f in BulkJob._meta.fields]  # results_purged_at included: set by the purge only

    # -- permissions: Django's model permissions plus the owner rule ---------------------------------------

    def get_queryset(self, request: HttpRequest) -> Any:
        return visible_jobs(request.user, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are made by the API and by the import pages

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # every field is the job's own record; Abort is its one change (may_abort)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_view_jobs(request.user) and (obj is None or may_see(request.user, obj.owner_id))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_delete(request.user, obj)

    # Deleting a job here must also drop its cached status, or polling it answers 200 for a day.
    def delete_model(self, request: HttpRequest, obj: BulkJob) -> None:
        pk = obj.pk  # delete() sets obj.pk to None
        super().delete_model(request, obj)
        progress.forget(pk)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for pk in ids:
            progress.forget(pk)

    # -- the list's columns ----------------------------------------------------------------------------------

    @admin.display(description="job", ordering="id")
    def short_id(self, job: BulkJob) -> str:
        return format_html('<span title="{}">{}</span>', job.pk, str(job.pk)[:8])

    @admin.display(description="viewset", ordering="viewset")
    def target(self, job: BulkJob) -> str:
        return format_html('<span title="{}">{}</span>', job.viewset, job.viewset.rsplit(".", 1)[-1])

    @admin.display(description="state", ordering="state")
    def state_badge(self, job: BulkJob) -> str:
        return format_html('<span class="bulk-job-state bulk-job-state-{}">{}</span>', job.state.lower(), job.state)

    @admin.display(description="ok / failed / total")
    def record_counts(self, job: BulkJob) -> str:
        return f"{job.succeeded_records} / {job.failed_records} / {job.total_records}"

    @admin.display(description="progress")
    def progress_bar(self, job: BulkJob) -> str:
        return format_html(
            '<span class="bulk-job-progress"><span class="bulk-job-bar" title="{}%">'
            '<span style="width:{}%"></span></span> {}%</span>',
            job.percentage,
            job.percentage,
            job.percentage,
        )

    # -- the job page ----------------------------------------------------------------------------------

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        job = kwargs.get("obj")
        if job is not None:
            context.update(self.job_context(request, job))
        return super().render_change_form(request, context, *args, **kwargs)

    def job_context(self, request: HttpRequest, job: BulkJob) -> dict[str, Any]:
        """What the job page shows above the job's fields."""
        purged = job.results_purged_at is not None
        failed = (
            []
            if purged or not job.failed_records
            else [
                (index, error_text(errors))
                for index, errors in BulkJobResult.objects.filter(job_id=job.pk, kind=ResultKind.FAILED)
                .order_by("index")
                .values_list("index", "errors")[:SHOWN_FAILED_RESULTS]
            ]
        )
        name = self.url_name
        return {
            "bulk_job": job,
            "bulk_job_final": job.state in FINAL_STATES,
            "bulk_job_history": job.state_history(),
            "bulk_job_throughput": throughput(job),
            "bulk_job_failed": failed,
            "bulk_job_failed_more": max(0, job.failed_records - len(failed)),
            "bulk_job_downloads": []
            if purged
            else [(kind, reverse(name("download"), args=[job.pk, kind])) for kind in ResultKind.values],
            "bulk_job_progress_url": reverse(name("progress"), args=[job.pk]),
            "bulk_job_abort_url": reverse(name("abort"), args=[job.pk]),
            "bulk_job_can_abort": job.state not in FINAL_STATES and may_abort(request.user, job),
            "bulk_job_poll_ms": POLL_INTERVAL_MS,
        }

    def url_name(self, view: str) -> str:
        """The admin URL name of one of this admin's own views (``progress``, ``abort``, ``import``, ...)."""
        return f"{self.admin_site.name}:bulk_drf_bulkjob_{view}"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path("<str:object_id>/progress/", wrap(self.progress_view), name="bulk_drf_bulkjob_progress"),
            path("<str:object_id>/abort/", wrap(require_POST(self.abort_view)), name="bulk_drf_bulkjob_abort"),
            path(
                "<str:object_id>/results/<str:kind>.csv",
                wrap(self.download_view),
                name="bulk_drf_bulkjob_download",
            ),
            *imports.urls(self),
        ]
        return own + super().get_urls()

    def job_or_404(self, request: HttpRequest, object_id: str, *, lock: bool = False) -> BulkJob:
        """The job ``object_id`` if ``request.user`` may see it; 404 otherwise (also for a malformed id)."""
        try:
            pk = uuid.UUID(object_id)
        except ValueError:
            raise Http404("no such bulk job") from None
        if not may_view_jobs(request.user):
            raise Http404("no such bulk job")
        queryset = self.get_queryset(request)
        job = (queryset.select_for_update() if lock else queryset).filter(pk=pk).first()
        if job is None:
            raise Http404("no such bulk job")
        return job  # type: ignore[no-any-return]  # the admin's queryset: BulkJob rows

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """The job's status document, as ``GET /api/bulk-jobs/{id}/`` answers it: from the cache while it
        holds it (no query when the owner polls), else from the job row (which republishes it)."""
        try:
            job_id = str(uuid.UUID(object_id))
        except ValueError:
            raise Http404("no such bulk job") from None
        document = progress.get_status(job_id)
        if document is None:
            document = progress.publish_status(self.job_or_404(request, job_id))
        elif not may_see(request.user, document["owner"]):
            raise Http404("no such bulk job")
        return JsonResponse(dict(document))

    def abort_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: abort the job (``lifecycle.abort``: the API's rules, its 409 for a finished job)."""
        with transaction.atomic():
            job = self.job_or_404(request, object_id, lock=True)
            if not may_abort(request.user, job):
                return self.job_error(request, job, "You may not abort this job.", 403)
            try:
                lifecycle.abort(job)
            except JobError as exc:
                return self.job_error(request, job, str(exc.detail), JOB_ERROR_STATUS.get(type(exc), 400))
        messages.success(request, f"Job {job.pk} aborted.")
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:bulk_drf_bulkjob_change", args=[job.pk]))

    def job_error(self, request: HttpRequest, job: BulkJob | None, message: str, status: int) -> TemplateResponse:
        """An admin page saying why an action on ``job`` was refused, answered with the API's status."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Bulk job: refused",
            "bulk_job": job,
            "message": message,
            "status": status,
        }
        return TemplateResponse(request, "admin/bulk_drf/bulkjob/refused.html", context, status=status)

    def download_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponseBase:
        """One result list as CSV (the API's ``?kind=`` CSV); 410 once the results were purged."""
        if kind not in ResultKind.values:
            raise Http404(f"no result list {kind!r}")
        job = self.job_or_404(request, object_id)
        if job.results_purged_at is not None:
            return self.job_error(request, job, "The results of this job were purged (BULK_DRF_RESULTS_TTL).", 410)
        return results_csv(job, kind)
