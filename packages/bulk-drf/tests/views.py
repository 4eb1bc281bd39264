"""Serializers and viewsets the tests route (see ``tests/urls.py``)."""

from typing import Any, ClassVar

from bulk_drf.mixins import BulkOperationsMixin, BulkViewSetMixin
from rest_framework import pagination, permissions, serializers, throttling, viewsets

from tests.models import Gadget, Pair, Part, Seat, Thing, Voucher


class ThingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Thing
        fields = ["id", "name", "sku", "quantity"]

    def validate_quantity(self, value: int) -> int:
        if value < 0:
            raise serializers.ValidationError("Quantity cannot be negative.", code="negative")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("name") == "forbidden":
            raise serializers.ValidationError("This name is reserved.", code="reserved")
        return attrs


class ThingViewSet(BulkViewSetMixin, viewsets.ModelViewSet):
    queryset = Thing.objects.all()
    serializer_class = ThingSerializer


class OwnedThingViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """Each user sees and changes only their own things."""

    serializer_class = ThingSerializer

    def get_queryset(self) -> Any:
        return Thing.objects.filter(owner=self.request.user.username)

    def perform_create(self, serializer: Any) -> None:
        serializer.save(owner=self.request.user.username)

    def perform_bulk_create(self, instances: list[Thing]) -> None:
        for thing in instances:
            thing.owner = self.request.user.username
        super().perform_bulk_create(instances)


class NoLockedThings(permissions.BasePermission):
    """Object permission: things named "locked..." cannot be changed. Counts its calls."""

    calls: ClassVar[list[int]] = []

    def has_object_permission(self, request: Any, view: Any, obj: Thing) -> bool:
        NoLockedThings.calls.append(obj.pk)
        return request.method in permissions.SAFE_METHODS or not obj.name.startswith("locked")


class CountingPermission(permissions.IsAuthenticated):
    """View permission that counts how often DRF asks it."""

    calls: ClassVar[list[str]] = []

    def has_permission(self, request: Any, view: Any) -> bool:
        CountingPermission.calls.append(request.method)
        return super().has_permission(request, view)


class LockedThingViewSet(ThingViewSet):
    permission_classes: ClassVar[list[Any]] = [CountingPermission, NoLockedThings]


class OneRequestThrottle(throttling.BaseThrottle):
    """Lets one request through, then refuses (``allowed`` is reset by the tests)."""

    allowed: ClassVar[list[int]] = [1]

    def allow_request(self, request: Any, view: Any) -> bool:
        if OneRequestThrottle.allowed[0] <= 0:
            return False
        OneRequestThrottle.allowed[0] -= 1
        return True


class ThrottledThingViewSet(ThingViewSet):
    throttle_classes: ClassVar[list[Any]] = [OneRequestThrottle]


class PagedThingViewSet(ThingViewSet):
    class Pagination(pagination.PageNumberPagination):
        page_size = 2

    pagination_class = Pagination


class PairSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pair
        fields = ["id", "left", "right", "note"]


class PairViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Pair.objects.all()
    serializer_class = PairSerializer


class PartSerializer(serializers.ModelSerializer):
    class Meta:
        model = Part
        fields = ["id", "thing", "position", "label"]


class PartViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Part.objects.all()
    serializer_class = PartSerializer


class SeatSerializer(serializers.ModelSerializer):
    class Meta:
        model = Seat
        fields = ["id", "room", "number", "cancelled"]


class SeatViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Seat.objects.all()
    serializer_class = SeatSerializer


class ThingWithPartsSerializer(serializers.ModelSerializer):
    parts = PartSerializer(many=True)

    class Meta:
        model = Thing
        fields = ["id", "name", "sku", "parts"]


class NestedViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Thing.objects.all()
    serializer_class = ThingWithPartsSerializer


class PlainThingViewSet(viewsets.ModelViewSet):
    """DRF as shipped, no bulk mixin: proves the mixin changes nothing outside its own viewsets."""

    queryset = Thing.objects.all()
    serializer_class = ThingSerializer


class RacingThingViewSet(ThingViewSet):
    """Another writer inserts the last item's sku between our validation and our write."""

    def perform_bulk_create(self, instances: list[Thing]) -> None:
        Thing.objects.create(name="racer", sku=instances[-1].sku)
        super().perform_bulk_create(instances)


class GadgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "name", "sku", "price", "extra", "thing"]


class GadgetViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """A ``JSONField`` (``extra``) and a nullable foreign key: input the serializer's text checks do not see."""

    queryset = Gadget.objects.all()
    serializer_class = GadgetSerializer


class VoucherSerializer(serializers.ModelSerializer):
    class Meta:
        model = Voucher
        fields = ["id", "value", "label"]


class VoucherViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Voucher.objects.all()
    serializer_class = VoucherSerializer
