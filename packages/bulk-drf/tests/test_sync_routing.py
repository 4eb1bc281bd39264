"""Routing: standard DRF routers reach the bulk methods; nothing global changes."""

import copy

import pytest
from rest_framework import routers

from tests.factories import ThingFactory
from tests.views import PlainThingViewSet, ThingViewSet

pytestmark = pytest.mark.django_db

LIST_MAPPING = {"get": "list", "post": "create"}


def test_drf_router_routes_are_not_mutated():
    before = copy.deepcopy(routers.SimpleRouter.routes)
    router = routers.DefaultRouter()
    router.register("a", ThingViewSet, basename="a")
    router.register("b", PlainThingViewSet, basename="b")
    router.get_urls()

    assert routers.SimpleRouter.routes == before
    assert routers.SimpleRouter.routes[0].mapping == LIST_MAPPING


def test_the_bulk_methods_exist_only_on_bulk_viewsets():
    router = routers.SimpleRouter()
    router.register("a", ThingViewSet, basename="a")
    router.register("b", PlainThingViewSet, basename="b")
    views = {url.name: url.callback for url in router.get_urls()}

    assert views["a-list"].actions == {
        "put": "bulk_update",
        "patch": "partial_bulk_update",
        "delete": "bulk_destroy",
        **LIST_MAPPING,
    }
    assert views["b-list"].actions == LIST_MAPPING
    assert views["a-detail"].actions == views["b-detail"].actions  # detail routes untouched


def test_a_plain_viewset_still_answers_405_for_list_level_writes(api):
    thing = ThingFactory()

    assert api.patch("/plain/", [{"id": thing.pk, "name": "x"}], format="json").status_code == 405
    assert api.delete(f"/plain/?ids={thing.pk}").status_code == 405


def test_the_job_routes_are_inherited():
    router = routers.SimpleRouter()
    router.register("a", ThingViewSet, basename="a")

    assert "a-bulk" in {url.name for url in router.get_urls()}


def test_options_on_the_list_route_describes_the_bulk_methods(api):
    response = api.options("/things/")

    assert response.status_code == 200
    assert {"PUT", "PATCH", "DELETE"} <= set(response["Allow"].split(", "))
    assert "POST" in response.data["actions"]
