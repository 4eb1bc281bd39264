"""``execute_batch`` called directly, as background jobs call it: partial success, offsets, per-item refusals."""

import pytest
from bulk_drf.sync.operations import ItemSuccess, execute_batch
from django.test import override_settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.factories import ThingFactory
from tests.models import Thing
from tests.views import LockedThingViewSet, OwnedThingViewSet, ThingSerializer, ThingViewSet

pytestmark = pytest.mark.django_db


def viewset_for(cls, user, method="post"):
    request = Request(getattr(APIRequestFactory(), method)("/things/"))
    request.user = user  # as a background job does: no authenticators in a worker
    view = cls(request=request, args=(), kwargs={}, format_kwarg=None, action="create")
    view.request = request
    return view


def test_partial_mode_writes_the_valid_items_and_reports_the_others_with_offset_indexes(user):
    ThingFactory(sku="TAKEN")
    items = [{"name": "a", "sku": "A"}, {"name": "b", "sku": "TAKEN"}, {"sku": "C"}, {"name": "d", "sku": "D"}]

    result = execute_batch(viewset_for(ThingViewSet, user), "insert", items, all_or_nothing=False, index_offset=100)

    assert [s.index for s in result.succeeded] == [100, 103]
    assert all(isinstance(s, ItemSuccess) and s.created for s in result.succeeded)
    assert [(e.index, sorted(e.errors)) for e in result.failed] == [(101, ["sku"]), (102, ["name"])]
    assert result.created_count == 2
    assert sorted(Thing.objects.values_list("sku", flat=True)) == ["A", "D", "TAKEN"]


def test_partial_mode_reports_rows_the_user_may_not_change_per_item(user):
    ok, locked = ThingFactory(quantity=1), ThingFactory(name="locked", quantity=1)
    items = [{"id": ok.pk, "quantity": 2}, {"id": locked.pk, "quantity": 2}]

    result = execute_batch(viewset_for(LockedThingViewSet, user, "patch"), "update", items, all_or_nothing=False)

    assert [s.pk for s in result.succeeded] == [ok.pk]
    assert result.failed[0].index == 1
    assert result.failed[0].errors["id"][0]["code"] == "permission_denied"
    assert Thing.objects.get(pk=locked.pk).quantity == 1


def test_delete_items_are_pks_and_report_each_outcome(user):
    a, b = ThingFactory.create_batch(2)

    result = execute_batch(
        viewset_for(ThingViewSet, user, "delete"), "delete", [a.pk, "x", b.pk, 999_999], all_or_nothing=False
    )

    assert [s.index for s in result.succeeded] == [0, 2]
    assert [e.index for e in result.failed] == [1, 3]
    assert result.deleted_count == 2
    assert not Thing.objects.exists()


def test_upsert_outcomes_flag_created_rows(user):
    existing = ThingFactory(sku="A")

    result = execute_batch(
        viewset_for(ThingViewSet, user),
        "upsert",
        [{"name": "a", "sku": "A"}, {"name": "b", "sku": "B"}],
        unique_fields=["sku"],
        partial=False,
    )

    assert [(s.pk == existing.pk, s.created) for s in result.succeeded] == [(True, False), (False, True)]
    assert (result.created_count, result.updated_count) == (1, 1)


def test_unknown_operation_is_a_value_error(user):
    with pytest.raises(ValueError, match="unknown bulk operation 'merge'"):
        execute_batch(viewset_for(ThingViewSet, user), "merge", [{}])  # type: ignore[arg-type]


@override_settings(BULK_DRF_SYNC_MAX_ITEMS=2, BULK_DRF_AUTO_ASYNC=True)
def test_auto_async_answers_an_oversized_request_with_a_202_job(api):
    response = api.post("/things/", [{"name": f"n{i}", "sku": f"S{i}"} for i in range(3)], format="json")

    assert response.status_code == 202
    assert response.data["total_records"] == 3
    assert response.data["operation"] == "insert"


class _UpperSkuSerializer(ThingSerializer):
    def validate_sku(self, value: str) -> str:
        return value.upper()


class _UpperSkuViewSet(OwnedThingViewSet):
    serializer_class = _UpperSkuSerializer


def test_an_upsert_refuses_an_item_whose_key_validation_changes(user, other_user):
    """The rows are matched on the key as sent; a validate_<field> that changes it would make the write meet
    another row (here: someone else's, outside the scope) than the one checked: the item is refused."""
    ThingFactory(owner=other_user.username, sku="ABC", name="bob's", quantity=1)
    ThingFactory(owner=user.username, sku="MINE", name="mine", quantity=1)
    items = [{"name": "x", "sku": "abc", "quantity": 9}, {"name": "renamed", "sku": "MINE", "quantity": 2}]

    result = execute_batch(
        viewset_for(_UpperSkuViewSet, user), "upsert", items, unique_fields=["sku"], all_or_nothing=False
    )

    assert [s.index for s in result.succeeded] == [1]
    ((failed),) = result.failed
    assert failed.index == 0 and failed.errors["sku"][0]["code"] == "invalid"
    assert "Validation changes this value (to ABC)" in failed.errors["sku"][0]["message"]
    assert Thing.objects.get(sku="ABC").name == "bob's" and Thing.objects.get(sku="MINE").name == "renamed"
