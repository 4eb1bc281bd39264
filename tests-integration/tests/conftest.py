"""Integration fixtures: a real ``celery -A project worker`` process on the same database, broker and cache.

Tests that need the worker use ``django_db(transaction=True)``: their writes are committed, so the
worker process (which connects to pytest-django's test database through ``BULK_DB_NAME``) sees them.
PostgreSQL and Redis are used when ``DATABASE_URL`` / ``REDIS_URL`` are set; otherwise an on-disk
SQLite test database, kombu's filesystem broker and a file cache (the header says which).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from demo.worker import WorkerProcess
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from ledger.models import Account
from rest_framework.test import APIClient

QUEUE = f"bulk-integration-{os.getpid()}"  # unique per run: no stale messages from another run
CHUNK_SIZE = 200


def pytest_report_header(config: Any) -> list[str]:
    db = "PostgreSQL (DATABASE_URL)" if os.environ.get("DATABASE_URL") else "SQLite file (no DATABASE_URL)"
    broker = (
        f"Redis broker db {os.environ.get('BULK_REDIS_BROKER_DB', '2')} + Redis cache db "
        f"{os.environ.get('BULK_REDIS_CACHE_DB', '3')} (REDIS_URL)"
        if os.environ.get("REDIS_URL")
        else "kombu filesystem broker + file cache (no REDIS_URL: embedded fallback)"
    )
    return [f"bulk-signals integration: {db}; {broker}; queue {QUEUE}"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fuzzer's request count (tests/test_fuzz.py), when it ran."""
    fuzz = sys.modules.get("tests.test_fuzz")
    if fuzz is not None and fuzz.SENT["requests"]:
        terminalreporter.write_line(fuzz.summary())


@pytest.fixture
def start_worker(django_db_setup: Any, settings: Any) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes on the test database; every one still running is stopped afterwards."""
    settings.BULK_DRF_CHUNK_SIZE = CHUNK_SIZE
    settings.BULK_DRF_PROGRESS_UPDATE_INTERVAL = CHUNK_SIZE
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    from project.celery import app

    app.conf.task_default_queue = QUEUE
    started: list[WorkerProcess] = []
    env = {
        "BULK_DB_NAME": str(connection.settings_dict["NAME"]),
        "BULK_QUEUE": QUEUE,
        "BULK_DRF_CHUNK_SIZE": str(CHUNK_SIZE),
        "BULK_VISIBILITY_TIMEOUT": "5",  # Redis redelivers a dead worker's task after 5 s (tests only)
        "BULK_STALE_AFTER": "1",  # the reaper (a starting worker, beat) requeues jobs idle for 1 s
        "BULK_STATE_DIR": str(settings.STATE_DIR),
    }

    def start(
        concurrency: int = 1, extra_env: dict[str, str] | None = None, extra_args: list[str] | None = None
    ) -> WorkerProcess:
        worker = WorkerProcess(
            env={**env, **(extra_env or {})}, concurrency=concurrency, name=f"it-{len(started)}", extra_args=extra_args
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def make_user(name: str) -> tuple[User, list[Account], APIClient]:
    user = User.objects.create_user(name, password="pw")
    accounts = Account.objects.bulk_create(Account(owner=user, name=f"{name}-{i}") for i in range(5))
    client = APIClient()
    client.force_authenticate(user)
    return user, accounts, client


def transactions(accounts: list[Account], n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"account": accounts[i % len(accounts)].pk, "reference": f"{prefix}{i:06d}", "amount": f"{i % 97}.25"}
        for i in range(n)
    ]


__all__ = ["make_user", "settings", "transactions", "wait_for"]
