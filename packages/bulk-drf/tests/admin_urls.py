"""URLs of the job admin tests (``@pytest.mark.urls("tests.admin_urls")``): the admin and the job-layer routes,
plus a bulk viewset whose permission classes refuse every write (an import into it is refused)."""

from typing import Any

from django.contrib import admin
from django.urls import include, path
from rest_framework import permissions
from rest_framework.routers import SimpleRouter

from tests.jobs_app.views import GadgetViewSet
from tests.jobs_urls import urlpatterns as job_urlpatterns


class NobodyWrites(permissions.BasePermission):
    message = "nobody writes here"

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS


class NobodyWritesGadgetViewSet(GadgetViewSet):
    permission_classes = [permissions.DjangoModelPermissions, NobodyWrites]


router = SimpleRouter()
router.register("nobody-gadgets", NobodyWritesGadgetViewSet, basename="nobody-gadget")

urlpatterns = [path("admin/", admin.site.urls), path("", include(router.urls)), *job_urlpatterns]
