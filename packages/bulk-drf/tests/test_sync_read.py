"""GET /things/?ids=3,1,2."""

import pytest
from django.test import override_settings

from tests.factories import ThingFactory

ID_RULE = "(an integer: a JSON integer or ASCII digits)"

pytestmark = pytest.mark.django_db


def test_rows_come_back_in_the_order_asked_with_one_query(api, django_assert_num_queries):
    a, b, c = ThingFactory.create_batch(3)

    with django_assert_num_queries(1):
        response = api.get(f"/things/?ids={c.pk},{a.pk},{b.pk}")

    assert response.status_code == 200
    assert [row["id"] for row in response.data] == [c.pk, a.pk, b.pk]


def test_repeated_parameters_and_repeated_ids(api):
    a, b = ThingFactory.create_batch(2)

    response = api.get(f"/things/?ids={b.pk}&ids={a.pk},{b.pk}")

    assert [row["id"] for row in response.data] == [b.pk, a.pk]


def test_ids_that_do_not_exist_are_left_out(api):
    a = ThingFactory()

    response = api.get(f"/things/?ids=999999,{a.pk}")

    assert [row["id"] for row in response.data] == [a.pk]


def test_malformed_ids_are_a_400_naming_each_bad_value(api):
    response = api.get("/things/?ids=1,two,3.5")

    assert response.status_code == 400
    assert response.data == {"ids": [f"'two' is not a valid id {ID_RULE}.", f"'3.5' is not a valid id {ID_RULE}."]}
    assert response.data["ids"][0].code == "invalid"


def test_empty_ids_is_a_400(api):
    response = api.get("/things/?ids=")

    assert response.status_code == 400
    assert response.data == {"ids": ["Give at least one id, e.g. ?ids=1,2,3."]}


@override_settings(BULK_DRF_MAX_IDS=2)
def test_more_ids_than_max_ids_is_a_400(api):
    response = api.get("/things/?ids=1,2,3")

    assert response.status_code == 400
    assert response.data == {"ids": ["3 ids given; BULK_DRF_MAX_IDS allows at most 2."]}
    assert response.data["ids"][0].code == "too_many_ids"


def test_paginated_viewsets_paginate_the_ordered_rows_with_one_query(api, django_assert_num_queries):
    a, b, c = ThingFactory.create_batch(3)

    with django_assert_num_queries(1):
        response = api.get(f"/paged/?ids={c.pk},{b.pk},{a.pk}")

    assert response.data["count"] == 3
    assert [row["id"] for row in response.data["results"]] == [c.pk, b.pk]


def test_without_ids_the_list_is_drf_list(api):
    ThingFactory.create_batch(2)

    assert len(api.get("/things/").data) == 2
