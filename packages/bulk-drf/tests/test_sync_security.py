"""Scope (get_queryset), authentication, permissions and throttles on every bulk path."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ThingFactory
from tests.models import Thing
from tests.views import CountingPermission, NoLockedThings, OneRequestThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_user):
    """A row owned by someone else: outside alice's get_queryset()."""
    return ThingFactory(owner=other_user.username, name="bob's", quantity=1)


@pytest.fixture
def mine(user):
    return ThingFactory(owner=user.username, name="mine", quantity=1)


class TestScope:
    def test_read_skips_rows_outside_the_queryset(self, api, mine, foreign):
        response = api.get(f"/owned/?ids={foreign.pk},{mine.pk}")

        assert [row["id"] for row in response.data] == [mine.pk]

    def test_update_of_a_row_outside_the_queryset_is_a_per_item_404_and_writes_nothing(self, api, mine, foreign):
        response = api.patch(
            "/owned/", [{"id": mine.pk, "quantity": 7}, {"id": foreign.pk, "quantity": 7}], format="json"
        )

        assert response.status_code == 400
        assert response.data["errors"] == [
            {"index": 1, "errors": {"id": [{"message": "Not found.", "code": "not_found"}]}}
        ]
        assert set(Thing.objects.values_list("quantity", flat=True)) == {1}

    def test_delete_of_a_row_outside_the_queryset_is_refused(self, api, mine, foreign):
        response = api.delete(f"/owned/?ids={mine.pk},{foreign.pk}")

        assert response.status_code == 400
        assert response.data["errors"][0]["index"] == 1
        assert Thing.objects.count() == 2

    def test_upsert_never_updates_a_row_outside_the_queryset(self, api, foreign):
        response = api.post(
            "/owned/?unique_fields=sku", [{"name": "taken over", "sku": foreign.sku, "quantity": 99}], format="json"
        )

        assert response.status_code == 400
        assert response.data["errors"][0]["errors"]["sku"][0]["code"] == "unique"
        foreign.refresh_from_db()
        assert (foreign.name, foreign.quantity, foreign.owner) == ("bob's", 1, "bob")

    @pytest.mark.parametrize("sent", [" {sku}", "{sku} ", "\t{sku}\n"])
    def test_upsert_key_padded_with_whitespace_never_reaches_a_row_outside_the_queryset(self, api, foreign, sent):
        """The serializer trims the key; the rows are matched on the trimmed key too, so the padded key of
        someone else's row is the same clash as the bare one (it used to be taken as new, and the
        INSERT ... ON CONFLICT then rewrote the other user's row)."""
        response = api.post(
            "/owned/?unique_fields=sku",
            [{"name": "taken over", "sku": sent.format(sku=foreign.sku), "quantity": 99}],
            format="json",
        )

        assert response.status_code == 400
        assert response.data["errors"][0]["errors"]["sku"][0]["code"] == "unique"
        foreign.refresh_from_db()
        assert (foreign.name, foreign.quantity, foreign.owner) == ("bob's", 1, "bob")

    def test_upsert_key_padded_with_whitespace_updates_my_own_row(self, api, mine):
        response = api.post(
            "/owned/?unique_fields=sku", [{"name": "renamed", "sku": f" {mine.sku} ", "quantity": 5}], format="json"
        )

        assert response.status_code == 200, response.data
        assert (response.data["created_count"], response.data["updated_count"]) == (0, 1)
        mine.refresh_from_db()
        assert (mine.name, mine.quantity) == ("renamed", 5)
        assert Thing.objects.count() == 1

    def test_created_rows_go_through_perform_bulk_create(self, api, user):
        response = api.post("/owned/", [{"name": "a", "sku": "A"}], format="json")

        assert response.status_code == 201
        assert Thing.objects.get().owner == user.username


class TestPermissions:
    @pytest.fixture(autouse=True)
    def _reset(self):
        NoLockedThings.calls.clear()
        CountingPermission.calls.clear()

    def test_has_permission_once_and_has_object_permission_for_every_touched_row(self, api):
        rows = ThingFactory.create_batch(3)

        response = api.patch("/locked/", [{"id": t.pk, "quantity": 4} for t in rows], format="json")

        assert response.status_code == 200
        assert CountingPermission.calls == ["PATCH"]
        assert sorted(NoLockedThings.calls) == sorted(t.pk for t in rows)

    def test_one_row_the_user_may_not_change_refuses_the_whole_update(self, api):
        ok, locked = ThingFactory(quantity=1), ThingFactory(name="locked one", quantity=1)

        response = api.patch(
            "/locked/", [{"id": ok.pk, "quantity": 5}, {"id": locked.pk, "quantity": 5}], format="json"
        )

        assert response.status_code == 403
        assert set(Thing.objects.values_list("quantity", flat=True)) == {1}

    def test_one_row_the_user_may_not_delete_refuses_the_whole_delete(self, api):
        ok, locked = ThingFactory(), ThingFactory(name="locked one")

        response = api.delete(f"/locked/?ids={ok.pk},{locked.pk}")

        assert response.status_code == 403
        assert Thing.objects.count() == 2

    def test_upsert_checks_object_permissions_of_matched_rows(self, api):
        locked = ThingFactory(name="locked one", sku="L")

        response = api.post("/locked/?unique_fields=sku", [{"name": "x", "sku": "L"}], format="json")

        assert response.status_code == 403
        assert NoLockedThings.calls == [locked.pk]

    @pytest.mark.parametrize("method", ["post", "patch", "put", "delete", "get"])
    def test_unauthenticated_requests_are_refused(self, method):
        thing = ThingFactory()
        client = APIClient()
        body = [{"id": thing.pk, "name": "x", "sku": "x"}]

        if method == "get":
            response = client.get(f"/things/?ids={thing.pk}")
        else:
            response = getattr(client, method)(f"/things/?ids={thing.pk}", body, format="json")

        assert response.status_code in (401, 403)
        assert Thing.objects.get().name == thing.name


def test_throttles_apply_to_bulk_requests(api):
    OneRequestThrottle.allowed[0] = 1
    first = api.post("/throttled/", [{"name": "a", "sku": "A"}], format="json")
    second = api.post("/throttled/", [{"name": "b", "sku": "B"}], format="json")

    assert first.status_code == 201
    assert second.status_code == 429
    assert Thing.objects.count() == 1
