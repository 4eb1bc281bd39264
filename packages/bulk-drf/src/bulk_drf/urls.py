"""Job routes: ``path("api/", include("bulk_drf.urls"))`` gives ``/api/bulk-jobs/...`` (namespace ``bulk_drf``)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .jobs.views import BulkJobViewSet

app_name = "bulk_drf"

router = SimpleRouter()
router.register("bulk-jobs", BulkJobViewSet, basename="bulk-job")

urlpatterns = router.urls
