"""POST /things/ with an array: bulk create, batched validation, upsert with ?unique_fields=."""

import django
import pytest
from django.test import override_settings

from tests.factories import PairFactory, ThingFactory
from tests.models import Pair, Part, Thing

pytestmark = pytest.mark.django_db


def things(n, start=0):
    return [{"name": f"thing {i}", "sku": f"S{i}", "quantity": i} for i in range(start, start + n)]


def test_array_creates_every_item_and_answers_counts_ids_and_rows(api):
    response = api.post("/things/", things(3), format="json")

    assert response.status_code == 201
    created = list(Thing.objects.order_by("pk"))
    assert [t.sku for t in created] == ["S0", "S1", "S2"]
    assert response.data["created_count"] == 3
    assert response.data["updated_count"] == 0
    assert response.data["ids"] == [t.pk for t in created]
    assert [row["sku"] for row in response.data["data"]] == ["S0", "S1", "S2"]
    assert response.data["data"][0]["id"] == created[0].pk


def test_prefer_return_minimal_leaves_the_rows_out(api):
    response = api.post("/things/", things(2), format="json", HTTP_PREFER="return=minimal")

    assert response.status_code == 201
    assert "data" not in response.data
    assert len(response.data["ids"]) == 2


def test_single_object_keeps_drf_behaviour(api):
    bulk = api.post("/things/", {"name": "one", "sku": "ONE"}, format="json")
    plain = api.post("/plain/", {"name": "two", "sku": "TWO"}, format="json")

    assert bulk.status_code == plain.status_code == 201
    assert set(bulk.data) == set(plain.data) == {"id", "name", "sku", "quantity"}
    # DRF's own per-object errors, including its own UniqueValidator message
    bulk_dup = api.post("/things/", {"name": "x", "sku": "ONE"}, format="json")
    plain_dup = api.post("/plain/", {"name": "x", "sku": "ONE"}, format="json")
    assert bulk_dup.status_code == plain_dup.status_code == 400
    assert bulk_dup.data == plain_dup.data


def test_every_failing_item_is_listed_with_its_index_and_nothing_is_written(api):
    payload = things(5)
    payload[1]["quantity"] = -1  # validate_quantity
    payload[3] = {"name": "forbidden", "sku": "S3"}  # validate()
    payload[4] = {"sku": "S4"}  # name missing

    response = api.post("/things/", payload, format="json")

    assert response.status_code == 400
    assert response.data == {
        "errors": [
            {"index": 1, "errors": {"quantity": [{"message": "Quantity cannot be negative.", "code": "negative"}]}},
            {"index": 3, "errors": {"non_field_errors": [{"message": "This name is reserved.", "code": "reserved"}]}},
            {"index": 4, "errors": {"name": [{"message": "This field is required.", "code": "required"}]}},
        ]
    }
    assert not Thing.objects.exists()


def test_an_item_that_is_not_an_object_is_that_items_error(api):
    response = api.post("/things/", [{"name": "a", "sku": "A"}, "oops", None], format="json")

    assert response.status_code == 400
    errors = {e["index"]: e["errors"] for e in response.data["errors"]}
    assert set(errors) == {1, 2}
    assert errors[1]["non_field_errors"][0]["code"] == "invalid"
    assert "got str" in errors[1]["non_field_errors"][0]["message"]
    assert errors[2]["non_field_errors"][0]["code"] == "null"


def test_unique_field_clash_with_a_stored_row_is_a_per_item_error(api):
    ThingFactory(sku="S1")

    response = api.post("/things/", things(3), format="json")

    assert response.status_code == 400
    assert response.data["errors"] == [
        {"index": 1, "errors": {"sku": [{"message": "Thing with this sku already exists.", "code": "unique"}]}}
    ]
    assert Thing.objects.count() == 1


def test_duplicates_inside_the_payload_are_refused(api):
    payload = things(3)
    payload[2]["sku"] = "S0"

    response = api.post("/things/", payload, format="json")

    assert response.status_code == 400
    assert response.data["errors"] == [
        {
            "index": 2,
            "errors": {
                "sku": [{"message": "Thing with this sku already exists (item 0 of this request).", "code": "unique"}]
            },
        }
    ]
    assert not Thing.objects.exists()


def test_unique_together_is_checked_against_the_table_and_the_payload(api):
    PairFactory(left="a", right="b")
    payload = [
        {"left": "a", "right": "b"},  # stored
        {"left": "a", "right": "c"},  # fine
        {"left": "b", "right": "a"},  # fine: same values, other order
        {"left": "a", "right": "c"},  # duplicate of item 1
    ]

    response = api.post("/pairs/", payload, format="json")

    assert response.status_code == 400
    errors = {e["index"]: e["errors"] for e in response.data["errors"]}
    assert set(errors) == {0, 3}
    assert errors[0] == {
        "non_field_errors": [{"message": "The fields left, right must make a unique set.", "code": "unique"}]
    }
    assert errors[3]["non_field_errors"][0]["message"].endswith("(item 1 of this request).")
    assert Pair.objects.count() == 1


def test_unique_constraint_and_foreign_keys_are_validated_in_batch(api, django_assert_num_queries):
    thing = ThingFactory()
    Part.objects.create(thing=thing, position=1)
    payload = [
        {"thing": thing.pk, "position": 1},  # clashes with the stored part
        {"thing": thing.pk, "position": 2},
        {"thing": 999_999, "position": 3},  # no such thing
        {"thing": "abc", "position": 4},  # not a pk
    ]

    with django_assert_num_queries(2):  # one query for the foreign keys, one for uniqueness
        response = api.post("/parts/", payload, format="json")

    assert response.status_code == 400
    errors = {e["index"]: e["errors"] for e in response.data["errors"]}
    assert set(errors) == {0, 2, 3}
    assert errors[0]["non_field_errors"][0] == {
        "message": "The fields thing, position must make a unique set.",
        "code": "unique",
    }
    assert errors[2] == {
        "thing": [{"message": 'Invalid pk "999999" - object does not exist.', "code": "does_not_exist"}]
    }
    assert errors[3]["thing"][0]["code"] == "incorrect_type"
    assert Part.objects.count() == 1


def test_nested_writable_serializer_is_refused_with_a_clear_error(api):
    response = api.post("/nested/", [{"name": "a", "sku": "A", "parts": []}], format="json")

    assert response.status_code == 400
    assert response.data["detail"].code == "nested_writes_not_supported"
    assert "'parts'" in str(response.data["detail"])
    assert not Thing.objects.exists()


def test_empty_array_is_a_clear_400(api):
    response = api.post("/things/", [], format="json")

    assert response.status_code == 400
    assert response.data["detail"] == "The array is empty: send at least one item."
    assert response.data["detail"].code == "empty"


@override_settings(BULK_DRF_SYNC_MAX_ITEMS=3)
def test_more_items_than_sync_max_is_413_pointing_at_the_bulk_endpoint(api):
    response = api.post("/things/", things(4), format="json")

    assert response.status_code == 413
    assert response.data["detail"].code == "too_many_items"
    assert "http://testserver/things/bulk/" in response.data["detail"]
    assert "at most 3" in response.data["detail"]
    assert not Thing.objects.exists()


@override_settings(BULK_DRF_MAX_RECORDS=2, BULK_DRF_SYNC_MAX_ITEMS=2)
def test_more_items_than_max_records_is_413(api):
    response = api.post("/things/", things(3), format="json")

    assert response.status_code == 413
    assert response.data["detail"].code == "too_many_records"
    assert "BULK_DRF_MAX_RECORDS" in response.data["detail"]


class TestUpsert:
    def test_creates_new_rows_and_updates_matching_ones(self, api):
        kept = ThingFactory(sku="S1", name="old", quantity=5)

        response = api.post("/things/?unique_fields=sku", things(3), format="json")

        assert response.status_code == 201
        assert response.data["created_count"] == 2
        assert response.data["updated_count"] == 1
        rows = {t.sku: t for t in Thing.objects.all()}
        assert response.data["ids"] == [rows["S0"].pk, kept.pk, rows["S2"].pk]
        assert rows["S1"].pk == kept.pk
        assert (rows["S1"].name, rows["S1"].quantity) == ("thing 1", 1)

    def test_all_updated_answers_200(self, api):
        ThingFactory(sku="S0")

        response = api.post("/things/?unique_fields=sku", things(1), format="json")

        assert response.status_code == 200
        assert (response.data["created_count"], response.data["updated_count"]) == (0, 1)

    def test_patch_upsert_keeps_the_fields_an_item_does_not_send(self, api):
        ThingFactory(sku="S1", name="kept", quantity=5)

        response = api.patch(
            "/things/?unique_fields=sku",
            [{"sku": "S1", "quantity": 9}, {"sku": "S2", "name": "new", "quantity": 2}],
            format="json",
        )

        assert response.status_code == 200, response.data
        assert (response.data["created_count"], response.data["updated_count"]) == (1, 1)
        assert Thing.objects.get(sku="S1").name == "kept"
        assert Thing.objects.get(sku="S1").quantity == 9

    def test_multi_field_key(self, api):
        PairFactory(left="a", right="b", note="old")

        response = api.post(
            "/pairs/?unique_fields=left,right",
            [{"left": "a", "right": "b", "note": "new"}, {"left": "a", "right": "c"}],
            format="json",
        )

        assert response.status_code == 201
        assert Pair.objects.get(left="a", right="b").note == "new"
        assert Pair.objects.count() == 2

    def test_duplicate_keys_in_the_payload_are_refused(self, api):
        response = api.post("/things/?unique_fields=sku", things(2) + things(1), format="json")

        assert response.status_code == 400
        assert response.data["errors"] == [
            {"index": 2, "errors": {"sku": [{"message": "Same sku as item 0 of this request.", "code": "duplicate"}]}}
        ]
        assert not Thing.objects.exists()

    def test_missing_key_value_is_that_items_error(self, api):
        response = api.post("/things/?unique_fields=sku", [{"name": "no sku"}], format="json")

        assert response.status_code == 400
        assert response.data["errors"][0]["errors"]["sku"][0]["code"] == "required"

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("nope", "'nope' is not a field of Thing."),
            ("name", "name is not a unique key of Thing (unique keys: sku)"),
            ("", "Name the fields, e.g. ?unique_fields=sku."),
        ],
    )
    def test_unknown_or_non_unique_fields_are_a_400_naming_them(self, api, query, message):
        response = api.post(f"/things/?unique_fields={query}", things(1), format="json")

        assert response.status_code == 400
        assert message in response.data["unique_fields"][0]
        assert not Thing.objects.exists()

    def test_foreign_key_key_with_one_lookup_shared_by_new_and_matched_items(self, api, django_assert_num_queries):
        thing = ThingFactory()
        Part.objects.create(thing=thing, position=1, label="x")
        payload = [{"thing": thing.pk, "position": 1, "label": "y"}, {"thing": thing.pk, "position": 2}]

        # the keys' lock, matching SELECT, one foreign-key SELECT for both serializers, the upsert in a
        # savepoint (the test runs in a transaction); Django 4.2 returns no ids from an upsert: one more SELECT
        with django_assert_num_queries(6 if django.VERSION >= (5, 0) else 7):
            response = api.post("/parts/?unique_fields=thing,position", payload, format="json")

        assert response.status_code == 201
        assert (response.data["created_count"], response.data["updated_count"]) == (1, 1)
        assert dict(Part.objects.values_list("position", "label")) == {1: "y", 2: ""}


@override_settings(BULK_DRF_BATCH_SIZE=2)
def test_batch_size_setting_is_passed_to_bulk_create(api, django_assert_num_queries):
    # uniqueness SELECT, then 3 INSERTs of at most 2 rows (in a savepoint: the test runs in a transaction)
    with django_assert_num_queries(6) as captured:
        response = api.post("/things/", things(5), format="json")

    assert response.status_code == 201
    assert sum(q["sql"].startswith("INSERT") for q in captured.captured_queries) == 3


@override_settings(BULK_DRF_SYNC_MAX_ITEMS=2)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_sync_max_items_applies_to_every_method(api, method):
    rows = ThingFactory.create_batch(3, quantity=1)
    body = [{"id": t.pk, "name": "x", "sku": f"X{t.pk}"} for t in rows] if method != "delete" else [t.pk for t in rows]

    response = getattr(api, method)("/things/", body, format="json")

    assert response.status_code == 413
    assert response.data["detail"].code == "too_many_items"
    assert Thing.objects.filter(quantity=1).count() == 3
    assert set(Thing.objects.values_list("name", flat=True)) == {t.name for t in rows}
