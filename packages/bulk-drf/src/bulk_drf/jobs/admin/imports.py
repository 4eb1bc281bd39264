"""The admin's import pages: upload a CSV or JSON file into a viewset, preview it, confirm it, watch it run.

1. ``import/`` lists the viewsets the user may import into (``targets``; the model permission an operation
   needs, ``permissions.model_permissions_for``);
2. ``import/<viewset>/`` takes the file, the operation and (for an upsert) the unique fields. The file is
   parsed as the API parses an upload (``uploads``: the same CSV and JSON rules, limits and 400s) and stored
   as an ``Open`` job of the user's;
3. ``import/job/<id>/`` previews that job (``preview.preview_job``: which records would succeed, which
   would fail and why) without writing anything;
4. Confirm closes the job (``lifecycle.close``, as ``PATCH {"state": "UploadComplete"}`` does) and shows its
   page, where the progress bar follows the worker; Cancel aborts it.

Nothing here has rules of its own: a refused upload, a job limit or a closed job answers what the API answers.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException, ParseError

from ...sync import operations
from .. import lifecycle
from ..errors import JobError
from ..http import JOB_ERROR_STATUS
from ..models import BulkJob
from ..processing import build_viewset
from ..states import JobOperation, JobState
from ..uploads import CSVStreamParser, JSONStreamParser, RecordStream
from ..views import _check_csv_columns, _id_checker
from .display import error_text
from .permissions import may_view_jobs, model_permissions_for
from .preview import preview_job
from .targets import ImportTarget, import_targets

__all__ = ["ImportForm", "JobAdminPages", "parse_file", "urls"]


class JobAdminPages(Protocol):
    """What the import pages use of the job admin (``job_admin.BulkJobAdmin``)."""

    admin_site: Any
    opts: Any

    def url_name(self, view: str) -> str: ...

    def job_or_404(self, request: HttpRequest, object_id: str, *, lock: bool = False) -> BulkJob: ...

    def job_error(self, request: HttpRequest, job: BulkJob | None, message: str, status: int) -> HttpResponse: ...


IMPORT_OPERATIONS = (JobOperation.INSERT, JobOperation.UPDATE, JobOperation.UPSERT)


class ImportForm(forms.Form):
    """The upload: a file, what to do with its records, and the key of an upsert."""

    file = forms.FileField(help_text="CSV with a header line, or a JSON array of objects")
    operation = forms.ChoiceField(choices=[])
    unique_fields = forms.CharField(
        required=False, help_text="upsert: the fields that find an existing row, comma separated (a unique key)"
    )

    def __init__(self, *args: Any, operations: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["operation"].choices = [(op, JobOperation(op).label) for op in operations]  # type: ignore[attr-defined]  # a ChoiceField

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = [name.strip() for name in data.get("unique_fields", "").split(",") if name.strip()]
        data["unique_fields"] = names
        if data.get("operation") == JobOperation.UPSERT and not names:
            self.add_error("unique_fields", "An upsert needs the fields of a unique key.")
        return data


def urls(model_admin: JobAdminPages) -> list[URLPattern]:
    """The import pages' URLs, wrapped by the admin site (staff only)."""
    wrap = model_admin.admin_site.admin_view
    views = _ImportViews(model_admin)
    return [
        path("import/", wrap(views.index), name="bulk_drf_bulkjob_import"),
        path("import/job/<str:object_id>/", wrap(views.preview), name="bulk_drf_bulkjob_import_preview"),
        path(
            "import/job/<str:object_id>/confirm/",
            wrap(require_POST(views.confirm)),
            name="bulk_drf_bulkjob_import_confirm",
        ),
        path(
            "import/job/<str:object_id>/cancel/",
            wrap(require_POST(views.cancel)),
            name="bulk_drf_bulkjob_import_cancel",
        ),
        path("import/<str:target>/", wrap(views.upload), name="bulk_drf_bulkjob_import_upload"),
    ]


class _ImportViews:
    def __init__(self, model_admin: JobAdminPages) -> None:
        self.admin = model_admin

    def context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin.admin_site.each_context(request), "opts": self.admin.opts, "title": title, **extra}

    def allowed_operations(self, request: HttpRequest, target: ImportTarget) -> list[str]:
        user = request.user
        return [op for op in IMPORT_OPERATIONS if user.has_perms(model_permissions_for(target.model, op))]

    def check_access(self, request: HttpRequest) -> None:
        if not may_view_jobs(request.user):  # the import's job page must be visible to the one who made it
            raise PermissionDenied

    def index(self, request: HttpRequest) -> HttpResponse:
        """The viewsets the user may import into (those whose model they may add to or change)."""
        self.check_access(request)
        rows = [
            (target, reverse(self.admin.url_name("import_upload"), args=[target.path]), allowed)
            for target in import_targets(request.user).values()
            if (allowed := self.allowed_operations(request, target))
        ]
        return TemplateResponse(
            request, "admin/bulk_drf/bulkjob/import_index.html", self.context(request, "Import records", targets=rows)
        )

    def upload(self, request: HttpRequest, target: str) -> HttpResponse:
        """GET: the upload form; POST: parse and store the file as an Open job, then show its preview."""
        self.check_access(request)
        found = import_targets(request.user).get(target)
        if found is None:
            raise Http404("no such import target")
        allowed = self.allowed_operations(request, found)
        if not allowed:
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, operations=allowed)
        status = 200 if request.method != "POST" else 400  # an invalid form
        if request.method == "POST" and form.is_valid():
            try:
                job = self.store(request, found, form.cleaned_data)
            except APIException as exc:
                form.add_error(None, error_text(exc.detail))
                status = exc.status_code  # the API's answer to the same upload: 400, 403, 413
            except JobError as exc:
                form.add_error(None, error_text(exc.detail))
                status = JOB_ERROR_STATUS.get(type(exc), 400)  # 429 past BULK_DRF_MAX_OPEN_JOBS
            else:
                return HttpResponseRedirect(reverse(self.admin.url_name("import_preview"), args=[job.pk]))
        context = self.context(request, f"Import into {found.label}", target=found, form=form)
        return TemplateResponse(request, "admin/bulk_drf/bulkjob/import_form.html", context, status=status)

    def store(self, request: HttpRequest, target: ImportTarget, data: dict[str, Any]) -> BulkJob:
        """An Open job of the user's holding the file's records; raises the API's errors (nothing is kept)."""
        operation, unique_fields = data["operation"], data["unique_fields"]
        user = request.user
        assert user.pk is not None  # the admin's views are for signed-in staff only
        # The viewset's own permission classes, for the job's method, as the worker will run them.
        build_viewset(BulkJob(viewset=target.path, owner_id=user.pk, operation=operation, partial=True))
        if unique_fields:
            operations.upsert_key(target.model, unique_fields)  # the API's 400 for a key that is not unique
        records = parse_file(data["file"])
        with transaction.atomic():  # a file refused half-way leaves no job behind
            lifecycle.check_open_jobs(user)
            job = lifecycle.create_job(
                owner=user, viewset=target.path, operation=operation, unique_fields=unique_fields, partial=True
            )
            columns = getattr(records, "columns", None)
            if columns is not None:
                _check_csv_columns(job, columns)
            lifecycle.add_upload(job, records, check=_id_checker(job))
        return job

    def own_open_job(self, request: HttpRequest, object_id: str, *, lock: bool = False) -> BulkJob:
        job = self.admin.job_or_404(request, object_id, lock=lock)
        if str(job.owner_id) != str(request.user.pk):
            raise PermissionDenied  # an import is previewed and confirmed by the one who uploaded it
        return job

    def preview(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The dry run of an Open import job: counts, the records that would fail (with why), Confirm/Cancel."""
        job = self.own_open_job(request, object_id)
        if job.state != JobState.OPEN:  # confirmed or cancelled already: its page tells the rest
            return HttpResponseRedirect(reverse(self.admin.url_name("change"), args=[job.pk]))
        try:
            result, problem = preview_job(job), ""
        except APIException as exc:
            result, problem = None, error_text(exc.detail)
        context = self.context(
            request,
            f"Preview of the import of {job.total_records} records",
            bulk_job=job,
            preview=result,
            problem=problem,
            failures=[(r.index, _shown(r.record), error_text(r.errors)) for r in result.failures] if result else [],
            successes=[(r.index, _shown(r.record), r.created) for r in result.successes] if result else [],
            confirm_url=reverse(self.admin.url_name("import_confirm"), args=[job.pk]),
            cancel_url=reverse(self.admin.url_name("import_cancel"), args=[job.pk]),
        )
        return TemplateResponse(request, "admin/bulk_drf/bulkjob/import_preview.html", context)

    def confirm(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Close the import job (it is queued for a worker) and show its page."""
        with transaction.atomic():
            job = self.own_open_job(request, object_id, lock=True)
            try:
                lifecycle.close(job)
            except JobError as exc:
                return self.admin.job_error(request, job, str(exc.detail), JOB_ERROR_STATUS.get(type(exc), 400))
        messages.success(request, f"Import of {job.total_records} records queued as job {job.pk}.")
        return HttpResponseRedirect(reverse(self.admin.url_name("change"), args=[job.pk]))

    def cancel(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Abort the (still Open) import job: nothing was written; its data goes with the next purge."""
        with transaction.atomic():
            job = self.own_open_job(request, object_id, lock=True)
            try:
                lifecycle.abort(job)
            except JobError as exc:
                return self.admin.job_error(request, job, str(exc.detail), JOB_ERROR_STATUS.get(type(exc), 400))
        messages.info(request, "Import cancelled; nothing was written.")
        return HttpResponseRedirect(reverse(self.admin.url_name("import")))


def _shown(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


def parse_file(uploaded: Any) -> RecordStream | list[Any]:
    """The records of an uploaded file, parsed by the API's upload parsers (CSV by its name or type, else JSON)."""
    name = (getattr(uploaded, "name", "") or "").lower()
    content_type = (getattr(uploaded, "content_type", "") or "").split(";")[0].strip().lower()
    is_csv = name.endswith(".csv") or content_type in ("text/csv", "application/vnd.ms-excel")
    if not is_csv and not name.endswith(".json") and content_type != "application/json":
        head = uploaded.read(64).lstrip()
        uploaded.seek(0)
        is_csv = not head.startswith((b"[", b"{"))
    uploaded.seek(0)
    if is_csv:
        records = CSVStreamParser().parse(uploaded, "text/csv", {"encoding": "utf-8"})
    else:
        records = JSONStreamParser().parse(uploaded, "application/json", {})
    if not isinstance(records, list | RecordStream):
        raise ParseError("expected a JSON array of records (or CSV with a header line)")
    if not records:
        raise ParseError("the file holds no records")
    return records
