"""bulk-drf background jobs: records/second of an insert job and an upsert job against a plain ``bulk_create``.

Run it with ``.venv/bin/hatch run bench:jobs`` (or ``python tests-integration/bench/jobs_bench.py`` in the
``bench`` environment); ``--records N`` (default 100,000), ``--profile`` to print cProfile's top functions
of one chunk-processing run, ``--quick`` a smoke run of a few hundred records (``make test`` runs it).
PostgreSQL from ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``), in its own database
``bulk_bench_jobs`` (``BULK_BENCH_JOBS_DB``; created when missing).

What is measured, on the example project's ``ledger.Transaction`` (its receivers connected, as in the demo):

- ``bulk_create``: the rows built as model instances from the same dicts and written with one
  ``Transaction.objects.bulk_create(batch_size=1000)`` (upsert: ``update_conflicts=True`` on ``reference``).
  No validation: the floor.
- ``job``: ``processing.run_job`` called in-process (one worker, no broker hop: the Celery task is a thin
  wrapper around it), chunks of ``BULK_DRF_CHUNK_SIZE`` (5000): every record through the viewset's
  ``TransactionSerializer`` (``run_validation``), one uniqueness query, one write, one results insert and
  one cursor update per chunk, each chunk one transaction. The upload (storing the records as data chunks)
  is timed separately.
- The two are run round-robin (``--rounds``, default 3: bulk_create, then the job, then again), and the ratio
  is of the medians; the goal is 0.5 (issue 12), with validation, receivers and per-record results kept.
- Where the time goes: a second, instrumented insert job (``time.perf_counter`` around each phase; the
  wrappers cost a little) while the main thread polls ``GET /api/bulk-jobs/{id}/`` and counts its queries.
- Workers (with ``REDIS_URL``; ``--worker-records N``, default 200,000, ``--repeat``, ``0`` skips): the same
  insert job run by 1, then 2 real ``celery worker`` processes (concurrency 1 each, Redis broker), its chunks
  fanned out (``bulk_drf.run_chunk``); records/second from closing the job to JobComplete, the ratio of the
  two, and per chunk: work time (claim to commit), CPU of the worker processes and CPU of their PostgreSQL
  backends (``/proc``, PostgreSQL on this machine), from which the N-machine estimate is derived.
- OpenTelemetry (``bulk_drf.jobs.telemetry``): insert jobs with it off, on with the API alone, and on with the
  SDK recording every span and measurement, interleaved; and what the hooks cost per chunk when off
  (``--only-otel`` prints just these rows).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench_project import boot_example_project

BENCH_DB = os.environ.get("BULK_BENCH_JOBS_DB", "bulk_bench_jobs")  # its own database: the bench truncates
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test"
GOAL = 0.5  # job throughput / bulk_create throughput, with validation, receivers and per-record results (issue 12)


def setup(url: str) -> None:
    """Create the bench database when missing and boot the example project on it."""

    def configure(settings: Any) -> None:
        redis_url = os.environ.get("REDIS_URL", "").rstrip("/")
        if redis_url:  # our own Redis db: the tests use 3, the demo 5
            settings.CACHES = {
                "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"{redis_url}/6"}
            }

    boot_example_project(url, BENCH_DB, configure)


def make_records(n: int, accounts: list[int], *, seed: int, memo: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "account": rng.choice(accounts),
            "reference": f"R{i:07d}",
            "amount": f"{rng.randint(-5000, 20000) / 100:.2f}",
            "memo": memo,
        }
        for i in range(n)
    ]


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE ledger_transaction, ledger_auditentry, bulk_drf_bulkjobresult, "
            "bulk_drf_bulkjobdatachunk, bulk_drf_bulkjobchunk, bulk_drf_bulkjob CASCADE"  # CASCADE: every job table
        )
        cursor.execute("UPDATE ledger_account SET balance = 0")
        # Statistics as a table in service has them: a TRUNCATEd table keeps none, and until autovacuum analyzes it
        # (a minute or so) the planner takes a 1000-key lookup (the job's uniqueness check) for a whole-table scan,
        # which grows with every chunk written (docs/performance.md, "bulk-drf jobs").
        cursor.execute("ANALYZE ledger_transaction, ledger_auditentry, ledger_account")


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and by its PostgreSQL backend (the database is on this machine):
    the work itself, which a busy spell of a shared machine stretches less than it stretches wall time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return time.process_time() + _cpu_seconds([backend])


CPU: dict[str, list[float]] = defaultdict(list)  # CPU seconds of each timed run, by name (cpu_seconds)


def raw_bulk_create(owner: Any, records: list[dict[str, Any]], *, upsert: bool) -> float:
    """Seconds to build the instances from the dicts and write them with one bulk_create."""
    from ledger.models import Transaction

    cpu = cpu_seconds()
    start = time.perf_counter()
    objs = [
        Transaction(
            owner=owner, account_id=r["account"], reference=r["reference"], amount=Decimal(r["amount"]), memo=r["memo"]
        )
        for r in records
    ]
    if upsert:
        Transaction.objects.bulk_create(
            objs,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["reference"],
            update_fields=["account", "amount", "memo"],
        )
    else:
        Transaction.objects.bulk_create(objs, batch_size=1000)
    seconds = time.perf_counter() - start
    CPU[f"raw {'upsert' if upsert else 'insert'}"].append(cpu_seconds() - cpu)
    return seconds


def job_run(owner: Any, records: list[dict[str, Any]], operation: str) -> tuple[float, float, Any]:
    """(upload seconds, processing seconds, the finished job) of one job run in-process."""
    from bulk_drf.jobs import lifecycle as jobs
    from bulk_drf.jobs import processing

    viewset = "ledger.views.TransactionViewSet"
    start = time.perf_counter()
    job = jobs.create_job(
        owner=owner, viewset=viewset, operation=operation, unique_fields=["reference"] if operation == "upsert" else ()
    )
    jobs.add_records(job, records)
    jobs.transition(job, "UploadComplete")
    cpu = cpu_seconds()
    uploaded = time.perf_counter()
    job = processing.run_job(job.pk)
    done = time.perf_counter()
    CPU[f"job {operation}"].append(cpu_seconds() - cpu)
    assert job.state == "JobComplete", (job.state, job.error_message)
    assert job.succeeded_records == len(records), (job.succeeded_records, job.failed_records)
    return uploaded - start, done - uploaded, job


class Phases:
    """Wall time spent in each phase of job processing, by wrapping the functions that do them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []
        self._depth = 0

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original = getattr(owner, name)
        phases = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases.seconds[phase] += time.perf_counter() - start

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    @contextmanager
    def installed(self) -> Iterator[Phases]:
        from bulk_drf.jobs import lifecycle as jobs
        from bulk_drf.jobs import processing
        from bulk_drf.models import BulkJob
        from bulk_drf.sync import operations

        self.wrap(jobs, "load_records", "read the chunk's stored records (JSON)")
        self.wrap(operations._Batch, "_serializer", "serializer: build + prefetch related (1 query)")
        self.wrap(operations._Batch, "_validate", "serializer validation (run_validation per record)")
        self.wrap(operations._Batch, "_check_unique", "uniqueness check (1 query)")
        self.wrap(operations._Batch, "_build", "build model instances")
        self.wrap(operations, "write_create", "write: bulk_create (+ receivers)")
        self.wrap(operations, "write_upsert", "write: upsert (+ receivers)")
        self.wrap(processing, "store_results", "bookkeeping: store the result rows (COPY on PostgreSQL)")
        self.wrap(processing, "write_rows", "write_rows")  # total of the batch, to find the rest
        self.wrap(processing, "process_chunk", "process_chunk")
        self.wrap(BulkJob.objects, "select_for_update", "bookkeeping: lock the job row")
        try:
            yield self
        finally:
            for undo in reversed(self._undo):
                undo()


def instrumented_run(
    owner: Any, records: list[dict[str, Any]], operation: str
) -> tuple[float, dict[str, float], dict[str, Any]]:
    """A job in a worker thread, phases timed, while this thread polls the status endpoint."""
    from bulk_drf.jobs import lifecycle as jobs
    from bulk_drf.jobs import processing
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    job = jobs.create_job(
        owner=owner,
        viewset="ledger.views.TransactionViewSet",
        operation=operation,
        unique_fields=["reference"] if operation == "upsert" else (),
    )
    jobs.add_records(job, records)
    jobs.transition(job, "UploadComplete")
    phases = Phases()
    elapsed: list[float] = []

    def worker() -> None:
        try:
            start = time.perf_counter()
            processing.run_job(job.pk)
            elapsed.append(time.perf_counter() - start)
        finally:
            connections.close_all()

    client = APIClient()
    client.force_authenticate(owner)
    polls: dict[str, Any] = {"polls": 0, "queries": 0, "states": set(), "max_pct": 0.0}
    with phases.installed():
        thread = threading.Thread(target=worker)
        thread.start()
        while thread.is_alive():
            with CaptureQueriesContext(connection) as captured:
                status = client.get(f"/api/bulk-jobs/{job.pk}/").json()
            polls["polls"] += 1
            polls["queries"] += len(captured)
            polls["states"].add(status["state"])
            polls["max_pct"] = max(polls["max_pct"], status["percentage"])
            time.sleep(0.25)
        thread.join()
    with CaptureQueriesContext(connection) as captured:  # and once finished
        status = client.get(f"/api/bulk-jobs/{job.pk}/").json()
    polls["polls"] += 1
    polls["queries"] += len(captured)
    polls["states"].add(status["state"])
    return elapsed[0], dict(phases.seconds), polls


def profile_run(owner: Any, records: list[dict[str, Any]]) -> None:
    """cProfile of an upsert job (the slower operation) over rows that exist."""
    from bulk_drf.jobs import lifecycle as jobs
    from bulk_drf.jobs import processing

    job = jobs.create_job(
        owner=owner, viewset="ledger.views.TransactionViewSet", operation="upsert", unique_fields=["reference"]
    )
    jobs.add_records(job, records)
    jobs.transition(job, "UploadComplete")
    profiler = cProfile.Profile()
    profiler.enable()
    processing.run_job(job.pk)
    profiler.disable()
    print(f"\n-- cProfile of an upsert job of {len(records):,} records (top 25 by own time) --")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` used so far (Linux ``/proc``; 0 for a process gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def _group(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` (a worker and its pool children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def _pg_active_ms() -> float:
    """Milliseconds PostgreSQL's backends spent executing statements in the bench database so far
    (``pg_stat_database.active_time``, PostgreSQL 14+; flushed about once a second, hence the pause)."""
    from django.db import connection

    time.sleep(1.2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT active_time FROM pg_stat_database WHERE datname = current_database()")
        return float(cursor.fetchone()[0] or 0.0)


def workers_run(owner: Any, records: list[dict[str, Any]], workers: int, queue: str) -> dict[str, Any]:
    """The insert job processed by ``workers`` real worker processes: seconds from close to JobComplete and
    what the chunks cost."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bulk_drf.jobs import lifecycle as jobs
    from bulk_drf.models import BulkJob, BulkJobChunk
    from demo.worker import WorkerProcess

    reset()
    job = jobs.create_job(owner=owner, viewset="ledger.views.TransactionViewSet", operation="insert")
    jobs.add_records(job, records)
    env = {"BULK_QUEUE": queue, "BULK_REDIS_CACHE_DB": "6", "BULK_DB_NAME": BENCH_DB}
    started = [WorkerProcess(env=env, concurrency=1, name=f"bench-{i}").start() for i in range(workers)]
    try:
        groups = [_group(w.process.pid) for w in started if w.process]
        cpu_before = sum(_cpu_seconds(pids) for pids in groups)  # the workers' start (Django, imports) aside
        pg_before = _pg_active_ms()
        start = time.perf_counter()
        jobs.close(job)  # queued at once: no transaction around it
        while (state := BulkJob.objects.values_list("state", flat=True).get(pk=job.pk)) not in (
            "JobComplete",
            "Failed",
            "Aborted",
        ):
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        worker_cpu = sum(_cpu_seconds(_group(w.process.pid)) for w in started if w.process) - cpu_before
        pg_ms = _pg_active_ms() - pg_before
    finally:
        for worker in started:
            worker.stop()
    job = BulkJob.objects.get(pk=job.pk)
    assert state == "JobComplete", (state, job.error_message)
    assert job.succeeded_records == len(records), (job.succeeded_records, job.failed_records)
    work = sorted(BulkJobChunk.objects.filter(job=job).values_list("work_ms", flat=True))
    return {
        "seconds": seconds,
        "chunks": len(work),
        "work_ms": sum(work) / len(work),
        "work_p90_ms": work[int(len(work) * 0.9)],
        "worker_cpu_ms": 1000 * worker_cpu / len(work),
        "pg_ms": pg_ms / len(work),
        "active_ms": job.active_processing_ms,
        "total_ms": job.total_processing_ms,
        "workers_used": job.workers_used,
        "retries": job.retries,
    }


def print_workers(n: int, repeat: int, owner: Any, accounts: list[int]) -> None:
    """The 1-worker and 2-worker rows, ``repeat`` times each (alternating), and the ratio."""
    queue = f"bulk-bench-{os.getpid()}"
    os.environ["BULK_QUEUE"] = queue
    from django.conf import settings
    from project.celery import app

    settings.CELERY_TASK_DEFAULT_QUEUE = app.conf.task_default_queue = queue
    records = make_records(n, accounts, seed=5, memo="workers")
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for _ in range(repeat):
        for workers in (1, 2):
            runs[workers].append(workers_run(owner, records, workers, queue))
    print(
        f"\n-- {n:,}-record insert job on real workers (celery, Redis broker, concurrency 1 each; chunks of "
        f"{n // runs[1][0]['chunks']:,}), {repeat} run(s) each, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores --"
    )
    best = {}
    for workers, results in runs.items():
        rates = [n / r["seconds"] for r in results]
        best[workers] = min(results, key=lambda r: r["seconds"])
        r = best[workers]
        print(
            f"  {workers} worker{'s' if workers > 1 else ' '}: {', '.join(f'{x:,.0f}' for x in rates)} rec/s "
            f"(best {n / r['seconds']:,.0f}); per chunk: work {r['work_ms']:.0f} ms (p90 {r['work_p90_ms']}), "
            f"worker CPU {r['worker_cpu_ms']:.0f} ms, PostgreSQL busy {r['pg_ms']:.0f} ms; "
            f"active/total {r['active_ms'] / max(r['total_ms'], 1):.2f}, workers used {r['workers_used']}, "
            f"retries {r['retries']}"
        )
    ratio = best[1]["seconds"] / best[2]["seconds"]
    spreads = [max(r["seconds"] for r in runs[w]) / min(r["seconds"] for r in runs[w]) for w in (1, 2)]
    print(
        f"  2 workers / 1 worker: {ratio:.2f}x (best runs; goal 1.5x); slowest/fastest run: "
        f"{spreads[0]:.2f} (1 worker), {spreads[1]:.2f} (2 workers)"
    )
    one = best[1]
    size = n / one["chunks"]
    cpu_s, pg_s = one["worker_cpu_ms"] / 1000, one["pg_ms"] / 1000
    print(
        f"  per chunk of {size:,.0f} records, one worker: {one['worker_cpu_ms']:.0f} ms of worker CPU "
        f"(a worker core: {size / cpu_s:,.0f} rec/s), {one['pg_ms']:.0f} ms of PostgreSQL statement time "
        f"(one PostgreSQL backend busy all the time: {size / pg_s:,.0f} rec/s); N worker cores need about "
        f"N x {pg_s / cpu_s:.2f} busy PostgreSQL backends"
        if pg_s and cpu_s
        else "  (no per-chunk costs: PostgreSQL < 14 has no active_time)"
    )


def otel_rows(owner: Any, accounts: list[int], m: int, rounds: int) -> dict[str, float]:
    """Insert jobs of ``m`` records with OpenTelemetry off and on, interleaved, ``rounds`` times each; medians.

    - ``off``: ``BULK_DRF_OPENTELEMETRY = False`` (the hooks call through; as without ``opentelemetry-api``);
    - ``api``: on, with the API's default no-op tracer and meter (no SDK configured);
    - ``sdk``: on, with the SDK recording every span (a ``BatchSpanProcessor`` into an in-memory exporter) and
      every measurement (an in-memory metric reader) -- a real exporter's network cost is not counted.
    """
    from bulk_drf.jobs import lifecycle as jobs
    from bulk_drf.jobs import processing
    from django.conf import settings
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    records = make_records(m, accounts, seed=5, memo="otel")
    cpu: dict[str, list[float]] = defaultdict(list)

    def job_seconds(enabled: bool, name: str = "") -> float:
        """Wall seconds of one run; its CPU seconds (this process: where the spans are made) go to ``cpu``."""
        settings.BULK_DRF_OPENTELEMETRY = enabled
        reset()
        job = jobs.create_job(owner=owner, viewset="ledger.views.TransactionViewSet", operation="insert")
        jobs.add_records(job, records)
        jobs.transition(job, "UploadComplete")
        wall, used = time.perf_counter(), time.process_time()
        assert processing.run_job(job.pk).state == "JobComplete"
        wall, used = time.perf_counter() - wall, time.process_time() - used
        if name:
            cpu[name].append(used)
        return wall

    times: dict[str, list[float]] = defaultdict(list)
    job_seconds(False)  # warm-up: imports, the first queries' plans
    for _ in range(rounds):
        times["off"].append(job_seconds(False, "off"))
        times["api"].append(job_seconds(True, "api"))
    hook_cost = {"off": chunk_hook_cost(False), "api": chunk_hook_cost(True)}
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    for _ in range(rounds):
        times["off, next to sdk"].append(job_seconds(False, "off, next to sdk"))
        times["sdk"].append(job_seconds(True, "sdk"))
    tracer_provider.force_flush()
    spans = len(exporter.get_finished_spans())
    hook_cost["sdk"] = chunk_hook_cost(True)  # and BULK_DRF_OPENTELEMETRY back to its default

    median = {name: statistics.median(values) for name, values in times.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    print(
        f"\n-- OpenTelemetry: insert jobs of {m:,} records, off and on interleaved, median of {rounds}; "
        "CPU = this process's CPU seconds (the worker's side, where spans are made: steadier than wall time "
        "on a busy machine) --"
    )
    print(f"  {'':48}{'wall':>34}{'vs off':>9}{'CPU':>10}{'vs off':>9}")
    rows = [
        ("OTel off (BULK_DRF_OPENTELEMETRY=False)", "off", "off"),
        ("OTel on, API only (no SDK)", "api", "off"),
        ("OTel off (next to the SDK runs)", "off, next to sdk", "off, next to sdk"),
        (f"OTel on, SDK recording ({spans // rounds} spans/job)", "sdk", "off, next to sdk"),
    ]
    for label, name, baseline in rows:
        print(
            f"  {label:<48}{rate(m, median[name]):>34}{100 * (median[name] / median[baseline] - 1):>+8.1f} %"
            f"{cpu_median[name]:>9.2f}s{100 * (cpu_median[name] / cpu_median[baseline] - 1):>+8.1f} %"
        )
    print(f"  all runs, wall s: {'; '.join(f'{k} ' + '/'.join(f'{v:.2f}' for v in vs) for k, vs in times.items())}")
    print(f"  all runs, CPU s:  {'; '.join(f'{k} ' + '/'.join(f'{v:.2f}' for v in vs) for k, vs in cpu.items())}")
    chunk = median["off"] / max(1, m // 1000)
    for label, name in (("off", "off"), ("on, API only", "api"), ("on, SDK recording", "sdk")):
        print(
            f"  the hooks {label + ':':<19}{hook_cost[name] * 1e6:8.1f} us per chunk more than a bare call "
            f"({100 * hook_cost[name] / chunk:.3f} % of a {chunk * 1000:.0f} ms chunk)"
        )
    return {
        "api": cpu_median["api"] / cpu_median["off"] - 1,
        "sdk": cpu_median["sdk"] / cpu_median["off, next to sdk"] - 1,
    }


def chunk_hook_cost(enabled: bool, calls: int = 20_000) -> float:
    """Seconds ``telemetry.process_chunk`` adds to one chunk (with ``enabled``), against calling the chunk bare:
    the job and the chunk are stand-ins, so only the hook's own work (span, attributes, metrics) is timed."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from bulk_drf.jobs import telemetry
    from django.conf import settings

    now = datetime.now(UTC)
    job = SimpleNamespace(pk="0", operation="insert", processed_records=0, started_at=now, upload_complete_at=now)
    viewset = SimpleNamespace(_bulk_drf_model_label="ledger.Transaction")
    outcome = SimpleNamespace(start=0, stop=1000, succeeded=999, failed=1)

    def chunk(job: Any, viewset: Any) -> Any:
        return outcome

    settings.BULK_DRF_OPENTELEMETRY = enabled
    try:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(calls):
                telemetry.process_chunk(chunk, job, viewset)
            hooked = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(calls):
                chunk(job, viewset)
            best = min(best, (hooked - (time.perf_counter() - start)) / calls)
        return best
    finally:
        del settings.BULK_DRF_OPENTELEMETRY


def print_phases(operation: str, m: int, seconds: float, phases: dict[str, float]) -> None:
    batch_total = phases.pop("write_rows")
    chunk_total = phases.pop("process_chunk")
    outside_batch = sum(v for k, v in phases.items() if k.startswith(("bookkeeping", "read")))
    inside_batch = sum(phases.values()) - outside_batch
    phases["rest of execute_batch (fetch targets, apply, savepoints, outcomes)"] = batch_total - inside_batch
    phases["rest of the chunk (commit, cursor update, result tuples)"] = chunk_total - batch_total - outside_batch
    phases["outside chunks (setup, progress, transitions)"] = seconds - chunk_total
    print(
        f"\n-- where the time goes: an instrumented {operation} job of {m:,} records, {seconds:.2f} s "
        f"({m / seconds:,.0f} rec/s; wrappers and the polling thread slow it a little) --"
    )
    for phase, spent in sorted(phases.items(), key=lambda kv: -kv[1]):
        if spent >= 0.005:
            print(f"  {phase:<68}{spent:7.2f} s {100 * spent / seconds:5.1f} %")


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} rec/s  ({seconds:6.2f} s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="bulk_create/job pairs of the ratio rows, alternating")
    parser.add_argument("--phase-records", type=int, default=20_000, help="records of the instrumented run")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions")
    parser.add_argument("--worker-records", type=int, default=200_000, help="records of the workers' job (0: skip)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each worker count")
    parser.add_argument("--otel-records", type=int, default=10_000, help="records of each OpenTelemetry off/on job")
    parser.add_argument("--otel-rounds", type=int, default=5, help="off/on pairs of jobs, interleaved (0: skip)")
    parser.add_argument("--only-otel", action="store_true", help="only the OpenTelemetry off/on rows")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 500 records, one round, no workers")
    args = parser.parse_args()
    if args.quick:
        args.records = args.phase_records = args.otel_records = 500
        args.rounds = args.otel_rounds = 1
        args.worker_records = 0
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not urlparse(url).scheme.startswith("postgres"):
        print(f"jobs_bench measures PostgreSQL; DATABASE_URL={url!r} is not a postgres:// URL", file=sys.stderr)
        return 2
    setup(url)

    import django
    from bulk_drf.conf import bulk_settings
    from django.conf import settings
    from django.contrib.auth.models import User
    from ledger.models import Account

    reset()
    User.objects.filter(username="bench").delete()
    owner = User.objects.create_user("bench", password="bench")
    accounts = [a.pk for a in Account.objects.bulk_create(Account(owner=owner, name=f"acct-{i}") for i in range(20))]
    n = args.records
    inserts = make_records(n, accounts, seed=1, memo="first")
    upserts = make_records(n, accounts, seed=2, memo="second")  # the same references: every row updated

    print("== bulk-drf jobs bench ==")
    print(
        f"python {platform.python_version()}, Django {django.get_version()}, PostgreSQL db {BENCH_DB}, "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )
    print(
        f"{n:,} ledger.Transaction records; job chunk size {bulk_settings.CHUNK_SIZE}; ONE worker, "
        "processing.run_job called in-process (no broker hop; the Celery task only calls it)"
    )
    print("every job record is validated by TransactionSerializer; bulk_create validates nothing\n")

    if args.only_otel:
        otel_rows(owner, accounts, args.otel_records, args.otel_rounds)
        reset()
        return 0

    # Round-robin: bulk_create and the job alternate, ``--rounds`` times, so a busy spell of this shared machine
    # hits both; the ratio is of the medians (and of the best runs, printed beside it).
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        reset()
        times["raw insert"].append(raw_bulk_create(owner, inserts, upsert=False))
        times["raw upsert"].append(raw_bulk_create(owner, upserts, upsert=True))
        reset()
        up_insert, job_insert, _ = job_run(owner, inserts, "insert")
        up_upsert, job_upsert, _ = job_run(owner, upserts, "upsert")
        times["job insert"].append(job_insert)
        times["job upsert"].append(job_upsert)
        times["upload insert"].append(up_insert)
        times["upload upsert"].append(up_upsert)
    median = {name: statistics.median(values) for name, values in times.items()}
    raw_insert = median["raw insert"]

    print(f"median of {args.rounds} round(s), bulk_create and job alternating")
    print(f"{'':28}{'bulk_create':>32}{'job (processing)':>34}{'ratio':>8}{'best':>7}{'goal':>7}")
    verdicts = []
    for name in ("insert", "upsert"):
        raw, job = median[f"raw {name}"], median[f"job {name}"]
        ratio = raw / job
        best = min(times[f"raw {name}"]) / min(times[f"job {name}"])
        verdicts.append(ratio >= GOAL)
        print(
            f"{name + ' ' + format(n, ','):28}{rate(n, raw):>32}{rate(n, job):>34}{ratio:>8.2f}{best:>7.2f}"
            f"{'ok' if ratio >= GOAL else 'MISS':>7}"
        )
        print(f"{'':28}{'':32}  + upload {rate(n, median[f'upload {name}'])}")
    print(f"  all runs, s: {'; '.join(f'{k} ' + '/'.join(f'{v:.2f}' for v in vs) for k, vs in times.items())}")
    # The same runs by CPU time (this process + its PostgreSQL backend): the work, less of the machine's noise.
    cpu_ratios = []
    for name in ("insert", "upsert"):
        raw_cpu, job_cpu = (statistics.median(CPU[f"{kind} {name}"][-args.rounds :]) for kind in ("raw", "job"))
        cpu_ratios.append(f"{name} {raw_cpu:.2f} s / {job_cpu:.2f} s = {raw_cpu / job_cpu:.2f}")
    print(f"  by CPU time (this process + its PostgreSQL backend, medians): {'; '.join(cpu_ratios)}")

    # Tuning: smaller chunks mean more commits and more receiver runs (the ledger's receivers run their
    # statements once per write event) for shorter transactions; 1000 was the default before 5000.
    reset()
    chunk_size = settings.BULK_DRF_CHUNK_SIZE
    settings.BULK_DRF_CHUNK_SIZE = 1000
    _, job_small, _ = job_run(owner, inserts, "insert")
    settings.BULK_DRF_CHUNK_SIZE = chunk_size
    print(f"{'insert, chunks of 1000':28}{'':32}{rate(n, job_small):>34}{raw_insert / job_small:>8.2f}{'(tuning)':>10}")

    reset()
    m = args.phase_records
    polled: dict[str, Any] = {"polls": 0, "queries": 0, "states": set()}
    for operation, seed in (("insert", 3), ("upsert", 4)):
        records = make_records(m, accounts, seed=seed, memo=operation)
        seconds, phases, polls = instrumented_run(owner, records, operation)
        for key in ("polls", "queries"):
            polled[key] += polls[key]
        polled["states"] |= polls["states"]
        print_phases(operation, m, seconds, phases)
    print(
        f"\n-- polling GET /api/bulk-jobs/{{id}}/ while those jobs ran (and once after): {polled['polls']} polls, "
        f"{polled['queries']} queries in total; states seen {sorted(polled['states'])} --"
    )

    if args.profile:
        profile_run(owner, make_records(m, accounts, seed=4, memo="profile"))
    if args.worker_records and os.environ.get("REDIS_URL"):
        print_workers(args.worker_records, args.repeat, owner, accounts)
    elif args.worker_records:
        print("\n-- workers: skipped (set REDIS_URL: the workers' broker) --")
    if args.otel_rounds:
        otel_rows(owner, accounts, args.otel_records, args.otel_rounds)  # last: it sets the global providers
    reset()
    return 0 if all(verdicts) and polled["queries"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
