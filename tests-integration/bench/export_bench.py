"""bulk-drf export (query) jobs: worker memory flat in the number of rows, web memory flat while downloading,
throughput against DRF's ``serializer(many=True)``.

Run it with ``.venv/bin/hatch run bench:export`` (or ``python tests-integration/bench/export_bench.py`` in the
``bench`` environment); ``--small N`` (default 100,000) and ``--large N`` (default 1,000,000) rows. PostgreSQL
from ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``), in its own database
``bulk_bench_export`` or ``BULK_BENCH_EXPORT_DB`` (created when missing; the rows are generated once with
``generate_series`` and kept).

What is measured, on the example project's ``TransactionViewSet`` (``ledger.Transaction``: id, account, reference,
amount, memo), each measurement in a fresh process so one's peak cannot hide another's:

- worker: ``export.run_export`` of every row of a user who owns ``--small`` rows, then of one who owns
  ``--large`` rows (``BULK_DRF_EXPORT_PAGE_SIZE`` 5000): seconds, rows/s and the process's peak RSS (``VmHWM``,
  reset before the export) against its RSS before it. Goal: peak(large) <= 1.2 x peak(small).
- web: the large export downloaded through the real view (Django's test ``Client``: the whole request and
  response path, no socket) page after page by locator (``max_records`` 100,000), as JSON, CSV and NDJSON,
  every byte read: peak RSS against the RSS before. Goal: flat (grows by less than one page's worth).
- DRF: the small user's rows rendered as a DRF list does it, ``TransactionSerializer(queryset, many=True).data``
  then ``JSONRenderer().render``, against an export of the same rows (which also stores them), alternately
  ``--repeat`` times in one process, the best of each. Goal: export >= 3 x DRF.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_project import boot_example_project

BENCH_DB = os.environ.get("BULK_BENCH_EXPORT_DB", "bulk_bench_export")  # its own database (override: shared machines)
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test"
VIEWSET = "ledger.views.TransactionViewSet"


def setup(url: str) -> None:
    """Create the bench database when missing and boot the example project on it."""

    def configure(settings: Any) -> None:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        settings.BULK_DRF_EXPORT_PAGE_SIZE = 5000
        settings.BULK_DRF_JOB_CREATE_RATE = None

    boot_example_project(url, BENCH_DB, configure)


def owner_of(rows: int) -> Any:
    """The user owning exactly ``rows`` transactions (made, with their rows, on first use)."""
    from django.contrib.auth.models import User
    from django.db import connection
    from ledger.models import Account, Transaction

    user, _ = User.objects.get_or_create(username=f"export-{rows}")
    if Transaction.objects.filter(owner=user).count() == rows:
        return user
    Transaction.objects.filter(owner=user).delete()
    accounts = [a.pk for a in Account.objects.bulk_create(Account(owner=user, name=f"a{i}") for i in range(5))]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transaction (owner_id, account_id, reference, amount, memo) "
            "SELECT %s, (%s::bigint[])[1 + i %% 5], %s || lpad(i::text, 8, '0'), (i %% 99991) / 100.0, "
            "'memo ' || (i %% 1000) FROM generate_series(0, %s - 1) AS i",
            [user.pk, accounts, f"E{rows}-", rows],
        )
        cursor.execute("ANALYZE ledger_transaction")
    return user


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM back to the current RSS


def new_export(user: Any) -> Any:
    from bulk_drf.jobs import lifecycle

    job = lifecycle.create_job(
        owner=user,
        viewset=VIEWSET,
        operation="query",
        query={"filters": [], "fields": [], "columns": ["id", "account", "reference", "amount", "memo"], "ids": None},
    )
    lifecycle.transition(job, "UploadComplete")
    return job


def child_worker(rows: int) -> dict[str, Any]:
    """One export of ``rows`` rows in this process: seconds and memory."""
    import gc

    from bulk_drf.jobs import export

    user = owner_of(rows)
    warm = new_export(owner_of(1000))
    export.run_export(warm.pk)  # imports, caches, first queries: not the export's memory
    job = new_export(user)
    gc.collect()
    before = status_kb("VmRSS")
    reset_peak()
    start = time.perf_counter()
    done = export.run_export(job.pk)
    seconds = time.perf_counter() - start
    assert done is not None and done.state == "JobComplete" and done.succeeded_records == rows, done
    return {"rows": rows, "seconds": seconds, "rss_kb": before, "peak_kb": status_kb("VmHWM"), "job": str(job.pk)}


def child_web(job_id: str, page: int) -> dict[str, Any]:
    """Download every page of the export ``job_id`` as each format through the view; peak memory per format."""
    from bulk_drf.models import BulkJob
    from django.test import Client

    job = BulkJob.objects.get(pk=job_id)
    client = Client()
    client.force_login(job.owner)
    out: dict[str, Any] = {}
    for fmt in ("ndjson", "json", "csv"):  # warm-up: one small page of each
        b"".join(client.get(f"/api/bulk-jobs/{job_id}/results/", {"format": fmt, "max_records": 10}).streaming_content)
    for fmt in ("json", "csv", "ndjson"):
        before = status_kb("VmRSS")
        reset_peak()
        start = time.perf_counter()
        total, pages, locator = 0, 0, None
        while True:
            params = {"format": fmt, "max_records": page, **({"locator": locator} if locator else {})}
            response = client.get(f"/api/bulk-jobs/{job_id}/results/", params)
            assert response.status_code == 200, response.status_code
            for piece in response.streaming_content:
                total += len(piece)
            pages += 1
            locator = None if response["Bulk-Locator"] == "null" else response["Bulk-Locator"]
            if locator is None:
                break
        out[fmt] = {
            "bytes": total,
            "pages": pages,
            "seconds": time.perf_counter() - start,
            "rss_kb": before,
            "peak_kb": status_kb("VmHWM"),
        }
    return out


def child_throughput(rows: int, repeat: int) -> dict[str, Any]:
    """The export and DRF's list rendering of the same rows, alternately ``repeat`` times, the best of each (a
    shared machine's load moves both alike): whole (query, render, for the export also store) and rendering
    alone (the rows already fetched: model instances for DRF, the columns' values for the export's plan)."""
    import gc

    from bulk_drf.jobs import export
    from bulk_drf.models import BulkJob
    from ledger.serializers import TransactionSerializer
    from rest_framework.renderers import JSONRenderer

    user = owner_of(rows)
    job = new_export(user)
    BulkJob.objects.filter(pk=job.pk).update(state="InProgress")
    exporter = export.Exporter(BulkJob.objects.get(pk=job.pk))  # the worker's viewset, serializer and plan
    queryset, context = exporter.queryset, exporter.viewset.get_serializer_context()
    assert exporter.attnames is not None, "the column plan applies to TransactionSerializer"
    JSONRenderer().render(TransactionSerializer(queryset[:1000], many=True, context=context).data)  # warm-up
    export.run_export(new_export(owner_of(1000)).pk)
    best = dict.fromkeys(("export", "drf", "render_plan", "render_drf"), float("inf"))

    def timed(name: str, work: Any) -> Any:
        gc.collect()
        start = time.perf_counter()
        out = work()
        best[name] = min(best[name], time.perf_counter() - start)
        return out

    for _ in range(repeat):
        timed("export", lambda: export.run_export(new_export(user).pk))
        timed("drf", lambda: JSONRenderer().render(TransactionSerializer(queryset, many=True, context=context).data))
        values = list(queryset.order_by("pk").values_list(*exporter.attnames))
        lines = timed("render_plan", lambda values=values: exporter._render(values))
        instances = list(queryset.order_by("pk"))
        body = timed(
            "render_drf",
            lambda instances=instances: JSONRenderer().render(
                TransactionSerializer(instances, many=True, context=context).data
            ),
        )
        assert len(lines) == rows and body.count(b'{"id":') == rows
        del values, instances, lines, body
    return {"rows": rows, **best}


def run_child(args: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def mib(kb: int) -> str:
    return f"{kb / 1024:7.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=100_000, help="max_records of a downloaded page")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of the throughput comparison")
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 rows")
    parser.add_argument("--child", choices=["worker", "web", "throughput", "prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if args.child:
        setup(url)
        if args.child == "prepare":
            owner_of(args.rows)
            owner_of(1000)
            out: dict[str, Any] = {}
        elif args.child == "worker":
            out = child_worker(args.rows)
        elif args.child == "web":
            out = child_web(args.job, args.rows)
        else:
            out = child_throughput(args.rows, int(args.job))
        print(json.dumps(out))
        return 0
    if args.quick:
        args.small, args.large = 10_000, 100_000
    print(f"bulk-drf export bench: PostgreSQL {BENCH_DB}, Python {platform.python_version()}, {platform.machine()}")
    for rows in (args.small, args.large):
        run_child(["--child", "prepare", "--rows", str(rows)])
    small = run_child(["--child", "worker", "--rows", str(args.small)])
    large = run_child(["--child", "worker", "--rows", str(args.large)])
    web = run_child(["--child", "web", "--job", large["job"], "--rows", str(args.page)])
    speed = run_child(["--child", "throughput", "--rows", str(args.small), "--job", str(args.repeat)])

    print("\nworker: export.run_export, BULK_DRF_EXPORT_PAGE_SIZE 5000 (a fresh process each)")
    print(f"  {'rows':>10}  {'seconds':>8}  {'rows/s':>9}  {'RSS before':>12}  {'peak RSS':>12}  {'growth':>11}")
    for r in (small, large):
        rate = r["rows"] / r["seconds"]
        growth = r["peak_kb"] - r["rss_kb"]
        print(
            f"  {r['rows']:>10,}  {r['seconds']:>8.2f}  {rate:>9,.0f}  {mib(r['rss_kb'])}  {mib(r['peak_kb'])}  "
            f"{mib(growth)}"
        )
    ratio = large["peak_kb"] / small["peak_kb"]
    verdict = "met" if ratio <= 1.2 else "MISSED"
    print(f"  peak({args.large:,}) / peak({args.small:,}) = {ratio:.2f}  (goal <= 1.2: {verdict})")

    print(f"\nweb: every page of the {args.large:,}-row export, {args.page:,} rows a page, through the view")
    header = ("format", "pages", "MB", "seconds", "rows/s", "RSS before", "peak RSS", "growth")
    print("  {:>7}  {:>5}  {:>8}  {:>8}  {:>9}  {:>12}  {:>12}  {:>11}".format(*header))
    for fmt, r in web.items():
        print(
            f"  {fmt:>7}  {r['pages']:>5}  {r['bytes'] / 1e6:>8.1f}  {r['seconds']:>8.2f}  "
            f"{args.large / r['seconds']:>9,.0f}  {mib(r['rss_kb'])}  {mib(r['peak_kb'])}  "
            f"{mib(r['peak_kb'] - r['rss_kb'])}"
        )

    rows = speed["rows"]
    print(f"\nthroughput on the {rows:,}-row user, best of {args.repeat} alternating runs in one process")
    for label, seconds in (
        ("DRF list: query, TransactionSerializer(many=True).data, JSONRenderer", speed["drf"]),
        ("export job: query, render (column plan), store the pages", speed["export"]),
        ("rendering alone, DRF: serializer(many=True).data + JSONRenderer", speed["render_drf"]),
        ("rendering alone, export: the JSON column plan, row by row", speed["render_plan"]),
    ):
        print(f"  {label:<71} {seconds:6.2f} s  {rows / seconds:>10,.0f} rows/s")
    whole, rendering = speed["drf"] / speed["export"], speed["render_drf"] / speed["render_plan"]
    print(f"  export / DRF, whole: {whole:.2f}x;  rendering alone: {rendering:.2f}x  (goal >= 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
