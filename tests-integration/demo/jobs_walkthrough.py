"""Full-stack demo: a real Celery worker processes a 20,000-record bulk job submitted through the API.

Run with ``make demo`` (after the core and synchronous walkthroughs) or ``hatch run integration:demo jobs``. With no
servers it uses SQLite, kombu's filesystem broker and a file cache in a temporary directory; with
``REDIS_URL`` set, Redis is the broker and the cache (``DATABASE_URL`` switches to PostgreSQL).
"""

from __future__ import annotations

import os
import random
import sys
import time
from decimal import Decimal
from typing import Any

from demo.common import setup_django, title

RECORDS = int(os.environ.get("BULK_DEMO_RECORDS", 20_000))
FINAL_STATES = ("JobComplete", "Failed", "Aborted")


class PlainProgress:
    """What stands in for the tqdm bar when stdout is not a terminal (a log, a pipe, CI): one line per
    change of state and per quarter of the records, instead of a bar redrawn with carriage returns."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.last: tuple[str, int] | None = None

    def update(self, status: dict[str, Any]) -> None:
        quarter = status["processed_records"] * 4 // max(self.total, 1)
        if (status["state"], quarter) != self.last or status["state"] in FINAL_STATES:
            self.last = (status["state"], quarter)
            print(
                f"  {status['state']:<14} {status['processed_records']:>7,} / {self.total:,} records "
                f"processed, {status['failed_records']:,} failed",
                flush=True,
            )


def main() -> int:
    settings = setup_django()
    from django.contrib.auth.models import User
    from ledger.models import Account, AuditEntry, Transaction
    from rest_framework.test import APIClient
    from tqdm import tqdm

    from demo.worker import WorkerProcess

    db = settings.DATABASES["default"]
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
    print(f"broker:   {settings.CELERY_BROKER_URL}  (queue {settings.CELERY_TASK_DEFAULT_QUEUE})")
    cache = settings.CACHES["default"]
    print(f"cache:    {cache['BACKEND'].rsplit('.', 1)[-1]} {cache['LOCATION']}")
    if db["ENGINE"].endswith("postgresql"):
        print("(PostgreSQL: the demo's rows are deleted before it starts)")
    Transaction.objects.all().delete()
    AuditEntry.objects.all().delete()
    User.objects.filter(username="demo").delete()

    user = User.objects.create_user("demo", password="demo")
    accounts = Account.objects.bulk_create(Account(owner=user, name=f"account-{i:02d}") for i in range(20))
    rng = random.Random(5)
    records = [
        {
            "account": rng.choice(accounts).pk,
            "reference": f"T{i:06d}",
            "amount": f"{rng.randint(-5000, 20000) / 100:.2f}",
            "memo": "demo",
        }
        for i in range(RECORDS)
    ]
    bad = {  # a few bad records: each is reported with its index and DRF's structured errors
        137: {"amount": "twelve"},
        4242: {"account": 999_999},
        9001: {"reference": "T000001"},  # duplicate of record 1
        15000: {"amount": "123456789012.00"},
        19999: {"reference": ""},
    }
    for index, change in bad.items():
        if index < RECORDS:
            records[index].update(change)

    worker = WorkerProcess(name="demo-worker", concurrency=1).start()
    print(f"worker:   pid {worker.process.pid} started (celery -A project worker)")
    try:
        client = APIClient()
        client.force_authenticate(user)
        created = client.post("/api/transactions/bulk/jobs/", {"operation": "insert"}, format="json").json()
        job_id = created["id"]
        title("Staging a job: create it, upload JSON and CSV, close it")
        print(f"POST /api/transactions/bulk/jobs/  -> {created['state']} job {job_id}")
        half = RECORDS // 2
        r1 = client.put(f"/api/bulk-jobs/{job_id}/data/", records[:half], format="json").json()
        print(f"PUT  /api/bulk-jobs/{{id}}/data/ (JSON, {half} records) -> total {r1['total_records']}")
        csv_text = "account,reference,amount,memo\n" + "".join(
            f"{r['account']},{r['reference']},{r['amount']},{r['memo']}\n" for r in records[half:]
        )
        r2 = client.put(f"/api/bulk-jobs/{job_id}/data/", csv_text, content_type="text/csv").json()
        print(f"PUT  /api/bulk-jobs/{{id}}/data/ (CSV,  {RECORDS - half} records) -> total {r2['total_records']}")
        closed = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "UploadComplete"}, format="json").json()
        print(
            f"PATCH /api/bulk-jobs/{{id}}/ state=UploadComplete -> {closed['state']}"
            " (queued: only the job id goes to the broker)"
        )

        title(f"Processing: the worker writes {RECORDS:,} records in chunks; the client polls the status")
        started = time.monotonic()
        # A bar redrawn in place only on a terminal; a log or a pipe gets a few plain lines.
        bar = tqdm(total=RECORDS, unit="rec", desc="processing", ncols=90) if sys.stdout.isatty() else None
        plain = PlainProgress(RECORDS)
        try:
            while True:
                status = client.get(f"/api/bulk-jobs/{job_id}/").json()
                if bar is not None:
                    bar.update(status["processed_records"] - bar.n)
                    bar.set_postfix(state=status["state"], failed=status["failed_records"])
                else:
                    plain.update(status)
                if status["state"] in FINAL_STATES:
                    break
                if time.monotonic() - started > 600:
                    raise SystemExit("the job did not finish in 10 minutes")
                time.sleep(0.2)
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.monotonic() - started
        title("The outcome, from the job resource")
        print(
            f"{status['state']}: {status['succeeded_records']} succeeded, {status['failed_records']} failed "
            f"of {status['total_records']} in {elapsed:.1f}s ({RECORDS / elapsed:,.0f} records/s incl. polling)"
        )
        if status["error_message"]:
            print(f"error: {status['error_message']}")

        print("state history:")
        for state, field in [
            ("Open", "created_at"),
            ("UploadComplete", "upload_complete_at"),
            ("InProgress", "started_at"),
            ("JobComplete", "completed_at"),
            ("Failed", "failed_at"),
            ("Aborted", "aborted_at"),
        ]:
            if status[field]:
                print(f"  {state:<15} {status[field]}")

        failed = client.get(f"/api/bulk-jobs/{job_id}/results/?kind=failed").json()
        title("Failed records: each with its index and DRF's structured errors")
        print(f"failed records ({failed['count']}), GET /api/bulk-jobs/{{id}}/results/?kind=failed:")
        for row in failed["results"]:
            print(f"  #{row['index']:<6} {row['errors']}")

        aggregates = client.get(
            f"/api/bulk-jobs/{job_id}/aggregates/?sum=amount&avg=amount&min=amount&max=amount&count=*&custom=top_accounts"
        ).json()["aggregates"]
        title("Aggregates over the rows the job wrote")
        print(
            "aggregates, GET /api/bulk-jobs/{id}/aggregates/?sum=amount&avg=amount&min=amount&max=amount"
            "&count=*&custom=top_accounts:"
        )
        for key, value in aggregates.items():
            print(f"  {key:<12} {value}")

        title("What the receivers wrote (bulk-signals-django, inside the worker)")
        audit = list(AuditEntry.objects.all())
        print(
            f"  audit receiver: {len(audit)} AuditEntry rows (one per committed bulk write), "
            f"{sum(a.rows for a in audit)} transactions, total {sum(a.total_amount for a in audit)}"
        )
        for entry in audit[:3]:
            print(f"    {entry.model} {entry.operation} via {entry.source}: {entry.rows} rows, {entry.total_amount}")
        balances = sum((a.balance for a in Account.objects.filter(owner=user)), Decimal(0))
        written = sum((t.amount for t in Transaction.objects.filter(owner=user)), Decimal(0))
        print(
            f"  balance receiver: sum of 20 account balances = {balances} (sum of transactions = {written}, "
            f"{'equal' if balances == written else 'DIFFERENT'})"
        )
        for account in Account.objects.filter(owner=user).order_by("-balance")[:3]:
            print(f"    {account.name}: {account.balance}")
        return 0 if status["state"] == "JobComplete" and balances == written else 1
    finally:
        worker.stop()
        print("\nworker stopped.")


if __name__ == "__main__":
    raise SystemExit(main())
