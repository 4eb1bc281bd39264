"""Admin: bulk jobs, read-only (their data and results are too large for inlines; use the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from . import progress
from .models import BulkJob


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # ModelAdmin[...] fails at runtime
    """Jobs with their state, counters and timestamps."""

    list_display = [
        "id",
        "operation",
        "viewset",
        "owner",
        "state",
        "total_records",
        "processed_records",
        "succeeded_records",
        "failed_records",
        "created_at",
        "results_purged_at",
    ]
    list_filter = ["state", "operation", ("results_purged_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "viewset", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = [f.name for f in BulkJob._meta.fields]  # results_purged_at included: set by the purge only

    def has_add_permission(self, request: Any) -> bool:
        return False

    # Deleting a job here must also drop its cached status, or polling it answers 200 for a day.
    def delete_model(self, request: Any, obj: BulkJob) -> None:
        pk = obj.pk  # delete() sets obj.pk to None
        super().delete_model(request, obj)
        progress.forget(pk)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for pk in ids:
            progress.forget(pk)
