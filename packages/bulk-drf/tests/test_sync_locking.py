"""Concurrent bulk writes: the rows an update, upsert or delete changes are read with FOR UPDATE.

The fetch, the validation and the write share one transaction, so on PostgreSQL a second writer of
the same rows waits for the first to commit and then works on the committed rows. SQLite has no row
locks (it serialises writers); there the fetch still runs inside the write's transaction.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import ThingFactory
from tests.models import Thing

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = connection.vendor == "postgresql"


def _statements(captured):
    return [q["sql"] for q in captured.captured_queries]


def _fetch(statements):
    """The first data statement: the fetch of the rows to change."""
    return next(sql for sql in statements if sql.startswith("SELECT") and "pg_advisory_xact_lock" not in sql)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("patch", "/things/", lambda pks: [{"id": pk, "quantity": 5} for pk in pks]),
        ("put", "/things/", lambda pks: [{"id": pk, "name": "n", "sku": f"P{pk}", "quantity": 5} for pk in pks]),
        ("delete", "/things/", lambda pks: pks),
        ("patch", "/things/?unique_fields=sku", lambda pks: [{"sku": f"S{i}", "quantity": 5} for i in range(2)]),
    ],
    ids=["patch", "put", "delete", "upsert"],
)
def test_the_rows_to_change_are_fetched_for_update_inside_the_write_transaction(api, method, url, body):
    pks = [ThingFactory(sku=f"S{i}").pk for i in range(2)]

    with CaptureQueriesContext(connection) as captured:
        response = getattr(api, method)(url, body(pks), format="json")

    assert response.status_code == 200, response.data
    statements = _statements(captured)
    fetch = _fetch(statements)
    # one transaction from the fetch to the write: BEGIN before the fetch, COMMIT last
    assert statements.index("BEGIN") < statements.index(fetch)
    assert statements[-1] == "COMMIT"
    assert statements.count("BEGIN") == 1
    if "unique_fields" in url:  # an upsert takes its keys' lock first (bulk_signals_django.keylocks)
        lock = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql or "WHERE 0 = 1" in sql)
        assert statements.index("BEGIN") < lock < statements.index(fetch)
    if POSTGRES:
        assert fetch.endswith('FOR UPDATE OF "tests_thing"')
    else:  # SQLite has no SELECT ... FOR UPDATE; Django must not emit it
        assert "FOR UPDATE" not in fetch


def test_creates_take_no_lock(api):
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/things/", [{"name": "a", "sku": "A"}], format="json")

    assert response.status_code == 201
    assert not any("FOR UPDATE" in sql for sql in _statements(captured))


def test_a_refused_batch_rolls_its_transaction_back_and_releases_the_locks(api):
    thing = ThingFactory(quantity=1)

    response = api.patch("/things/", [{"id": thing.pk, "quantity": -1}], format="json")

    assert response.status_code == 400
    assert response.data["errors"][0]["errors"]["quantity"][0]["code"] == "negative"
    assert connection.get_autocommit()  # no transaction left open by the refused request
    # the row is not left locked: another write goes through at once
    assert Thing.objects.filter(pk=thing.pk).update(quantity=2) == 1


@pytest.mark.skipif(not POSTGRES, reason="row locks: PostgreSQL only (SQLite serialises writers)")
def test_a_concurrent_writer_is_waited_for_and_not_overwritten(api):
    """An upsert rewrites every column of a matched row from the row it read: reading it without a
    lock would write back the quantity another transaction changed meanwhile (a lost update)."""
    thing = ThingFactory(name="a", sku="A", quantity=1)
    holding = threading.Event()

    def other_writer():
        try:
            with transaction.atomic():
                Thing.objects.filter(pk=thing.pk).update(quantity=7)  # takes the row lock
                holding.set()
                time.sleep(0.5)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert holding.wait(10)
    started = time.monotonic()
    response = api.patch("/things/?unique_fields=sku", [{"sku": "A", "name": "b"}], format="json")
    waited = time.monotonic() - started
    writer.join()

    assert response.status_code == 200, response.data
    assert waited > 0.2  # the request waited for the other transaction's commit
    thing.refresh_from_db()
    assert (thing.name, thing.quantity) == ("b", 7)
    assert response.data["data"][0]["quantity"] == 7
