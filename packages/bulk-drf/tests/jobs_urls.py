"""URLs of the job-layer tests (``@pytest.mark.urls("tests.jobs_urls")``)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tests.jobs_app.views import (
    FilteredGadgetViewSet,
    GadgetViewSet,
    LabelledGadgetViewSet,
    SearchableGadgetViewSet,
    StaffWritesGadgetViewSet,
    UserScopedGadgetViewSet,
)

router = SimpleRouter()
router.register("gadgets", GadgetViewSet, basename="gadget")
router.register("staff-gadgets", StaffWritesGadgetViewSet, basename="staff-gadget")
router.register("scoped-gadgets", UserScopedGadgetViewSet, basename="scoped-gadget")
router.register("searchable-gadgets", SearchableGadgetViewSet, basename="searchable-gadget")
router.register("labelled-gadgets", LabelledGadgetViewSet, basename="labelled-gadget")
router.register("filtered-gadgets", FilteredGadgetViewSet, basename="filtered-gadget")

urlpatterns = [path("", include(router.urls)), path("api/", include("bulk_drf.urls"))]
