"""Jobs on a real worker while their dependencies fail: the cache's Redis killed, the broker's Redis restarted,
database connections dropped. Each job must complete, every record written exactly once, without a human.

The Redis that is killed or restarted is one these tests start themselves (``redis-server`` on a free port
from 6390): the shared Redis on 6379 is never touched. They need ``REDIS_URL`` (the worker's Redis
configuration) and, for the dropped connections, PostgreSQL; without them they skip, except under
``CI=true``, where a missing service is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bulk_drf.models import BulkJob
from django.db import connection

from tests.conftest import make_user, transactions, wait_for
from tests.test_jobs_worker import assert_exactly_once, final_job

pytestmark = pytest.mark.django_db(transaction=True)


def require(condition: bool, what: str) -> None:
    """Skip without ``what``; under CI=true its absence fails the test."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {what} is missing")
    pytest.skip(f"needs {what}")


class RedisServer:
    """A ``redis-server`` of our own, without persistence: a restart loses every key, as a crash would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port(6390)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _answers(self.port), 10, f"redis-server on port {self.port}", interval=0.05)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port(start: int) -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for a redis-server")


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    require(bool(os.environ.get("REDIS_URL")), "Redis (REDIS_URL)")
    require(shutil.which("redis-server") is not None, "the redis-server program")
    with tempfile.TemporaryDirectory(prefix="bulk-fault-redis-") as directory:
        server = RedisServer(Path(directory)).start()
        try:
            yield server
        finally:
            server.kill()


def post_job(client: Any, accounts: Any, total: int, prefix: str) -> str:
    response = client.post("/api/transactions/bulk/", transactions(accounts, total, prefix), format="json")
    assert response.status_code == 202, response.content
    return str(response.json()["id"])


def processed(job_id: str) -> int:
    return BulkJob.objects.get(pk=job_id).processed_records


def test_the_cache_redis_killed_for_15_seconds_mid_job(
    start_worker: Callable[..., Any], own_redis: RedisServer, settings: Any
) -> None:
    """Issue 10.2: the worker's progress writes fail for 15 s; the job goes on and the status reads the row."""
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": own_redis.url}
    settings.CACHES = {"default": cache}
    start_worker(extra_env={"BULK_REDIS_CACHE_URL": own_redis.url})
    user, accounts, client = make_user("alice")
    total = 10_000
    job_id = post_job(client, accounts, total, "C")
    wait_for(lambda: processed(job_id) >= 200, 60, "the first chunk")
    own_redis.kill()
    killed_at = time.monotonic()
    at_kill = BulkJob.objects.get(pk=job_id)
    assert at_kill.state == "InProgress" and at_kill.processed_records < total, "the kill must land mid-job"
    status = client.get(f"/api/bulk-jobs/{job_id}/")  # the cache refuses: the row answers
    assert status.status_code == 200 and status.json()["state"] in ("InProgress", "JobComplete")
    job = final_job(job_id, 60)
    assert job.state == "JobComplete", job.error_message
    down = time.monotonic() - killed_at
    print(
        f"\ncache Redis killed at {at_kill.processed_records}/{total}; the job completed {down:.1f}s later, "
        "with the cache still down"
    )
    time.sleep(max(0.0, 15 - down))
    assert client.get(f"/api/bulk-jobs/{job_id}/").json()["state"] == "JobComplete"  # still down: from the row
    own_redis.start()  # back, empty: the next poll rebuilds the cache entry from the row
    body = client.get(f"/api/bulk-jobs/{job_id}/").json()
    assert (body["state"], body["processed_records"]) == ("JobComplete", total)
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (total, total, 0)
    assert_exactly_once(job, user, total)


def test_the_broker_redis_restarted_mid_job(
    start_worker: Callable[..., Any], own_redis: RedisServer, settings: Any, tmp_path: Path
) -> None:
    """The job hops through the broker (a 0.3 s time slice per task); the broker restarts empty mid-job.

    The message queued while the broker was down is lost; celery beat's reaper (inside the worker, every
    second, jobs idle for 3 s) queues the job again once the broker is back, and it resumes at its cursor.
    """
    from project.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = own_redis.url
    app._pool = app.amqp._producer_pool = None  # producers for the broker set here
    try:
        worker = start_worker(
            extra_env={
                "BULK_REDIS_BROKER_URL": own_redis.url,
                "BULK_DRF_TASK_SOFT_TIME_LIMIT": "0.3",
                "BULK_STALE_AFTER": "3",
                "BULK_REAPER_EVERY": "1",
            },
            extra_args=["-B", "-s", str(tmp_path / "celerybeat-schedule")],
        )
        user, accounts, client = make_user("alice")
        total = 8_000
        job_id = post_job(client, accounts, total, "B")
        wait_for(lambda: processed(job_id) >= 600, 60, "the first time slices")
        own_redis.kill()
        at_kill = BulkJob.objects.get(pk=job_id)
        assert at_kill.state == "InProgress" and at_kill.processed_records < total, "the restart must land mid-job"
        time.sleep(3)
        own_redis.start()
        restarted = time.monotonic()
        job = final_job(job_id, 90)
        reaped = "requeued 1 stalled bulk jobs" in worker.output()
        print(
            f"\nbroker Redis restarted (down 3 s, empty) at {at_kill.processed_records}/{total}; the job "
            f"completed {time.monotonic() - restarted:.1f}s after the restart, {job.attempts} attempts"
            f"{', requeued by the reaper' if reaped else ''}"
        )
    finally:
        app.conf.broker_url = saved
        app._pool = app.amqp._producer_pool = None
    assert job.state == "JobComplete", job.error_message
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (total, total, 0)
    assert_exactly_once(job, user, total)


def test_five_database_connection_drops_spread_over_a_job(start_worker: Callable[..., Any]) -> None:
    """Issue 10.4: each drop costs one retry (1 s); the budget counts consecutive failures, so five pass."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    start_worker()
    user, accounts, client = make_user("alice")
    total = 12_000
    job_id = post_job(client, accounts, total, "D")
    drops: list[int] = []
    for _ in range(5):
        after = drops[-1] + 1200 if drops else 600
        at = wait_for(lambda after=after: (n := processed(job_id)) >= after and n, 60, f"{after} records")
        if at >= total:
            break
        wait_for(_terminate_the_workers_sessions, 10, "a worker session to drop")
        drops.append(at)
    assert len(drops) == 5, f"the job ended before the fifth drop (drops at {drops})"
    job = final_job(job_id, 90)
    print(f"\ndropped the worker's database connection at {drops} of {total}: {job.state}")
    assert job.state == "JobComplete", job.error_message
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (total, total, 0)
    assert_exactly_once(job, user, total)


def _terminate_the_workers_sessions() -> int:
    """Drop every other session on the test database (the worker's); how many there were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])
