"""A job fanned out over workers: planning, ordering, the cap, fairness, abort, recovery and the job facts.

The parallel path needs row locks with ``SKIP LOCKED`` (PostgreSQL: run with DATABASE_URL). Its workers here
are threads, each with its own database connection, taking ``bulk_drf.run_chunk`` messages from an in-process
FIFO queue that stands in for the broker (``send_chunks`` is the one function replaced); the integration suite
runs the same path on real Celery workers and Redis (tests-integration/tests/test_jobs_fanout.py).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import pytest
from bulk_drf.jobs import dryrun, fanout, processing, progress, views
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.models import BulkJob, BulkJobChunk, BulkJobKeyClaim, BulkJobResult
from bulk_drf.tasks import run_bulk_job_chunk
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_app.views import GadgetViewSet
from tests.jobs_fixtures import client_for, closed_job, gadgets

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel chunks need row locks: run with DATABASE_URL for PostgreSQL"
)


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 3
    settings.BULK_DRF_PROGRESS_UPDATE_INTERVAL = 3


class SlowGadgetViewSet(GadgetViewSet):
    """Each chunk takes at least 30 ms, so chunks of parallel workers overlap."""

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.03)
        return super().get_serializer(*args, **kwargs)


SLOW = "tests.test_job_fanout.SlowGadgetViewSet"


class Broker:
    """The chunk messages ``fanout.dispatch`` sends, in a FIFO queue; ``work(n)`` runs ``n`` worker threads."""

    def __init__(self) -> None:
        self.messages: queue.Queue[tuple[str, int]] = queue.Queue()
        self.sent: list[tuple[str, int]] = []
        self.ran: list[tuple[str, int, str]] = []  # (job, chunk, worker) in the order the runs started
        self._lock = threading.Lock()

    def send(self, job_id: Any, numbers: list[int]) -> None:
        for number in numbers:
            self.sent.append((str(job_id), number))
            self.messages.put((str(job_id), number))

    def work(self, workers: int, *, idle: float = 0.5) -> None:
        """Run ``workers`` threads until no message came for ``idle`` seconds; re-raise a thread's error."""
        errors: list[BaseException] = []

        def worker(name: str) -> None:
            try:
                while True:
                    try:
                        job_id, number = self.messages.get(timeout=idle)
                    except queue.Empty:
                        return
                    with self._lock:
                        self.ran.append((job_id, number, name))
                    processing.run_chunk(job_id, number, worker=name)
            except BaseException as exc:  # reported by the test's thread
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(f"w{i}@test",)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        if errors:
            raise errors[0]


@pytest.fixture
def broker(monkeypatch: Any) -> Broker:
    fake = Broker()
    monkeypatch.setattr(fanout, "send_chunks", fake.send)
    return fake


def start(job: BulkJob) -> BulkJob:
    """What the ``bulk_drf.run_job`` task does on a worker: start the job, plan it, queue its first chunks."""
    started = processing.run_job(job.pk, fan_out=True, worker="starter@test")
    assert started is not None
    return started


def most_at_once(job: BulkJob) -> int:
    """The most chunks of ``job`` that were in work at the same moment (claim to commit)."""
    spans = BulkJobChunk.objects.filter(job=job, state="done").values_list("started_at", "finished_at")
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = now = 0
    for _, step in events:  # an end and a start at the same instant: the end first (-1 sorts before 1)
        now += step
        most = max(most, now)
    return most


def chunk_rows(job: BulkJob) -> list[tuple[int, str, int, list[int]]]:
    return list(
        BulkJobChunk.objects.filter(job=job).order_by("number").values_list("number", "state", "waiting", "dependents")
    )


# -- when chunks go out in parallel, and what they wait for --------------------------------------------------


def test_chunks_never_go_out_in_parallel_when_tasks_run_eagerly(eager_celery: None) -> None:
    assert fanout.parallel_enabled() is False  # eager: no worker would take the chunk tasks


def test_parallel_is_off_with_one_chunk_at_a_time_and_off_sqlite(settings: Any) -> None:
    assert fanout.parallel_enabled() is (connection.vendor == "postgresql")
    settings.BULK_DRF_MAX_PARALLEL_CHUNKS = 1
    assert fanout.parallel_enabled() is False


@needs_postgresql
def test_a_chunk_sharing_a_key_with_an_earlier_chunk_waits_for_it(alice: Any) -> None:
    records = gadgets(12)  # chunks of 3: [0-2] [3-5] [6-8] [9-11]
    records[4]["sku"] = records[1]["sku"]  # chunk 1 repeats a key of chunk 0
    records[10]["sku"] = records[1]["sku"].lower()  # and chunk 3, in other case (a false match costs only order)
    records[7]["sku"] = f"  {records[3]['sku']} "  # chunk 2 repeats one of chunk 1, padded
    job = closed_job(alice, records, operation="upsert", unique_fields=["sku"])
    jobs.transition(job, "InProgress")
    assert fanout.plan(job, processing.build_viewset(job)) == 4
    assert chunk_rows(job) == [
        (0, "pending", 0, [1]),
        (1, "pending", 1, [2, 3]),
        (2, "pending", 1, []),
        (3, "pending", 1, []),
    ]
    assert fanout.plan(job, processing.build_viewset(job)) == 4  # once: a second start plans nothing
    assert BulkJobChunk.objects.filter(job=job).count() == 4


@needs_postgresql
def test_ids_order_update_and_delete_chunks_and_reads_never_wait(alice: Any) -> None:
    rows = Gadget.objects.bulk_create(Gadget(owner=alice, sku=f"S{i}", name="g", price="1.00") for i in range(4))
    ids = [g.pk for g in rows]
    delete = closed_job(alice, [ids[0], ids[1], ids[2], str(ids[3]), {"id": ids[0]}, ids[2]], operation="delete")
    update = closed_job(
        alice, [{"id": ids[0], "qty": 1}, {"id": ids[1]}, {"id": ids[2]}, {"id": ids[0], "qty": 2}], operation="update"
    )
    read = closed_job(alice, [ids[0], ids[1], ids[2], ids[0]], operation="read")
    for job in (delete, update, read):
        jobs.transition(job, "InProgress")
        fanout.plan(job, processing.build_viewset(job))
    assert [w for _, _, w, _ in chunk_rows(delete)] == [0, 1]
    assert [w for _, _, w, _ in chunk_rows(update)] == [0, 1]
    assert [w for _, _, w, _ in chunk_rows(read)] == [0, 0]


def test_on_sqlite_chunks_are_planned_without_waits_and_run_in_order(alice: Any) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's plan")
    records = gadgets(6)
    records[4]["sku"] = records[1]["sku"]
    job = closed_job(alice, records, operation="upsert", unique_fields=["sku"])
    job = processing.run_job(job.pk, fan_out=True)  # the task's call: serial here
    assert job.state == "JobComplete" and chunk_rows(job) == [(0, "done", 0, []), (1, "done", 0, [])]
    assert [r.created for r in BulkJobResult.objects.filter(job=job).order_by("index")] == [True] * 4 + [False, True]


# -- the same rows and results as serial processing ----------------------------------------------------------


def scenario(operation: str, owner: Any) -> tuple[list[Any], dict[str, Any]]:
    """Rows to start from and records whose outcomes depend on each other across chunks of 3."""
    existing = Gadget.objects.bulk_create(
        Gadget(owner=owner, sku=f"OLD{i}", name=f"old {i}", price="9.00", qty=i) for i in range(6)
    )
    pk = {g.sku: g.pk for g in existing}
    kwargs: dict[str, Any] = {}
    if operation in ("insert", "upsert"):
        records = gadgets(30)
        for i, sku in ((7, "G00001"), (13, "G00001"), (20, "g00001"), (4, "G00003"), (22, "OLD1"), (26, "OLD1")):
            records[i] = {**records[i], "sku": sku, "name": f"again at {i}"}
        records[16]["sku"] = records[15]["sku"]  # twice in one chunk: the second is a duplicate
        records[10]["price"] = "not a number"
        if operation == "upsert":
            kwargs["unique_fields"] = ["sku"]
    elif operation == "update":
        records = [{"id": pk[f"OLD{i % 6}"], "qty": 100 + i, "name": f"set at {i}"} for i in range(24)]
        records[5] = {"id": pk["OLD2"], "qty": "many"}
        records[9] = {"id": pk["OLD3"], "sku": "TAKEN"}  # then a later chunk takes the same new sku
        records[17] = {"id": pk["OLD4"], "sku": "TAKEN"}
    else:
        records = [pk[f"OLD{i % 6}"] for i in range(12)] + [999_999]
    return records, kwargs


def outcome(job: BulkJob, sku_of: dict[str, str]) -> tuple[Any, ...]:
    """The job's rows and per-record results, with database ids replaced by skus (ids differ between runs)."""
    job.refresh_from_db()
    sku_of.update({str(g.pk): g.sku for g in Gadget.objects.all()})
    rows = sorted(Gadget.objects.values_list("sku", "name", "price", "qty"))
    results = [
        (r.index, r.kind, sku_of.get(r.object_pk, r.object_pk), r.created, r.errors)
        for r in BulkJobResult.objects.filter(job=job).order_by("index")
    ]
    for i, (index, kind, sku, created, errors) in enumerate(results):
        text = str(errors or "")
        for pk, name in sku_of.items():
            text = text.replace(f"item {pk}", f"item {name}")  # "Same sku as item N" names an index, not an id
        results[i] = (index, kind, sku, created, text)
    return (job.state, job.processed_records, job.succeeded_records, job.failed_records), rows, results


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["insert", "upsert", "update", "delete"])
def test_four_parallel_workers_give_the_rows_and_results_of_serial_processing(
    alice: Any, broker: Broker, operation: str
) -> None:
    runs = {}
    for mode in ("serial", "parallel"):
        Gadget.objects.all().delete()
        records, kwargs = scenario(operation, alice)
        sku_of = {str(g.pk): g.sku for g in Gadget.objects.all()}  # also the rows a delete removes
        job = closed_job(alice, records, operation=operation, viewset=SLOW, **kwargs)
        if mode == "serial":
            processing.run_job(job.pk)  # one worker, chunks in order
        else:
            assert start(job).state == "InProgress"
            broker.work(4)
        runs[mode] = outcome(job, sku_of)
    assert runs["parallel"] == runs["serial"]
    state, _rows, results = runs["serial"]
    assert state[0] == "JobComplete" and state[3] > 0 and results  # the scenario has failures to compare
    assert most_at_once(job) > 1, "the chunks should have overlapped"


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_repeated_upsert_key_is_applied_in_record_order_across_parallel_chunks(alice: Any, broker: Broker) -> None:
    records = [{"sku": "K", "name": f"version {i}", "price": "1.00", "qty": i} for i in range(12)]
    records[1::3] = gadgets(4, prefix="X")  # one other key per chunk: the chunks are not all alike
    job = closed_job(alice, records, operation="upsert", unique_fields=["sku"], viewset=SLOW)
    start(job)
    broker.work(4)
    job.refresh_from_db()
    assert (job.state, job.succeeded_records, job.failed_records) == ("JobComplete", 8, 4)  # "K" twice per chunk
    assert Gadget.objects.get(sku="K").name == "version 9"  # the last chunk's first "K": serial's last write
    numbers = [n for _, n, _ in broker.ran]
    assert numbers == sorted(numbers), "each chunk waited for the one before (they share the key)"


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_dry_run_fans_out_and_the_last_chunk_settles_its_claims_once(
    alice: Any, broker: Broker, monkeypatch: Any
) -> None:
    finished: list[str] = []
    settle = dryrun.finish

    def counted(job: BulkJob, viewset: Any) -> int:
        finished.append(str(job.pk))
        return settle(job, viewset)

    monkeypatch.setattr(dryrun, "finish", counted)
    records, kwargs = scenario("upsert", alice)
    before = sorted(Gadget.objects.values_list("sku", "name", "price", "qty"))
    sku_of = {str(g.pk): g.sku for g in Gadget.objects.all()}
    runs = {}
    for mode in ("serial", "parallel"):
        job = closed_job(alice, records, operation="upsert", viewset=SLOW, dry_run=True, **kwargs)
        if mode == "serial":
            processing.run_job(job.pk)
        else:
            assert start(job).state == "InProgress"
            broker.work(4)
        runs[mode] = outcome(job, sku_of)
        assert finished.count(str(job.pk)) == 1  # the barrier's transaction, exactly once
        assert BulkJobKeyClaim.objects.filter(job=job).count() == 0
    assert most_at_once(job) > 1, "the chunks should have overlapped"
    assert runs["parallel"] == runs["serial"]
    (state, _, succeeded, failed), rows, results = runs["parallel"]
    assert (state, rows) == ("JobComplete", before)  # nothing written
    assert succeeded and failed
    # Record 7 repeats record 1's new key in a later chunk: only the settling sees it becomes an update.
    assert [(kind, created) for index, kind, _, created, _ in results if index == 7] == [("succeeded", False)]


# -- the cap, fairness ---------------------------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_at_most_max_parallel_chunks_of_a_job_run_at_once(alice: Any, broker: Broker, settings: Any) -> None:
    settings.BULK_DRF_MAX_PARALLEL_CHUNKS = 2
    job = closed_job(alice, gadgets(30), viewset=SLOW)
    start(job)
    assert broker.sent == [(str(job.pk), 0), (str(job.pk), 1)]  # two queued at the start
    broker.work(4)  # four idle workers, but only two messages of this job exist at any time
    job.refresh_from_db()
    assert (job.state, job.succeeded_records, job.chunks_done) == ("JobComplete", 30, 10)
    assert most_at_once(job) == 2
    assert sorted(n for _, n in broker.sent) == list(range(10))  # each chunk sent once
    assert Gadget.objects.count() == 30


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_users_jobs_interleave_on_one_worker(alice: Any, bob: Any, broker: Broker, settings: Any) -> None:
    """The next chunk of a job is queued when one finishes, behind the other job's: one worker alternates."""
    settings.BULK_DRF_MAX_PARALLEL_CHUNKS = 2
    big = closed_job(alice, gadgets(18, prefix="A"))
    small = closed_job(bob, gadgets(12, prefix="B"))
    start(big)
    start(small)
    broker.work(1)
    a, b = str(big.pk), str(small.pk)
    order = [("A" if job == a else "B") + str(n) for job, n, _ in broker.ran]
    assert order == ["A0", "A1", "B0", "B1", "A2", "A3", "B2", "B3", "A4", "A5"]
    assert all(BulkJob.objects.get(pk=pk).state == "JobComplete" for pk in (a, b))


# -- abort ----------------------------------------------------------------------------------------------------


class AbortingGadgetViewSet(SlowGadgetViewSet):
    """Its owner aborts the job (from another connection) while the third chunk to start is being written."""

    calls = 0
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        with AbortingGadgetViewSet.lock:
            AbortingGadgetViewSet.calls += 1
            third = AbortingGadgetViewSet.calls == 3
        if third:
            thread = threading.Thread(target=_abort_from_another_connection)
            thread.start()
            thread.join()
        return super().get_serializer(*args, **kwargs)


def _abort_from_another_connection() -> None:
    try:
        job = BulkJob.objects.filter(state="InProgress").get()
        response = client_for(job.owner).patch(f"/api/bulk-jobs/{job.pk}/", {"state": "Aborted"})
        AbortingGadgetViewSet.answers.append((response.status_code, timezone.now()))  # the abort is committed
    finally:
        connections.close_all()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_abort_during_parallel_chunks_keeps_exactly_the_chunks_committed_before_it(alice: Any, broker: Broker) -> None:
    job = closed_job(alice, gadgets(30), viewset="tests.test_job_fanout.AbortingGadgetViewSet")
    AbortingGadgetViewSet.calls, AbortingGadgetViewSet.answers = 0, []
    start(job)
    broker.work(3)
    job.refresh_from_db()
    chunks = list(BulkJobChunk.objects.filter(job=job).order_by("number"))
    done = [c for c in chunks if c.state == "done"]
    [(status, aborted)] = AbortingGadgetViewSet.answers
    assert status == 200 and job.state == "Aborted" and AbortingGadgetViewSet.calls >= 3
    assert any(c.state == "running" for c in chunks)  # the chunk in flight (at least the aborting one) rolled back
    assert all(c.finished_at < aborted for c in done)  # nothing committed after the abort
    assert all(c.started_at is None or c.started_at < aborted for c in chunks)  # nothing started after it
    assert len(broker.ran) == len({(j, n) for j, n, _ in broker.ran})  # and each message ran once
    expected = sum(c.stop_index - c.start_index for c in done)
    assert (job.processed_records, job.succeeded_records, job.chunks_done) == (expected, expected, len(done))
    assert Gadget.objects.count() == BulkJobResult.objects.filter(job=job).count() == expected
    done_indexes = sorted(i for c in done for i in range(c.start_index, c.stop_index))
    assert sorted(BulkJobResult.objects.filter(job=job).values_list("index", flat=True)) == done_indexes
    unprocessed = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed&limit=500").json()
    assert unprocessed["count"] == 30 - expected
    assert [r["index"] for r in unprocessed["results"]] == sorted(set(range(30)) - set(done_indexes))


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_message_arrives_after_the_abort_does_nothing(alice: Any, broker: Broker) -> None:
    job = start(closed_job(alice, gadgets(9)))
    jobs.abort(job)
    broker.work(2)
    assert [n for _, n, _ in broker.ran] == [0, 1, 2]
    assert Gadget.objects.count() == 0 and BulkJobResult.objects.count() == 0
    assert set(BulkJobChunk.objects.filter(job=job).values_list("state", "started_at")) == {("queued", None)}


# -- results with holes --------------------------------------------------------------------------------------


def test_unprocessed_records_are_those_of_the_chunks_not_committed(alice: Any) -> None:
    job = closed_job(alice, gadgets(10))  # chunks [0-2] [3-5] [6-8] [9]
    jobs.transition(job, "InProgress")
    viewset = processing.build_viewset(job)
    fanout.plan(job, viewset)
    processing.process_chunk(job, viewset, 1)
    processing.process_chunk(job, viewset, 3)
    jobs.abort(job)
    api = client_for(alice)
    page = api.get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed&offset=2&limit=3").json()
    assert page["count"] == 6
    assert [r["index"] for r in page["results"]] == [2, 6, 7]
    assert page["results"][1]["data"]["sku"] == "G00006"
    csv = b"".join(
        api.get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed", HTTP_ACCEPT="text/csv").streaming_content
    )
    assert [line.split(",")[0] for line in csv.decode().splitlines()[1:]] == ["0", "1", "2", "6", "7", "8"]
    # Paged by locator over the committed chunk's gap: the first page ends where the gap begins.
    url = f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed&max_records=3&format=ndjson"
    first = api.get(url)
    second = api.get(f"{url}&locator={first['Bulk-Locator']}")
    assert [json.loads(line)["index"] for line in b"".join(first.streaming_content).splitlines()] == [0, 1, 2]
    assert [json.loads(line)["index"] for line in b"".join(second.streaming_content).splitlines()] == [6, 7, 8]
    assert second["Bulk-Locator"] == "null"
    whole = b"".join(views.results_csv(job, "unprocessed").streaming_content).decode().splitlines()  # the admin's
    assert [line.split(",")[0] for line in whole[1:]] == ["0", "1", "2", "6", "7", "8"]


def test_a_job_started_by_the_cursor_version_resumes_after_its_cursor(alice: Any) -> None:
    job = closed_job(alice, gadgets(7))
    jobs.transition(job, "InProgress")
    Gadget.objects.bulk_create(Gadget(owner=alice, sku=r["sku"], name="before", price="1.00") for r in gadgets(4))
    BulkJob.objects.filter(pk=job.pk).update(processed_records=4, succeeded_records=4)  # as 0.x left it
    job = processing.run_job(job.pk)
    assert (job.state, job.processed_records, job.succeeded_records, job.chunks_total) == ("JobComplete", 7, 7, 2)
    assert chunk_rows(job)[0] == (0, "done", 0, [])
    assert list(BulkJobResult.objects.filter(job=job).values_list("index", flat=True)) == [4, 5, 6]
    assert Gadget.objects.filter(name="before").count() == 4 and Gadget.objects.count() == 7


# -- recovery ------------------------------------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_reaper_sends_again_a_chunk_whose_worker_died_and_one_whose_message_was_lost(
    alice: Any, broker: Broker
) -> None:
    job = start(closed_job(alice, gadgets(12)))
    assert [n for _, n in broker.sent] == [0, 1, 2, 3]
    dead = fanout.claim(job.pk, 0, worker="dead@test")  # claimed, then its worker was SIGKILLed
    assert dead is not None
    broker.messages = queue.Queue()  # and every message was lost with the broker
    assert processing.run_job(job.pk, fan_out=True) is not None  # the reaper's delivery, seconds too early
    assert broker.messages.empty()
    BulkJobChunk.objects.filter(job=job).update(queued_at="2000-01-01T00:00Z")
    BulkJobChunk.objects.filter(job=job, number=0).update(started_at="2000-01-01T00:00Z")
    job = processing.run_job(job.pk, fan_out=True)  # past BULK_DRF_STALE_AFTER
    assert sorted(n for _, n in list(broker.messages.queue)) == [0, 1, 2, 3]
    broker.work(2)
    job.refresh_from_db()
    assert (job.state, job.succeeded_records, job.retries, job.attempts) == ("JobComplete", 12, 1, 1)
    assert Gadget.objects.count() == 12 and BulkJobResult.objects.filter(job=job).count() == 12
    chunk = BulkJobChunk.objects.get(job=job, number=0)
    assert chunk.runs == 2 and chunk.worker.startswith("w")  # taken over by a live worker


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_chunk_that_kills_its_worker_every_time_fails_the_job(alice: Any, broker: Broker) -> None:
    job = start(closed_job(alice, gadgets(6)))
    for _ in range(processing.MAX_ATTEMPTS):
        assert fanout.claim(job.pk, 1, worker="dies@test") is not None  # ... and the worker dies each time
    assert processing.run_chunk(job.pk, 1) is None
    job.refresh_from_db()
    assert job.state == "Failed"
    assert job.error_message == f"gave up on records 3-5 after {processing.MAX_ATTEMPTS} attempts: " + (
        "the worker died each time (out of memory?)"
    )


def test_a_chunk_task_retries_a_lost_connection_and_counts_the_retries(alice: Any) -> None:
    from tests.jobs_app.views import FlakyDatabaseGadgetViewSet

    job = closed_job(alice, gadgets(6), viewset="tests.jobs_app.views.FlakyDatabaseGadgetViewSet")
    jobs.transition(job, "InProgress")
    fanout.plan(job, processing.build_viewset(job))
    FlakyDatabaseGadgetViewSet.failures_left = 2
    run_bulk_job_chunk.apply(args=[str(job.pk), 1], throw=False)  # eager: the retries run at once
    chunk = BulkJobChunk.objects.get(job=job, number=1)
    assert (chunk.state, chunk.runs, chunk.attempts) == ("done", 3, 1)
    job.refresh_from_db()
    assert (job.state, job.processed_records, job.retries) == ("InProgress", 3, 2)
    FlakyDatabaseGadgetViewSet.failures_left = 100
    try:
        run_bulk_job_chunk.apply(args=[str(job.pk), 0], throw=False)
    finally:
        left, FlakyDatabaseGadgetViewSet.failures_left = FlakyDatabaseGadgetViewSet.failures_left, 0
    job.refresh_from_db()
    assert 100 - left == run_bulk_job_chunk.max_retries + 1
    assert job.state == "Failed"
    assert job.error_message == (
        f"database error in records 0-2, still failing after {run_bulk_job_chunk.max_retries} retries: "
        "OperationalError: server closed the connection unexpectedly"
    )


# -- the job facts -------------------------------------------------------------------------------------------


def test_the_job_facts_are_in_the_status_and_the_list(alice: Any) -> None:
    records = gadgets(7)
    records[2]["price"] = "free"
    job = processing.run_job(closed_job(alice, records, viewset=SLOW).pk, worker="w1@host")
    chunks = list(BulkJobChunk.objects.filter(job=job))
    assert job.active_processing_ms == sum(c.work_ms for c in chunks) >= 3 * 30
    assert job.total_processing_ms >= job.active_processing_ms  # one worker: busy at most all the time
    body = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()
    assert {k: body[k] for k in ("processed_records", "failed_records", "retries", "workers_used")} == {
        "processed_records": 7,
        "failed_records": 1,
        "retries": 0,
        "workers_used": 1,
    }
    assert (body["total_processing_ms"], body["active_processing_ms"]) == (
        job.total_processing_ms,
        job.active_processing_ms,
    )
    assert "worker_names" not in body and job.worker_names == ["w1@host"]
    listed = client_for(alice).get("/api/bulk-jobs/").json()["results"][0]
    assert listed["workers_used"] == 1 and listed["active_processing_ms"] == job.active_processing_ms


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_facts_sum_the_workers_time(alice: Any, broker: Broker) -> None:
    job = start(closed_job(alice, gadgets(24), viewset=SLOW))
    broker.work(4)
    job.refresh_from_db()
    chunks = list(BulkJobChunk.objects.filter(job=job))
    assert job.state == "JobComplete" and job.retries == 0
    assert job.workers_used == len({c.worker for c in chunks}) == len({w for _, _, w in broker.ran}) >= 2
    assert sorted(job.worker_names) == sorted({c.worker for c in chunks})
    assert job.active_processing_ms == sum(c.work_ms for c in chunks) >= 8 * 30
    status = APIClient()
    status.force_authenticate(alice)
    assert status.get(f"/api/bulk-jobs/{job.pk}/").json()["workers_used"] == job.workers_used


def test_a_progress_write_never_moves_the_cached_counters_back(alice: Any) -> None:

    job = closed_job(alice, gadgets(6))
    jobs.transition(job, "InProgress")
    progress.publish_status(job)
    ahead, behind = BulkJob.objects.get(pk=job.pk), BulkJob.objects.get(pk=job.pk)
    ahead.processed_records, behind.processed_records = 6, 3  # chunk 1 committed after chunk 0, published first
    progress.publish_progress(ahead)
    progress.publish_progress(behind)
    assert progress.get_status(job.pk)["processed_records"] == 6


def test_the_bookkeeping_of_a_chunk_and_of_a_dispatch_costs_a_fixed_number_of_statements(alice: Any) -> None:
    job = closed_job(alice, gadgets(9))
    jobs.transition(job, "InProgress")
    viewset = processing.build_viewset(job)
    fanout.plan(job, viewset)
    progress.publish_status(job)  # cached: the chunk's progress write reads no row
    relaxed = ["SET LOCAL synchronous_commit TO OFF"] if connection.vendor == "postgresql" else []
    # The results: COPY on PostgreSQL (not a Django query), one INSERT elsewhere.
    results = [] if connection.vendor == "postgresql" else ['INSERT INTO "bulk_drf_bulkjobresult"']

    def statements(run: Any) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            run()
        ours = [q["sql"] for q in queries.captured_queries if "bulk_drf_" in q["sql"] or q["sql"].startswith("SET")]
        return [_statement(sql) for sql in ours]

    assert statements(lambda: processing.process_chunk(job, viewset, 0)) == [
        'SELECT "bulk_drf_bulkjobchunk"."id"',  # claim: the chunk row (FOR UPDATE SKIP LOCKED)
        'SELECT "bulk_drf_bulkjob"."state"',  # the job's state, under its row lock
        *relaxed,  # the claim commits without waiting for the WAL flush
        'UPDATE "bulk_drf_bulkjobchunk"',  # token, worker, start
        'SELECT "bulk_drf_bulkjobdatachunk"."start_index"',  # the records
        'SELECT "bulk_drf_bulkjobchunk"."state"',  # the chunk's transaction holds its row (the rows are written)
        *results,
        'SELECT "bulk_drf_bulkjob"."state"',  # the job row, locked
        'UPDATE "bulk_drf_bulkjobchunk"',  # done
        'UPDATE "bulk_drf_bulkjob"',  # counters and facts
    ]
    assert statements(lambda: fanout.dispatch(job.pk)) == [
        'SELECT "bulk_drf_bulkjob"."state"',  # the job row, locked: one dispatch of a job at a time
        "SELECT COUNT(*)",  # chunks queued or running
        'SELECT "bulk_drf_bulkjobchunk"."number"',  # the next ready ones (FOR UPDATE SKIP LOCKED)
        'UPDATE "bulk_drf_bulkjobchunk"',  # queued
        *relaxed,
    ]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_chunk_messages_of_a_deleted_job_do_nothing(alice: Any, broker: Broker, caplog: Any) -> None:
    """A job deleted while its chunks are queued (an admin, its owner deleted). Deleting it while a chunk is in
    work waits for that chunk's commit: the delete cascades to the chunk row the chunk's transaction holds."""
    job = start(closed_job(alice, gadgets(6)))
    BulkJob.objects.filter(pk=job.pk).delete()
    broker.work(2)
    assert [n for _, n, _ in broker.ran] == [0, 1]
    assert Gadget.objects.count() == 0 and not BulkJobChunk.objects.exists()
    assert [r.getMessage() for r in caplog.records if r.levelno >= 30] == []


def _statement(sql: str) -> str:
    """What a statement is, whatever the Django version's spelling: its verb, table and first column."""
    sql = sql.split(" WHERE ")[0]
    if sql.startswith("SELECT"):
        return sql.split(",")[0].split(" AS ")[0].split(" FROM ")[0]
    return sql.split(" SET ")[0].split(" (")[0]
