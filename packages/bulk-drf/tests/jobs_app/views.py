"""Viewsets of the job-layer tests."""

from __future__ import annotations

from typing import Any

from bulk_drf.jobs.mixins import BulkJobsMixin
from bulk_drf.mixins import BulkOperationsMixin
from django.db import OperationalError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, permissions, serializers, viewsets

from .models import Gadget, Meter


class GadgetSerializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = Gadget
        fields = ["id", "owner", "sku", "name", "price", "qty"]


class GadgetViewSet(BulkJobsMixin, viewsets.ModelViewSet):
    """Scoped to the requesting user's gadgets; Django model permissions guard the writes."""

    serializer_class = GadgetSerializer
    queryset = Gadget.objects.all()
    permission_classes = [permissions.DjangoModelPermissions]

    def get_queryset(self) -> Any:
        return Gadget.objects.filter(owner=self.request.user)


class ExplodingGadgetViewSet(GadgetViewSet):
    """Breaks while a job runs: its serializer cannot be built."""

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("serializer exploded")


class FlakyDatabaseGadgetViewSet(GadgetViewSet):
    """Loses its database connection the next ``failures_left`` times a chunk is written."""

    failures_left = 0

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if FlakyDatabaseGadgetViewSet.failures_left > 0:
            FlakyDatabaseGadgetViewSet.failures_left -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return super().get_serializer(*args, **kwargs)


class DroppingDatabaseGadgetViewSet(GadgetViewSet):
    """Loses its database connection once on each of the ``drop_on`` calls (1-based) of ``get_serializer``.

    ``get_serializer`` runs once per chunk (a clean one), so ``{3, 6}`` drops the connection in the third
    chunk, then again in the fifth chunk after the retried third one (the retry is call 4).
    """

    drop_on: frozenset[int] = frozenset()
    calls = 0

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        DroppingDatabaseGadgetViewSet.calls += 1
        if DroppingDatabaseGadgetViewSet.calls in DroppingDatabaseGadgetViewSet.drop_on:
            raise OperationalError("server closed the connection unexpectedly")
        return super().get_serializer(*args, **kwargs)


class StaffWritesOnly(permissions.BasePermission):
    """Safe methods for anyone; writes for staff only."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user.is_staff)


class NotLocked(permissions.BasePermission):
    """An object permission: a gadget named ``locked...`` may be read but not changed or deleted."""

    message = "this gadget is locked"

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or not obj.name.startswith("locked")


class LockingGadgetViewSet(GadgetViewSet):
    permission_classes = [permissions.DjangoModelPermissions, NotLocked]


class MeterSerializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = Meter
        fields = ["id", "owner", "code", "level"]


class MeterViewSet(BulkJobsMixin, viewsets.ModelViewSet):
    """Meters: the database's CHECK constraint (0 <= level <= 100) is the only guard of ``level``."""

    serializer_class = MeterSerializer
    queryset = Meter.objects.all()

    def get_queryset(self) -> Any:
        return Meter.objects.filter(owner=self.request.user)


class StaffWritesGadgetViewSet(GadgetViewSet):
    """Anyone signed in may read; only staff may write (a common shape: ``IsAdminUser`` or read-only)."""

    permission_classes = [permissions.IsAuthenticated, StaffWritesOnly]


class UserScopedGadgetViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    """No ``queryset`` attribute: ``get_queryset()`` needs a signed-in user (an anonymous one breaks the filter)."""

    serializer_class = GadgetSerializer

    def get_queryset(self) -> Any:
        return Gadget.objects.filter(owner=self.request.user)


class SearchableGadgetViewSet(GadgetViewSet):
    """The gadget list as DRF filters it: ``?search=`` (sku, name) and ``?ordering=`` (price, sku, id, qty)."""

    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["sku", "name"]
    ordering_fields = ["price", "sku", "id", "qty"]


class LabelledGadgetSerializer(serializers.ModelSerializer):
    """A method field: rendered by DRF's own code, per row (no column plan)."""

    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())
    label = serializers.SerializerMethodField()

    class Meta:
        model = Gadget
        fields = ["id", "owner", "sku", "label", "price"]

    def get_label(self, gadget: Gadget) -> str:
        return f"{gadget.name} ({gadget.sku})"


class LabelledGadgetViewSet(SearchableGadgetViewSet):
    serializer_class = LabelledGadgetSerializer


class FilteredGadgetViewSet(GadgetViewSet):
    """django-filter's backend: ``?price__gte=&price__lte=&sku=&qty=``; a bad value is its own 400."""

    filter_backends = [DjangoFilterBackend]
    filterset_fields = {"price": ["gte", "lte"], "sku": ["exact"], "qty": ["exact", "in"]}
