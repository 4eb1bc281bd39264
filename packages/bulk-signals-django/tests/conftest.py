from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from bulk_signals_django.dispatch import connect_for_model, forget
from bulk_signals_django.events import BulkEvent
from bulk_signals_django.signals import ALL_SIGNALS
from django.db import connection
from django.test.utils import CaptureQueriesContext

_TX_PREFIXES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture(autouse=True)
def _disconnect_receivers():
    yield
    for signal in ALL_SIGNALS:
        signal.disconnect_all()
    forget()


@dataclass
class Log:
    """Every bulk signal sent for the models it listens to, in order: ``(signal name, event)``."""

    calls: list[tuple[str, BulkEvent]] = field(default_factory=list)

    def listen(self, *models: Any, signals: Any = ALL_SIGNALS) -> Log:
        for model in models:
            for signal in signals:

                def receiver(sender: Any, event: BulkEvent, _name: str = signal.name) -> None:
                    self.calls.append((_name, event))

                connect_for_model(signal, receiver, model, 50, None)
        return self

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def event(self, name: str) -> BulkEvent:
        found = [event for n, event in self.calls if n == name]
        assert len(found) == 1, f"{name} sent {len(found)} times: {self.names}"
        return found[0]


@pytest.fixture
def log() -> Log:
    return Log()


def is_tx(sql: str) -> bool:
    return sql.upper().startswith(_TX_PREFIXES)


@dataclass
class Counted:
    data: int
    tx: int
    sql: list[str]

    @property
    def total(self) -> int:
        return self.data + self.tx


def count(fn: Any) -> Counted:
    """Run ``fn`` and count its data statements and its transaction statements apart."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    sql = [q["sql"] for q in ctx.captured_queries]
    tx = sum(1 for s in sql if is_tx(s))
    return Counted(data=len(sql) - tx, tx=tx, sql=sql)


def our_tx_statements() -> int:
    """What one outermost ``atomic`` block adds to the captured statements, measured: SQLite logs
    BEGIN and COMMIT, PostgreSQL only COMMIT (its BEGIN is implicit in psycopg)."""
    from django.db import transaction

    def one_query_in_a_transaction() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    return count(one_query_in_a_transaction).tx


def pytest_runtest_teardown(item: Any) -> None:
    """Async tests reach the database from asgiref's shared worker thread: close its connection, or
    PostgreSQL refuses to drop the test database at the end."""
    if item.get_closest_marker("asyncio") is not None:
        from asgiref.sync import SyncToAsync
        from django.db import connections

        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
