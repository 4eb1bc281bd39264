"""Jobs processed by a real Celery worker process: the happy path, a SIGKILLed worker, abort, two users."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from bulk_drf.models import BulkJob, BulkJobChunk, BulkJobResult
from django.db import connection
from django.db.models import Count, Sum
from ledger.models import Account, AuditEntry, Transaction

from tests.conftest import make_user, transactions, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FINAL = ("JobComplete", "Failed", "Aborted")


def final_job(job_id: str, timeout: float) -> BulkJob:
    return wait_for(lambda: (j := BulkJob.objects.get(pk=job_id)).state in FINAL and j, timeout, f"job {job_id} to end")


def assert_exactly_once(job: BulkJob, user: Any, expected: int) -> None:
    """Every record written once: rows, results and the receivers' effects all match."""
    assert Transaction.objects.filter(owner=user).count() == expected
    assert Transaction.objects.filter(owner=user).values("reference").distinct().count() == expected
    results = BulkJobResult.objects.filter(job=job)
    assert results.count() == expected
    assert results.aggregate(n=Count("index", distinct=True))["n"] == expected
    balances = Account.objects.filter(owner=user).aggregate(s=Sum("balance"))["s"]
    assert balances == Transaction.objects.filter(owner=user).aggregate(s=Sum("amount"))["s"]
    assert AuditEntry.objects.aggregate(s=Sum("rows"))["s"] >= expected


def test_a_job_runs_on_a_real_worker_with_per_record_errors(start_worker: Any) -> None:
    start_worker()
    _user, accounts, client = make_user("alice")
    records = transactions(accounts, 1000, "A")
    records[10]["amount"] = "lots"
    response = client.post("/api/transactions/bulk/", records, format="json")
    assert response.status_code == 202
    job = final_job(response.json()["id"], 60)
    assert (job.state, job.succeeded_records, job.failed_records) == ("JobComplete", 999, 1)
    failed = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=failed").json()["results"]
    assert failed == [
        {
            "index": 10,
            "pk": None,
            "created": False,
            "data": None,
            "errors": {"amount": [{"message": "A valid number is required.", "code": "invalid"}]},
        }
    ]
    status = client.get(f"/api/bulk-jobs/{job.pk}/").json()
    assert status["state"] == "JobComplete" and status["processed_records"] == 1000
    total = client.get(f"/api/bulk-jobs/{job.pk}/aggregates/?sum=amount&count=*").json()["aggregates"]
    assert total["count__*"] == 999
    assert Decimal(total["sum__amount"]) == Transaction.objects.aggregate(s=Sum("amount"))["s"]


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(start_worker: Any) -> None:
    worker = start_worker()
    user, accounts, client = make_user("alice")
    total = 10_000
    job_id = client.post("/api/transactions/bulk/", transactions(accounts, total, "K"), format="json").json()["id"]
    wait_for(lambda: BulkJob.objects.get(pk=job_id).processed_records >= 1000, 60, "the first chunks")
    worker.kill()  # SIGKILL to the worker and its pool child: no warm shutdown, the task is not acked
    at_kill = BulkJob.objects.get(pk=job_id)
    assert at_kill.state == "InProgress" and 1000 <= at_kill.processed_records < total, "kill must land mid-job"
    print(f"\nkilled the worker at {at_kill.processed_records}/{total} records; starting a new one")
    start_worker()
    job = final_job(job_id, 120)
    assert job.state == "JobComplete", job.error_message
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (total, total, 0)
    runs = list(BulkJobChunk.objects.filter(job=job).values_list("runs", flat=True))
    if connection.vendor == "postgresql":  # fanned out: the chunk in work (if any) ran again, not the job
        assert len(runs) == job.chunks_done == job.chunks_total and min(runs) >= 1
        assert job.retries == sum(r - 1 for r in runs)
        print(f"chunks re-run after the kill: {job.retries}")
    else:  # one task walks the chunks: Redis redelivered it (or the new worker's reaper sent it again)
        assert job.attempts >= 2
    assert_exactly_once(job, user, total)


def test_abort_stops_the_job_between_chunks(start_worker: Any) -> None:
    start_worker()
    _user, accounts, client = make_user("alice")
    # Large enough that the worker cannot finish it between our poll and our PATCH (SQLite is fast):
    # the abort comes after the first chunk, so the size costs only the upload.
    total = 30_000
    job_id = client.post("/api/transactions/bulk/", transactions(accounts, total, "B"), format="json").json()["id"]
    wait_for(lambda: BulkJob.objects.get(pk=job_id).processed_records >= 200, 60, "the first chunk")
    response = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "Aborted"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "Aborted", (response.json(), _state(job_id))
    wait_for(
        lambda: not BulkJob.objects.filter(pk=job_id, heartbeat_at__isnull=False).exists() or _quiet(job_id),
        30,
        "the worker to stop",
        interval=0.5,
    )
    job = BulkJob.objects.get(pk=job_id)
    assert job.state == "Aborted" and job.processed_records < total
    assert Transaction.objects.count() == job.succeeded_records == job.processed_records
    unprocessed = client.get(f"/api/bulk-jobs/{job_id}/results/?kind=unprocessed&limit=1").json()
    assert unprocessed["count"] == total - job.processed_records
    assert unprocessed["results"][0]["index"] == job.processed_records
    # the status polled from the cache agrees with the row: the worker's last progress write did not win
    status = client.get(f"/api/bulk-jobs/{job_id}/").json()
    assert (status["state"], status["processed_records"]) == ("Aborted", job.processed_records)


def _quiet(job_id: str, _seen: dict[str, Any] = {}) -> bool:  # noqa: B006 - remembers the last cursor
    """True once the job's cursor stopped moving for one poll (the worker left it)."""
    now = BulkJob.objects.get(pk=job_id).processed_records
    quiet = _seen.get(job_id) == now
    _seen[job_id] = now
    return quiet


def test_two_users_jobs_run_concurrently_and_stay_apart(start_worker: Any) -> None:
    start_worker(concurrency=2)
    alice, alice_accounts, alice_client = make_user("alice")
    bob, bob_accounts, bob_client = make_user("bob")
    a = alice_client.post("/api/transactions/bulk/", transactions(alice_accounts, 3000, "A"), format="json").json()
    b = bob_client.post("/api/transactions/bulk/", transactions(bob_accounts, 3000, "B"), format="json").json()
    # bob may not point a transaction at alice's account: that record fails, the rest go through
    sneaky = bob_client.post(
        "/api/transactions/bulk/",
        [{"account": alice_accounts[0].pk, "reference": "X1", "amount": "1.00"}],
        format="json",
    ).json()
    assert bob_client.get(f"/api/bulk-jobs/{a['job_id']}/").status_code == 404
    jobs = [final_job(j["id"], 120) for j in (a, b, sneaky)]
    assert [j.state for j in jobs] == ["JobComplete", "JobComplete", "Failed"]
    if os.environ.get("REDIS_URL"):
        # Overlapped. Only promised with Redis: kombu's filesystem broker polls its folder once a second,
        # and a 3000-record job on SQLite can finish before the second message is picked up.
        assert jobs[0].started_at < jobs[1].completed_at and jobs[1].started_at < jobs[0].completed_at
    assert Transaction.objects.filter(owner=alice).count() == 3000
    assert Transaction.objects.filter(owner=bob).count() == 3000
    assert not Transaction.objects.filter(owner=bob, account__owner=alice).exists()
    assert BulkJobResult.objects.get(job=jobs[2]).errors["account"][0]["code"] == "does_not_exist"


def _state(job_id: str) -> tuple[Any, ...]:
    job = BulkJob.objects.get(pk=job_id)
    return job.state, job.processed_records, job.attempts, job.error_message
