"""Export (query) jobs and dry runs on a real Celery worker process: the rows the list shows, page by page, a
worker SIGKILLed mid-export, and a dry run that leaves the ledger and its receivers untouched."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from bulk_drf.models import BulkJob, BulkJobResultPage
from ledger.models import Account, AuditEntry, Transaction

from tests.conftest import make_user, transactions, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FINAL = ("JobComplete", "Failed", "Aborted")
PAGE = {"BULK_DRF_EXPORT_PAGE_SIZE": "500"}


def final_job(job_id: str, timeout: float) -> BulkJob:
    return wait_for(lambda: (j := BulkJob.objects.get(pk=job_id)).state in FINAL and j, timeout, f"job {job_id} to end")


def stock(user: Any, accounts: list[Account], n: int, prefix: str) -> None:
    Transaction.objects.bulk_create(
        Transaction(
            owner=user, account=accounts[i % len(accounts)], reference=f"{prefix}{i:06d}", amount=Decimal(i % 89)
        )
        for i in range(n)
    )


def pages(client: Any, job_id: str, **params: Any) -> list[Any]:
    rows, locator = [], None
    while True:
        response = client.get(
            f"/api/bulk-jobs/{job_id}/results/", {**params, **({"locator": locator} if locator else {})}
        )
        assert response.status_code == 200
        page = json.loads(b"".join(response.streaming_content))
        rows += page["results"]
        locator = page["next_locator"]
        if locator is None:
            return rows


def test_an_export_on_a_real_worker_holds_what_the_list_shows(start_worker: Any) -> None:
    start_worker(extra_env=PAGE)
    alice, accounts, client = make_user("alice")
    bob, bob_accounts, _ = make_user("bob")
    stock(alice, accounts, 3000, "A")
    stock(bob, bob_accounts, 500, "B")
    query = "?search=A0012&ordering=-amount,reference"
    response = client.post(f"/api/transactions/bulk/export/{query}&fields=reference,amount,account")
    assert response.status_code == 202, response.content
    job = final_job(response.json()["id"], 60)
    assert (job.state, job.operation, job.succeeded_records) == ("JobComplete", "query", 100)
    listed = [
        {"reference": row["reference"], "amount": row["amount"], "account": row["account"]}
        for row in client.get(f"/api/transactions/{query}").json()
    ]
    assert pages(client, job.pk, max_records=30) == listed
    everything = final_job(client.post("/api/transactions/bulk/export/").json()["id"], 60)
    assert everything.succeeded_records == 3000  # alice's, never bob's
    assert BulkJobResultPage.objects.filter(job=everything).count() == 6
    text = b"".join(client.get(f"/api/bulk-jobs/{everything.pk}/results/", {"format": "csv"}).streaming_content)
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert [row["reference"] for row in rows] == [f"A{i:06d}" for i in range(3000)]
    ndjson = b"".join(client.get(f"/api/bulk-jobs/{everything.pk}/results/?format=ndjson").streaming_content)
    assert len(ndjson.splitlines()) == 3000


def test_a_worker_killed_mid_export_leaves_no_row_twice(start_worker: Any) -> None:
    worker = start_worker(extra_env={"BULK_DRF_EXPORT_PAGE_SIZE": "200"})
    alice, accounts, client = make_user("alice")
    total = 40_000
    stock(alice, accounts, total, "K")
    job_id = client.post("/api/transactions/bulk/export/?fields=id,reference").json()["id"]
    wait_for(lambda: BulkJob.objects.get(pk=job_id).processed_records >= 1000, 60, "the first pages")
    worker.kill()
    at_kill = BulkJob.objects.get(pk=job_id)
    assert at_kill.state == "InProgress" and at_kill.processed_records < total, "the kill must land mid-export"
    print(f"\nkilled the worker at row {at_kill.processed_records}/{total}; starting a new one")
    start_worker(extra_env={"BULK_DRF_EXPORT_PAGE_SIZE": "200"})
    job = final_job(job_id, 180)
    assert (job.state, job.succeeded_records, job.total_records) == ("JobComplete", total, total), job.error_message
    assert job.attempts >= 2
    exported = [row["reference"] for row in pages(client, job_id, max_records=5000)]
    assert exported == list(Transaction.objects.filter(owner=alice).order_by("id").values_list("reference", flat=True))


def test_a_dry_run_on_a_real_worker_writes_nothing_and_fires_no_receiver(start_worker: Any) -> None:
    start_worker()
    _user, accounts, client = make_user("alice")
    records = transactions(accounts, 600, "D")
    records[5]["amount"] = "lots"
    records[450]["reference"] = records[3]["reference"]  # another chunk (200 records each): a clash
    audit, balances = AuditEntry.objects.count(), list(Account.objects.values_list("balance", flat=True))
    response = client.post("/api/transactions/bulk/?dry_run=true", records, format="json")
    assert response.status_code == 202 and response.json()["dry_run"] is True
    job = final_job(response.json()["id"], 60)
    assert (job.state, job.dry_run, job.succeeded_records, job.failed_records) == ("JobComplete", True, 598, 2)
    assert Transaction.objects.count() == 0
    assert AuditEntry.objects.count() == audit  # the audit receiver never ran
    assert list(Account.objects.values_list("balance", flat=True)) == balances  # nor the balance one
    failed = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=failed").json()["results"]
    assert [(row["index"], sorted(row["errors"])) for row in failed] == [(5, ["amount"]), (450, ["reference"])]
