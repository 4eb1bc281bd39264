"""Full-stack demo: a real Celery worker processes a 20,000-record bulk job submitted through the API.

Run with ``make demo`` (after the core walkthrough) or ``hatch run integration:demo-jobs``. With no
servers it uses SQLite, kombu's filesystem broker and a file cache in a temporary directory; with
``REDIS_URL`` set, Redis is the broker and the cache (``DATABASE_URL`` switches to PostgreSQL).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

RECORDS = int(os.environ.get("BULK_DEMO_RECORDS", 20_000))


def main() -> int:
    state = Path(tempfile.mkdtemp(prefix="bulk-demo-"))
    os.environ.setdefault("BULK_STATE_DIR", str(state))
    os.environ.setdefault("BULK_QUEUE", f"bulk-demo-{os.getpid()}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("BULK_REDIS_BROKER_DB", "5")  # with REDIS_URL: a db the test suites never use
    os.environ.setdefault("BULK_REDIS_CACHE_DB", "5")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from ledger.models import Account, AuditEntry, Transaction
    from rest_framework.test import APIClient
    from tqdm import tqdm

    from demo.worker import WorkerProcess

    db = settings.DATABASES["default"]
    print("== bulk-drf jobs: a real Celery worker, end to end ==")
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
    print(f"broker:   {settings.CELERY_BROKER_URL}  (queue {settings.CELERY_TASK_DEFAULT_QUEUE})")
    cache = settings.CACHES["default"]
    print(f"cache:    {cache['BACKEND'].rsplit('.', 1)[-1]} {cache['LOCATION']}")
    if db["ENGINE"].endswith("postgresql"):
        print("(PostgreSQL: the demo's rows are deleted before it starts)")
    call_command("migrate", verbosity=0)
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
        print(f"\nPOST /api/transactions/bulk/jobs/  -> {created['state']} job {job_id}")
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
            " (queued: only the job id goes to the broker)\n"
        )

        started = time.monotonic()
        with tqdm(total=RECORDS, unit="rec", desc="processing", ncols=90) as bar:
            while True:
                status = client.get(f"/api/bulk-jobs/{job_id}/").json()
                bar.update(status["processed_records"] - bar.n)
                bar.set_postfix(state=status["state"], failed=status["failed_records"])
                if status["state"] in ("JobComplete", "Failed", "Aborted"):
                    break
                if time.monotonic() - started > 600:
                    raise SystemExit("the job did not finish in 10 minutes")
                time.sleep(0.2)
        elapsed = time.monotonic() - started
        print(
            f"\n{status['state']}: {status['succeeded_records']} succeeded, {status['failed_records']} failed "
            f"of {status['total_records']} in {elapsed:.1f}s ({RECORDS / elapsed:,.0f} records/s incl. polling)"
        )
        if status["error_message"]:
            print(f"error: {status['error_message']}")

        print("\nstate history:")
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
        print(f"\nfailed records ({failed['count']}), GET /api/bulk-jobs/{{id}}/results/?kind=failed:")
        for row in failed["results"]:
            print(f"  #{row['index']:<6} {row['errors']}")

        aggregates = client.get(
            f"/api/bulk-jobs/{job_id}/aggregates/?sum=amount&avg=amount&min=amount&max=amount&count=*&custom=top_accounts"
        ).json()["aggregates"]
        print(
            "\naggregates, GET /api/bulk-jobs/{id}/aggregates/?sum=amount&avg=amount&min=amount&max=amount"
            "&count=*&custom=top_accounts:"
        )
        for key, value in aggregates.items():
            print(f"  {key:<12} {value}")

        print("\nwhat the receivers wrote:")
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
