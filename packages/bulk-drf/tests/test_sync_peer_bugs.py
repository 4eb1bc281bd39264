"""One test per bug measured in the peers (research/drf-peers.md), proving bulk-drf does not have it."""

import copy
import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import routers

from tests.factories import ThingFactory
from tests.models import Thing
from tests.views import ThingViewSet


def things(n):
    return [{"name": f"n{i}", "sku": f"S{i}"} for i in range(n)]


@pytest.mark.django_db
def test_no_500_with_a_repr_string_for_invalid_items_or_unique_clashes(api):
    """django-bulk-drf answered 500 with the repr of DRF's error dict, and 500 without index on a clash."""
    ThingFactory(sku="S1")
    payload = things(3)
    payload[2]["name"] = ""

    response = api.post("/things/", payload, format="json")

    assert response.status_code == 400
    assert "ErrorDetail" not in response.content.decode()
    assert json.loads(response.content) == {
        "errors": [
            {"index": 1, "errors": {"sku": [{"message": "Thing with this sku already exists.", "code": "unique"}]}},
            {"index": 2, "errors": {"name": [{"message": "This field may not be blank.", "code": "blank"}]}},
        ]
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_refusal_is_a_409_and_all_or_nothing_really_writes_nothing(api):
    """django-drf-extensions' "all-or-nothing" answered 400 but had already committed rows.

    Here the database refuses the last of 1000 rows (another writer took its sku after validation);
    on SQLite the INSERT is split in batches, and the earlier batches must be rolled back too.
    """
    response = api.post("/racing/", things(1000), format="json")

    assert response.status_code == 409
    assert response.data["detail"].code == "write_conflict"
    assert list(Thing.objects.values_list("name", flat=True)) == ["racer"]


@pytest.mark.django_db
def test_an_invalid_upsert_item_leaves_earlier_new_rows_unwritten(api):
    """The same peer kept the rows its upsert had created before reaching a bad item."""
    payload = things(3)
    payload[2]["name"] = ""

    response = api.post("/things/?unique_fields=sku", payload, format="json")

    assert response.status_code == 400
    assert not Thing.objects.exists()


def test_no_router_mutates_drf_global_routes():
    """django-bulk-drf's BulkRouter() changed SimpleRouter.routes for every router in the process."""
    before = copy.deepcopy(routers.SimpleRouter.routes)
    routers.DefaultRouter().register("x", ThingViewSet, basename="x")

    assert routers.SimpleRouter.routes == before
    assert routers.SimpleRouter.routes[0].mapping == {"get": "list", "post": "create"}


@pytest.mark.django_db
def test_documented_limits_are_applied_with_the_default_settings(api):
    """django-drf-extensions documented SYNC_MAX_ITEMS/MAX_RECORDS and never read them (12000 items passed)."""
    response = api.post("/things/", things(1001), format="json")

    assert response.status_code == 413
    assert "at most 1000" in response.data["detail"]
    assert not Thing.objects.exists()


def test_openapi_documents_arrays_not_single_objects():
    """Every peer's bulk endpoint appeared in drf-spectacular as a single-object body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    content = schema["paths"]["/things/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]

    assert content["type"] == "array"


@pytest.mark.django_db
def test_put_and_delete_never_reach_rows_outside_get_queryset(api, other_user):
    """django-bulk-drf's bulk PUT and DELETE updated and deleted a row outside get_queryset()."""
    foreign = ThingFactory(owner=other_user.username, name="theirs")

    put = api.put("/owned/", [{"id": foreign.pk, "name": "mine now", "sku": foreign.sku}], format="json")
    delete = api.delete("/owned/", [foreign.pk], format="json")

    assert put.status_code == delete.status_code == 400
    assert put.data["errors"][0]["errors"]["id"][0]["code"] == "not_found"
    assert Thing.objects.get(pk=foreign.pk).name == "theirs"
