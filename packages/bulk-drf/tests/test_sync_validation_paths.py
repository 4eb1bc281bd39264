"""The batch's shortcuts around DRF's per-item work keep every check: serializer-level validators still run."""

from typing import Any

import pytest
from bulk_drf.sync.exceptions import BulkValidationError
from bulk_drf.sync.operations import execute_batch
from bulk_drf.sync.validation import prepare_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.models import Thing
from tests.views import ThingSerializer, ThingViewSet

pytestmark = pytest.mark.django_db


class QuantityBelowOwnerLimit:
    """A serializer-level validator (``Meta.validators``) reading a hidden field's default."""

    def __call__(self, attrs: dict[str, Any]) -> None:
        if attrs["quantity"] > attrs["limit"]:
            raise serializers.ValidationError({"quantity": f"Above the limit of {attrs['limit']}."}, code="limit")


class LimitedThingSerializer(ThingSerializer):
    limit = serializers.HiddenField(default=5)

    class Meta(ThingSerializer.Meta):
        fields = [*ThingSerializer.Meta.fields, "limit"]
        validators = [QuantityBelowOwnerLimit()]


class LimitedThingViewSet(ThingViewSet):
    serializer_class = LimitedThingSerializer


def viewset(cls, user):
    request = Request(APIRequestFactory().post("/things/"))
    request.user = user
    view = cls(request=request, args=(), kwargs={}, format_kwarg=None, action="create")
    view.request = request
    return view


def test_serializer_level_validators_run_for_every_item_with_read_only_defaults(user):
    items = [{"name": "a", "sku": "A", "quantity": 1}, {"name": "b", "sku": "B", "quantity": 9}]
    view = viewset(LimitedThingViewSet, user)

    with pytest.raises(BulkValidationError) as caught:
        execute_batch(view, "insert", items)

    assert caught.value.detail == {
        "errors": [{"index": 1, "errors": {"quantity": [{"message": "Above the limit of 5.", "code": "limit"}]}}]
    }
    assert not Thing.objects.exists()


def test_without_serializer_level_validators_validate_and_field_validators_still_run(user):
    view = viewset(ThingViewSet, user)
    serializer = view.get_serializer()
    prepare_serializer(serializer, [])

    with pytest.raises(serializers.ValidationError) as caught:
        serializer.run_validation({"name": "x" * 101, "sku": "S", "quantity": 1})

    assert "name" in caught.value.detail
    assert list(serializer.fields) == ["id", "name", "sku", "quantity"]
    assert [name for name, _ in serializer.fields.items()] == ["id", "name", "sku", "quantity"]
