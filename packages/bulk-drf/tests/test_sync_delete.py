"""DELETE /things/?ids=... or with an array of ids."""

import pytest

from tests.factories import ThingFactory
from tests.models import Part, Thing

ID_RULE = "(an integer: a JSON integer or ASCII digits)"

pytestmark = pytest.mark.django_db


def test_delete_by_query_ids(api):
    a, b, c = ThingFactory.create_batch(3)

    response = api.delete(f"/things/?ids={a.pk},{c.pk}")

    assert response.status_code == 200
    assert response.data == {"deleted_count": 2, "ids": [a.pk, c.pk]}
    assert list(Thing.objects.values_list("pk", flat=True)) == [b.pk]


def test_delete_by_body_array_of_ids_or_objects(api):
    a, b, c = ThingFactory.create_batch(3)

    response = api.delete("/things/", [a.pk, {"id": b.pk}], format="json")

    assert response.status_code == 200
    assert response.data["deleted_count"] == 2
    assert list(Thing.objects.values_list("pk", flat=True)) == [c.pk]


def test_unknown_ids_refuse_the_whole_delete(api):
    a = ThingFactory()

    response = api.delete("/things/", [a.pk, 999_999, "x"], format="json")

    assert response.status_code == 400
    assert response.data["errors"] == [
        {"index": 1, "errors": {"id": [{"message": "Not found.", "code": "not_found"}]}},
        {"index": 2, "errors": {"id": [{"message": f"'x' is not a valid id {ID_RULE}.", "code": "invalid"}]}},
    ]
    assert Thing.objects.filter(pk=a.pk).exists()


def test_malformed_query_ids_are_named(api):
    response = api.delete("/things/?ids=1,abc,2,x y")

    assert response.status_code == 400
    assert response.data == {"ids": [f"'abc' is not a valid id {ID_RULE}.", f"'x y' is not a valid id {ID_RULE}."]}


def test_no_ids_at_all_is_a_clear_400(api):
    response = api.delete("/things/")

    assert response.status_code == 400
    assert response.data == {"detail": "Expected an array of ids, or ?ids=1,2,3, got an empty body."}


def test_rows_still_referenced_by_protected_rows_answer_409_and_nothing_is_deleted(api):
    a, b = ThingFactory.create_batch(2)
    Part.objects.create(thing=b, position=1)

    response = api.delete(f"/things/?ids={a.pk},{b.pk}")

    assert response.status_code == 409
    assert response.data["detail"].code == "write_conflict"
    assert Thing.objects.count() == 2


def test_single_object_delete_is_unchanged(api):
    thing = ThingFactory()

    response = api.delete(f"/things/{thing.pk}/")

    assert response.status_code == 204
    assert not Thing.objects.exists()
