"""URLs of the job admin tests (``@pytest.mark.urls("tests.admin_urls")``): the admin and the job-layer routes,
plus bulk viewsets that test the import pages' edges (permission classes that refuse, no ``queryset``)."""

from typing import Any

from django.contrib import admin
from django.urls import include, path
from rest_framework import permissions
from rest_framework.routers import SimpleRouter

from tests.jobs_app.models import Gadget
from tests.jobs_app.views import GadgetViewSet
from tests.jobs_urls import urlpatterns as job_urlpatterns


class NobodyWrites(permissions.BasePermission):
    message = "nobody writes here"

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS


class NobodyWritesGadgetViewSet(GadgetViewSet):
    permission_classes = [permissions.DjangoModelPermissions, NobodyWrites]


class NoQuerysetGadgetViewSet(GadgetViewSet):
    """Its model is known from ``get_queryset()`` only (as the example project's viewsets are)."""

    queryset = None


class BrokenQuerysetGadgetViewSet(GadgetViewSet):
    """``get_queryset()`` needs more than a user: the admin cannot tell its model, so offers no import."""

    queryset = None

    def get_queryset(self) -> Any:
        return Gadget.objects.filter(owner=self.kwargs["owner"])


router = SimpleRouter()
router.register("nobody-gadgets", NobodyWritesGadgetViewSet, basename="nobody-gadget")
router.register("no-queryset-gadgets", NoQuerysetGadgetViewSet, basename="no-queryset-gadget")
router.register("broken-gadgets", BrokenQuerysetGadgetViewSet, basename="broken-gadget")

urlpatterns = [path("admin/", admin.site.urls), path("", include(router.urls)), *job_urlpatterns]
