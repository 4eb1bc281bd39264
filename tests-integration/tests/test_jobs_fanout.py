"""One job fanned out over two real Celery workers (PostgreSQL + Redis): a worker SIGKILLed in the middle of a
chunk, an abort while chunks run in parallel. Every record must end written once, with its result, and an
aborted job must keep exactly the chunks committed before the abort.

They need PostgreSQL (``DATABASE_URL``: chunks are claimed with ``FOR UPDATE SKIP LOCKED``) and Redis
(``REDIS_URL``); without them they skip, except under ``CI=true``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from bulk_drf.models import BulkJob, BulkJobChunk, BulkJobResult
from django.db import connection
from django.utils import timezone
from ledger.models import Transaction

from tests.conftest import make_user, wait_for
from tests.test_jobs_faults import post_job, require
from tests.test_jobs_worker import assert_exactly_once, final_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _parallel_services() -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    require(bool(os.environ.get("REDIS_URL")), "Redis (REDIS_URL)")


def chunk_in_work_of(job_id: str, worker_prefix: str) -> BulkJobChunk | None:
    """A chunk that worker claimed and has not committed: it is working on it (a claim is followed at once by
    the chunk's transaction). Read only: a lock taken here would make the worker leave its own chunk."""
    return BulkJobChunk.objects.filter(job_id=job_id, state="running", worker__startswith=worker_prefix).first()


def assert_results_match_rows(job: BulkJob, prefix: str, indexes: list[int]) -> None:
    """Each of ``indexes`` has one succeeded result naming the row written from its record, and no other."""
    pk_of = dict(Transaction.objects.values_list("reference", "pk"))
    results = list(BulkJobResult.objects.filter(job=job).order_by("index").values_list("index", "kind", "object_pk"))
    assert results == [(i, "succeeded", str(pk_of[f"{prefix}{i:06d}"])) for i in indexes]


def test_a_worker_killed_mid_chunk_leaves_the_job_to_the_other_worker(start_worker: Any, tmp_path: Path) -> None:
    """Two workers share the job; one is SIGKILLed holding a chunk. The survivor (its reaper, inside it via
    celery beat: every second, jobs idle for a second) sends the dead worker's chunk again and takes it over."""
    doomed = start_worker()  # it-0
    start_worker(
        extra_env={"BULK_REAPER_EVERY": "1"}, extra_args=["-B", "-s", str(tmp_path / "celerybeat-schedule")]
    )  # it-1
    user, accounts, client = make_user("alice")
    total = 4_000  # 20 chunks of 200
    job_id = post_job(client, accounts, total, "K")
    started = time.monotonic()
    wait_for(lambda: BulkJobChunk.objects.filter(job_id=job_id, state="done", worker__startswith="it-0-"), 60, "it-0")
    held = wait_for(lambda: chunk_in_work_of(job_id, "it-0-"), 30, "worker it-0 inside a chunk", interval=0.005)
    doomed.kill()  # SIGKILL the worker and its pool child, inside the chunk's transaction
    at_kill = BulkJob.objects.get(pk=job_id)
    assert at_kill.state == "InProgress" and at_kill.processed_records < total, "the kill must land mid-job"
    job = final_job(job_id, 60)
    held.refresh_from_db()
    print(
        f"\nSIGKILLed worker it-0 inside chunk {held.number} at {at_kill.processed_records}/{total}; the job "
        f"completed {time.monotonic() - started:.1f}s after it was posted: {job.workers_used} workers, "
        f"{job.retries} retries, active {job.active_processing_ms} ms over {job.total_processing_ms} ms"
    )
    assert job.state == "JobComplete", job.error_message
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (total, total, 0)
    assert (held.state, held.runs) == ("done", 2) and held.worker.startswith("it-1-")  # taken over, run twice
    assert job.retries == sum(r - 1 for r in BulkJobChunk.objects.filter(job=job).values_list("runs", flat=True)) >= 1
    assert job.workers_used == 2 and job.chunks_done == job.chunks_total == total // 200
    assert_exactly_once(job, user, total)
    assert_results_match_rows(job, "K", list(range(total)))


def test_abort_while_chunks_run_in_parallel(start_worker: Any) -> None:
    start_worker()
    start_worker()
    user, accounts, client = make_user("alice")
    total = 20_000
    job_id = post_job(client, accounts, total, "A")
    wait_for(lambda: BulkJobChunk.objects.filter(job_id=job_id, state="done").count() >= 4, 60, "four chunks")
    wait_for(lambda: BulkJobChunk.objects.filter(job_id=job_id, state="running").count() >= 2, 30, "two at once")
    response = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "Aborted"}, format="json")
    seen = timezone.now()  # the abort is committed: from here on no chunk may start
    assert response.status_code == 200 and response.json()["state"] == "Aborted", response.json()
    time.sleep(2)  # the chunks in work when the abort came roll back; the queued messages find the job Aborted
    job = BulkJob.objects.get(pk=job_id)
    chunks = list(BulkJobChunk.objects.filter(job=job).order_by("number"))
    done = [c for c in chunks if c.state == "done"]
    late = [c.number for c in chunks if c.started_at is not None and c.started_at >= seen]
    print(
        f"\naborted with {len(done)} of {len(chunks)} chunks done, "
        f"{sum(1 for c in chunks if c.state == 'running')} rolled back in work, {len(late)} started after the abort"
    )
    assert job.state == "Aborted" and 4 <= len(done) < len(chunks)
    assert late == [] and all(c.finished_at < seen for c in done)
    committed = sorted(i for c in done for i in range(c.start_index, c.stop_index))
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (len(committed), len(committed), 0)
    assert job.chunks_done == len(done)
    assert Transaction.objects.filter(owner=user).count() == len(committed)
    assert_results_match_rows(job, "A", committed)
    unprocessed = client.get(f"/api/bulk-jobs/{job_id}/results/?kind=unprocessed&limit=1").json()
    assert unprocessed["count"] == total - len(committed)
    status = client.get(f"/api/bulk-jobs/{job_id}/").json()
    assert (status["state"], status["processed_records"]) == ("Aborted", len(committed))
    time.sleep(1)
    assert BulkJob.objects.get(pk=job_id).processed_records == len(committed)  # and nothing moved since
