"""Query budgets for 1000 items through the whole DRF stack, asserted exactly per backend.

Counts include the transaction statements Django logs (BEGIN/COMMIT). The tests are transactional
(no outer test transaction), as a request in autocommit mode is. SQLite's 999-parameter limit makes
Django split large INSERT/UPDATE statements into batches; PostgreSQL writes each batch in one.
A receiver is connected for every operation, so the signals layer's own queries are counted too.
"""

import django
import pytest
from bulk_signals_core.testing import record
from bulk_signals_django import signals
from django.db import connection

from tests.factories import PairFactory
from tests.models import Pair, Thing

pytestmark = pytest.mark.django_db(transaction=True)

N = 1000
POSTGRES = connection.vendor == "postgresql"


def per_backend(*, postgresql, sqlite):
    return postgresql if POSTGRES else sqlite


def test_post_1000_new_items_with_one_unique_field(api, django_assert_num_queries):
    payload = [{"name": f"n{i}", "sku": f"S{i}"} for i in range(N)]
    # uniqueness SELECT + INSERT (+ BEGIN/COMMIT); SQLite: 999 params / 5 columns -> 6 INSERTs
    with record(signals.bulk_post_create, sender=Thing), django_assert_num_queries(
        per_backend(postgresql=4, sqlite=9)
    ):
        response = api.post("/things/", payload, format="json")

    assert response.status_code == 201
    assert Thing.objects.count() == N


def test_patch_1000_items_by_id(api, django_assert_num_queries):
    Thing.objects.bulk_create(Thing(name=f"n{i}", sku=f"S{i}") for i in range(N))
    payload = [{"id": pk, "quantity": 3} for pk in Thing.objects.values_list("pk", flat=True)]
    # fetch + signals' old-row SELECT + UPDATE (+ BEGIN/COMMIT); SQLite: 999 params over
    # (pk, pk, quantity, updated_at) -> 5 UPDATEs
    with record(signals.bulk_post_update, sender=Thing), django_assert_num_queries(
        per_backend(postgresql=5, sqlite=9)
    ):
        response = api.patch("/things/", payload, format="json")

    assert response.status_code == 200
    assert set(Thing.objects.values_list("quantity", flat=True)) == {3}


def test_delete_1000_ids(api, django_assert_num_queries):
    PairFactory.create_batch(N)
    ids = ",".join(str(pk) for pk in Pair.objects.values_list("pk", flat=True))
    # fetch + signals' old-row SELECT + DELETE (+ BEGIN/COMMIT)
    with record(signals.bulk_post_delete, sender=Pair), django_assert_num_queries(
        per_backend(postgresql=5, sqlite=5)
    ):
        response = api.delete(f"/pairs/?ids={ids}")

    assert response.status_code == 200
    assert not Pair.objects.exists()


def test_read_1000_ids(api, django_assert_num_queries):
    Thing.objects.bulk_create(Thing(name=f"n{i}", sku=f"S{i}") for i in range(N))
    ids = ",".join(str(pk) for pk in Thing.objects.values_list("pk", flat=True))

    with django_assert_num_queries(1):
        response = api.get(f"/things/?ids={ids}")

    assert len(response.data) == N


def test_upsert_1000_items(api, django_assert_num_queries):
    Thing.objects.bulk_create(Thing(name=f"n{i}", sku=f"S{i}") for i in range(N // 2))
    payload = [{"name": f"u{i}", "sku": f"S{i}"} for i in range(N)]
    # matching SELECT + signals' old-row SELECT + INSERT .. ON CONFLICT (+ BEGIN/COMMIT); Django 4.2
    # returns no ids from an upsert, so the new rows' ids take one more SELECT
    ids_query = 1 if django.VERSION < (5, 0) else 0
    with record(signals.bulk_post_update, sender=Thing), django_assert_num_queries(
        per_backend(postgresql=5, sqlite=10) + ids_query
    ):
        response = api.post("/things/?unique_fields=sku", payload, format="json")

    assert (response.data["created_count"], response.data["updated_count"]) == (N // 2, N // 2)
