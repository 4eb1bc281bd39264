"""Query budgets for 1000 items through the whole DRF stack, asserted exactly per backend.

Each budget is asserted both ways: the total Django logs (django_assert_num_queries, which counts the
transaction statements BEGIN/COMMIT/SAVEPOINT/RELEASE SAVEPOINT on Django >= 4.2) and, split out, the
data statements (SELECT/INSERT/UPDATE/DELETE) and the transaction statements. The tests are
transactional (no outer test transaction), as a request in autocommit mode is. SQLite's parameter limit
(999 before Django 6.0; since 6.0 the connection's own, 32766 on SQLite >= 3.32) makes Django split large
INSERT/UPDATE statements into batches; PostgreSQL writes each in one.
A receiver is connected for every operation, so the signals layer's own queries are counted too.

Update, upsert and delete hold one transaction from their FOR UPDATE fetch to the write; the
signals layer's write joins it (``atomic(savepoint=False)``: no statement of its own). An upsert first
takes its keys' lock (bulk_signals_django.keylocks), and the signals layer takes it again (re-entrant).
"""

import math

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


TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def batches(columns):
    """How many statements Django splits a write of N rows with ``columns`` parameters per row into."""
    if POSTGRES:
        return 1
    return math.ceil(N / (connection.features.max_query_params // columns))


def split(captured):
    """(data statements, transaction statements) of a captured request."""
    sql = [q["sql"] for q in captured.captured_queries]
    tx = [s for s in sql if s.startswith(TRANSACTION)]
    return len(sql) - len(tx), len(tx)


def test_post_1000_new_items_with_one_unique_field(api, django_assert_num_queries):
    payload = [{"name": f"n{i}", "sku": f"S{i}"} for i in range(N)]
    # data: uniqueness SELECT + INSERT (SQLite < Django 6: 999 params / 5 columns -> 6 INSERTs);
    # transaction: BEGIN/COMMIT of the signals layer's atomic write
    data, tx = 1 + batches(5), 2
    with record(signals.bulk_post_create, sender=Thing), django_assert_num_queries(data + tx) as captured:
        response = api.post("/things/", payload, format="json")

    assert response.status_code == 201
    assert split(captured) == (data, tx)
    assert Thing.objects.count() == N


def test_patch_1000_items_by_id(api, django_assert_num_queries):
    Thing.objects.bulk_create(Thing(name=f"n{i}", sku=f"S{i}") for i in range(N))
    payload = [{"id": pk, "quantity": 3} for pk in Thing.objects.values_list("pk", flat=True)]
    # data: fetch (FOR UPDATE) + UPDATE (SQLite < Django 6: 999 params over (pk, pk, quantity, updated_at)
    # -> 5 UPDATEs); the signals layer's old rows are the fetched rows' twins (handover.rows_read), no second
    # SELECT; transaction: BEGIN, COMMIT
    data, tx = 1 + batches(4), 2
    with record(signals.bulk_post_update, sender=Thing), django_assert_num_queries(data + tx) as captured:
        response = api.patch("/things/", payload, format="json")

    assert response.status_code == 200
    assert split(captured) == (data, tx)
    assert set(Thing.objects.values_list("quantity", flat=True)) == {3}


def test_delete_1000_ids(api, django_assert_num_queries):
    PairFactory.create_batch(N)
    ids = ",".join(str(pk) for pk in Pair.objects.values_list("pk", flat=True))
    # data: fetch (FOR UPDATE) + signals' old-row SELECT + DELETE; transaction: BEGIN, COMMIT
    data, tx = 3, 2
    with record(signals.bulk_post_delete, sender=Pair), django_assert_num_queries(data + tx) as captured:
        response = api.delete(f"/pairs/?ids={ids}")

    assert response.status_code == 200
    assert split(captured) == (data, tx)
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
    # data: keys' lock + matching SELECT (FOR UPDATE) + INSERT .. ON CONFLICT (SQLite < Django 6: 6 batches);
    # the signals layer pairs old and new rows from the matching SELECT's rows (rows_known): no second lock
    # and SELECT. Django 4.2 returns no ids from an upsert, so the new rows' ids take one more SELECT;
    # transaction: BEGIN, COMMIT
    ids_query = 1 if django.VERSION < (5, 0) else 0
    data, tx = 2 + batches(5) + ids_query, 2
    with record(signals.bulk_post_update, sender=Thing), django_assert_num_queries(data + tx) as captured:
        response = api.post("/things/?unique_fields=sku", payload, format="json")

    assert (response.data["created_count"], response.data["updated_count"]) == (N // 2, N // 2)
    assert split(captured) == (data, tx)
