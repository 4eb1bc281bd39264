"""Conditional ``UniqueConstraint``s (``condition=Q(...)``) in the batched uniqueness check: one active
seat per (room, number), any number of cancelled ones. Checked in the same single query as every other
key, against the table (rows matching the condition) and inside the payload (items matching it)."""

import pytest
from bulk_drf.sync.validation import UniqueKey, unique_keys
from django.db import models
from django.db.models import Q

from tests.models import Seat

pytestmark = pytest.mark.django_db

CLASH = "The fields room, number must make a unique set."


def errors_by_index(response):
    return {e["index"]: e["errors"] for e in response.data["errors"]}


def test_an_active_seat_clashing_with_a_stored_active_one_is_a_per_item_error(api, django_assert_num_queries):
    Seat.objects.create(room="A", number=1)
    Seat.objects.create(room="A", number=2, cancelled=True)
    payload = [
        {"room": "A", "number": 1},  # clashes with the stored active seat
        {"room": "A", "number": 2},  # the stored one is cancelled: no clash
        {"room": "A", "number": 1, "cancelled": True},  # cancelled: outside the constraint
    ]

    with django_assert_num_queries(1):  # the uniqueness query; nothing is written
        response = api.post("/seats/", payload, format="json")

    assert response.status_code == 400
    assert errors_by_index(response) == {0: {"non_field_errors": [{"message": CLASH, "code": "unique"}]}}
    assert Seat.objects.count() == 2


def test_duplicates_inside_the_payload_count_only_when_both_match_the_condition(api):
    payload = [
        {"room": "B", "number": 7},
        {"room": "B", "number": 7, "cancelled": True},  # fine
        {"room": "B", "number": 7},  # duplicate of item 0
    ]

    response = api.post("/seats/", payload, format="json")

    assert response.status_code == 400
    assert errors_by_index(response) == {
        2: {"non_field_errors": [{"message": CLASH.rstrip(".") + " (item 0 of this request).", "code": "unique"}]}
    }
    assert not Seat.objects.exists()

    response = api.post("/seats/", payload[:2], format="json")
    assert response.status_code == 201
    assert Seat.objects.count() == 2


def test_changing_only_the_condition_field_is_checked(api):
    # Un-cancelling a seat whose number an active seat holds: the items change no key field, only the condition's.
    Seat.objects.create(room="C", number=3)
    cancelled = Seat.objects.create(room="C", number=3, cancelled=True)
    other = Seat.objects.create(room="C", number=4, cancelled=True)

    response = api.patch(
        "/seats/", [{"id": cancelled.pk, "cancelled": False}, {"id": other.pk, "cancelled": False}], format="json"
    )

    assert response.status_code == 400
    assert errors_by_index(response) == {0: {"non_field_errors": [{"message": CLASH, "code": "unique"}]}}
    assert Seat.objects.get(pk=other.pk).cancelled is True  # nothing written

    response = api.patch("/seats/", [{"id": other.pk, "cancelled": False}], format="json")
    assert response.status_code == 200


def test_an_upsert_cannot_match_on_a_conditional_key(api):
    response = api.post("/seats/?unique_fields=room,number", [{"room": "D", "number": 1}], format="json")

    assert response.status_code == 400
    assert "is not a unique key of Seat" in str(response.data["unique_fields"][0])


class _Row:
    def __init__(self, **values):
        self.__dict__.update(values)


@pytest.mark.parametrize(
    ("condition", "row", "expected"),
    [
        (Q(cancelled=False), {"cancelled": False}, True),
        (Q(cancelled=False), {"cancelled": True}, False),
        (~Q(cancelled=True), {"cancelled": False}, True),
        (Q(room__in=["A", "B"]), {"room": "B"}, True),
        (Q(room__in=["A", "B"]), {"room": "C"}, False),
        (Q(room__isnull=False) & Q(cancelled=False), {"room": "A", "cancelled": False}, True),
        (Q(room="A") | Q(cancelled=True), {"room": "Z", "cancelled": False}, False),
        (Q(number="5"), {"number": 5}, True),  # the field's to_python: "5" is the integer 5
    ],
)
def test_conditions_are_evaluated_on_the_item_values(condition, row, expected):
    obj = _Row(**{"room": None, "number": None, "cancelled": False, **row})
    assert _evaluate(condition, obj) is expected
    assert UniqueKey((Seat._meta.get_field("room"),), condition).applies(Seat(**row)) is expected


def _evaluate(condition, obj):
    from bulk_drf.sync.validation import _condition_test

    test = _condition_test(Seat, condition)
    assert test is not None
    return test(obj)


@pytest.mark.parametrize(
    "condition",
    [Q(number__gt=0), Q(room__startswith="A"), Q(number=models.F("number")), Q(cancelled=False) ^ Q(room="A")],
)
def test_conditions_we_cannot_evaluate_are_left_to_the_database(condition):
    from bulk_drf.sync.validation import _condition_test

    assert _condition_test(Seat, condition) is None


def test_the_model_key_list_holds_the_conditional_key_and_upserts_do_not_see_it():
    keys = unique_keys(Seat)
    assert [(k.names, k.condition) for k in keys] == [(("room", "number"), Q(cancelled=False))]
    assert unique_keys(Seat, conditional=False) == []
