"""URLs of bulk-drf's tests: the test viewsets on a plain DRF ``DefaultRouter`` (no bulk router)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests import views

router = DefaultRouter()
router.register("things", views.ThingViewSet, basename="thing")
router.register("owned", views.OwnedThingViewSet, basename="owned")
router.register("pairs", views.PairViewSet, basename="pair")
router.register("parts", views.PartViewSet, basename="part")
router.register("seats", views.SeatViewSet, basename="seat")
router.register("nested", views.NestedViewSet, basename="nested")
router.register("locked", views.LockedThingViewSet, basename="locked")
router.register("paged", views.PagedThingViewSet, basename="paged")
router.register("throttled", views.ThrottledThingViewSet, basename="throttled")
router.register("racing", views.RacingThingViewSet, basename="racing")
router.register("gadgets", views.GadgetViewSet, basename="gadget")
router.register("vouchers", views.VoucherViewSet, basename="voucher")
router.register("plain", views.PlainThingViewSet, basename="plain")  # no bulk mixin: DRF as shipped

urlpatterns = [
    path("", include(router.urls)),
]
