"""Concurrent upserts of the same new keys through the API: each row is counted created exactly once.

Before the fix, two ``POST /things/?unique_fields=sku`` at once with the same new keys could both answer
``created_count: N`` (each fetch saw the keys absent; ON CONFLICT turned the second INSERT into an
UPDATE) and ``after_create`` ran twice per row. Needs concurrent connections that wait for each other:
PostgreSQL (SQLite's in-memory test database refuses a second writer instead of waiting; the SQLite case
is tested in bulk-signals-django on a file database).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from bulk_signals_django.decorators import after_create
from django.db import connection
from rest_framework.test import APIClient

from tests.models import Thing

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"),
]

WORKERS, KEYS, ROUNDS = 3, 150, 4


def test_parallel_upserts_count_each_new_row_created_once(user: Any) -> None:
    created: Counter[str] = Counter()
    lock = threading.Lock()

    @after_create(Thing)
    def on_create(sender: Any, event: Any) -> None:
        with lock:
            created.update(r.sku for r in event.new_records)

    for round_ in range(ROUNDS):
        payload = [{"name": f"n{i}", "sku": f"R{round_}S{i}"} for i in range(KEYS)]
        answers: list[Any] = []
        barrier = threading.Barrier(WORKERS)

        def post(payload: list[Any] = payload, answers: list[Any] = answers, barrier: Any = barrier) -> None:
            client = APIClient()
            client.force_authenticate(user)
            try:
                barrier.wait()
                response = client.post("/things/?unique_fields=sku", payload, format="json")
                answers.append((response.status_code, response.data["created_count"], response.data["updated_count"]))
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(a[1] for a in answers) == KEYS
        assert sum(a[2] for a in answers) == KEYS * (WORKERS - 1)
        assert [s for s in (p["sku"] for p in payload) if created[s] != 1] == []
    assert Thing.objects.count() == KEYS * ROUNDS
