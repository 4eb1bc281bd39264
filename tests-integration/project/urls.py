"""URLs: the ledger API under ``/api/`` and the job routes of bulk_drf."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from ledger.views import AccountViewSet, TransactionViewSet
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter


class PublicAPIRoot(APIRootView):
    """``/api/`` lists the endpoints to anyone (each endpoint still needs a login)."""

    permission_classes = [AllowAny]


router = DefaultRouter()
router.APIRootView = PublicAPIRoot
router.register("accounts", AccountViewSet, basename="account")
router.register("transactions", TransactionViewSet, basename="transaction")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("api/", include(router.urls)),
    path("api/", include("bulk_drf.urls")),
]

if settings.HAS_SCHEMA:
    from drf_spectacular.views import SpectacularAPIView

    urlpatterns.append(path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"))
