"""Concurrent upserts of the same new keys: each row is reported created exactly once (keylocks.py).

Before the fix, two transactions upserting the same new keys both classified them as creates (each
SELECT saw them absent); the database's ON CONFLICT turned the second INSERT into an UPDATE, so
``after_create`` ran twice for one row. Threads with their own connections, released together.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from bulk_signals_django.decorators import after_create, after_update
from django.conf import settings
from django.db import connections, transaction

from tests.models import Product

# PostgreSQL: the default database; SQLite: a file (tests/settings.py), where writers wait for each other.
ALIAS = "concurrent" if "concurrent" in settings.DATABASES else "default"
pytestmark = pytest.mark.django_db(transaction=True, databases=[ALIAS])

WORKERS, KEYS, ROUNDS = 4, 200, 5


def _upsert_in_parallel(keys: list[str], ignore: bool = False) -> list[BaseException]:
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic(using=ALIAS):
                objs = [Product(sku=k, name=f"w{n}", price=n) for k in keys]
                if ignore:
                    Product.objects.using(ALIAS).bulk_create(objs, ignore_conflicts=True)
                else:
                    Product.objects.using(ALIAS).bulk_create(
                        objs, update_conflicts=True, unique_fields=["sku"], update_fields=["name", "price"]
                    )
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections[ALIAS].close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_parallel_upserts_of_the_same_new_keys_create_each_row_once() -> None:
    created: Counter[str] = Counter()
    updated: Counter[str] = Counter()
    lock = threading.Lock()

    @after_create(Product)
    def on_create(sender: Any, event: Any) -> None:
        with lock:
            created.update(r.sku for r in event.new_records)

    @after_update(Product)
    def on_update(sender: Any, event: Any) -> None:
        with lock:
            updated.update(r.sku for r in event.new_records)

    for round_ in range(ROUNDS):
        keys = [f"R{round_}K{i}" for i in range(KEYS)]
        assert _upsert_in_parallel(keys) == []
        assert [k for k in keys if created[k] != 1] == []
        assert all(updated[k] == WORKERS - 1 for k in keys)
    assert Product.objects.using(ALIAS).count() == KEYS * ROUNDS


def test_parallel_inserts_ignoring_conflicts_report_each_row_once() -> None:
    created: Counter[str] = Counter()
    lock = threading.Lock()

    @after_create(Product)
    def on_create(sender: Any, event: Any) -> None:
        with lock:
            created.update(r.sku for r in event.new_records)

    for round_ in range(ROUNDS):
        keys = [f"I{round_}K{i}" for i in range(KEYS)]
        assert _upsert_in_parallel(keys, ignore=True) == []
        assert [k for k in keys if created[k] != 1] == []


def test_a_key_locks_the_same_bucket_whatever_python_type_names_it() -> None:
    # "5" and 5 are one key of an integer column: two upserts naming it differently must wait for each other.
    from bulk_signals_django.keylocks import lock_ids

    price = Product._meta.get_field("price")
    assert lock_ids(Product, [([price], [(5,)])]) == lock_ids(Product, [([price], [("5",)])])
    sku = Product._meta.get_field("sku")
    assert len(lock_ids(Product, [([sku], [(f"S{i}",) for i in range(5000)])])) <= 256
