"""PATCH / PUT /things/ with an array of objects carrying ``id``."""

import datetime

import pytest

from tests.factories import ThingFactory
from tests.models import Thing

ID_RULE = "(an integer: a JSON integer or ASCII digits)"

pytestmark = pytest.mark.django_db


def test_patch_updates_only_the_sent_fields_of_each_row(api):
    a, b = ThingFactory(name="a", quantity=1), ThingFactory(name="b", quantity=2)

    response = api.patch("/things/", [{"id": a.pk, "quantity": 10}, {"id": b.pk, "name": "bee"}], format="json")

    assert response.status_code == 200
    assert response.data["updated_count"] == 2
    assert response.data["ids"] == [a.pk, b.pk]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.name, a.quantity) == ("a", 10)
    assert (b.name, b.quantity) == ("bee", 2)
    assert [row["quantity"] for row in response.data["data"]] == [10, 2]


def test_put_is_a_full_update_and_requires_every_required_field(api):
    a = ThingFactory(name="a", sku="A")

    missing = api.put("/things/", [{"id": a.pk, "name": "x"}], format="json")
    full = api.put("/things/", [{"id": a.pk, "name": "x", "sku": "A2"}], format="json")

    assert missing.status_code == 400
    assert missing.data["errors"] == [
        {"index": 0, "errors": {"sku": [{"message": "This field is required.", "code": "required"}]}}
    ]
    assert full.status_code == 200
    a.refresh_from_db()
    assert (a.name, a.sku) == ("x", "A2")


def test_auto_now_fields_are_refreshed(api):
    thing = ThingFactory()
    Thing.objects.filter(pk=thing.pk).update(updated_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))

    api.patch("/things/", [{"id": thing.pk, "quantity": 3}], format="json")

    thing.refresh_from_db()
    assert thing.updated_at.year > 2000


def test_unknown_missing_malformed_and_duplicate_ids_are_per_item_errors(api):
    a = ThingFactory(quantity=1)

    response = api.patch(
        "/things/",
        [{"id": a.pk, "quantity": 5}, {"id": 999_999, "quantity": 1}, {"quantity": 1}, {"id": "x"}, {"id": a.pk}],
        format="json",
    )

    assert response.status_code == 400
    assert response.data["errors"] == [
        {"index": 1, "errors": {"id": [{"message": "Not found.", "code": "not_found"}]}},
        {"index": 2, "errors": {"id": [{"message": "This field is required.", "code": "required"}]}},
        {"index": 3, "errors": {"id": [{"message": f"'x' is not a valid id {ID_RULE}.", "code": "invalid"}]}},
        {"index": 4, "errors": {"id": [{"message": "Duplicate of item 0 in this request.", "code": "duplicate"}]}},
    ]
    a.refresh_from_db()
    assert a.quantity == 1  # nothing written


def test_validation_errors_refuse_the_whole_batch(api):
    a, b = ThingFactory(quantity=1), ThingFactory(quantity=1)

    response = api.patch("/things/", [{"id": a.pk, "quantity": 2}, {"id": b.pk, "quantity": -2}], format="json")

    assert response.status_code == 400
    assert response.data["errors"][0]["index"] == 1
    assert set(Thing.objects.values_list("quantity", flat=True)) == {1}


def test_uniqueness_is_checked_against_other_rows_and_inside_the_payload(api):
    a, b, c = ThingFactory(sku="A"), ThingFactory(sku="B"), ThingFactory(sku="C")

    response = api.patch(
        "/things/",
        [
            {"id": a.pk, "sku": "A"},
            {"id": b.pk, "sku": "C"},
            {"id": c.pk, "sku": "Z"},
            {"id": ThingFactory().pk, "sku": "Z"},
        ],
        format="json",
    )

    assert response.status_code == 400
    errors = {e["index"]: e["errors"]["sku"][0]["message"] for e in response.data["errors"]}
    # a keeping its own sku is fine; b taking c's stored sku clashes; item 3 repeats item 2's new sku
    assert errors == {
        1: "Thing with this sku already exists.",
        3: "Thing with this sku already exists (item 2 of this request).",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"id": 1, "name": "x"}, "Expected an array of objects, got an object."),
        ("text", "Expected an array of objects, got str."),
        (None, "Expected an array of objects, got an empty body."),
        ([], "The array is empty: send at least one item."),
    ],
)
def test_a_body_that_is_not_a_non_empty_array_is_a_clear_400(api, body, message):
    response = api.patch("/things/", body, format="json")

    assert response.status_code == 400
    assert response.data == {"detail": message}


def test_single_object_routes_are_unchanged(api):
    thing = ThingFactory(name="a")

    response = api.patch(f"/things/{thing.pk}/", {"name": "b"}, format="json")

    assert response.status_code == 200
    assert response.data["name"] == "b"


def test_unchanged_values_are_neither_rewritten_nor_rechecked(api, django_assert_num_queries):
    things = ThingFactory.create_batch(3, quantity=1)
    payload = [{"id": t.pk, "sku": t.sku, "name": t.name, "quantity": 2} for t in things]

    # fetch, then the UPDATE of quantity/updated_at in a savepoint (the test runs in a transaction);
    # no uniqueness query: no sku changes
    with django_assert_num_queries(4) as captured:
        response = api.patch("/things/", payload, format="json")

    assert response.status_code == 200
    update = next(q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE"))
    assert '"quantity"' in update
    assert '"sku"' not in update
    assert '"name"' not in update
