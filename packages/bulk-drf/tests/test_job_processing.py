"""Processing a job in-process: chunks, per-record errors, resume after a crash, abort, scope, failures."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from bulk_drf.jobs import fanout, processing, progress
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.models import BulkJob, BulkJobChunk, BulkJobResult
from bulk_drf.signals import job_progress
from bulk_drf.tasks import run_bulk_job
from bulk_signals_core.testing import record
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.utils import timezone

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_app.views import FlakyDatabaseGadgetViewSet, GadgetViewSet
from tests.jobs_fixtures import closed_job, gadgets

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
eager_celery = jobs_fixtures.eager_celery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 2
    settings.BULK_DRF_PROGRESS_UPDATE_INTERVAL = 4


def results(job: BulkJob, kind: str) -> list[BulkJobResult]:
    return list(BulkJobResult.objects.filter(job=job, kind=kind).order_by("index"))


def test_valid_records_are_written_and_invalid_ones_reported_per_record(alice: Any) -> None:
    records = gadgets(5)
    records[1]["price"] = "not a number"
    records[3] = {"name": "no sku", "price": "1.00"}
    job = processing.run_job(closed_job(alice, records).pk)
    assert job.state == "JobComplete"
    assert (job.total_records, job.processed_records, job.succeeded_records, job.failed_records) == (5, 5, 3, 2)
    assert sorted(Gadget.objects.values_list("sku", flat=True)) == ["G00000", "G00002", "G00004"]
    ok = results(job, "succeeded")
    assert [r.index for r in ok] == [0, 2, 4] and all(r.created for r in ok)
    assert [r.object_pk for r in ok] == [str(Gadget.objects.get(sku=s).pk) for s in ("G00000", "G00002", "G00004")]
    failed = results(job, "failed")
    assert [r.index for r in failed] == [1, 3]
    assert failed[0].errors == {"price": [{"message": "A valid number is required.", "code": "invalid"}]}
    assert failed[1].errors == {"sku": [{"message": "This field is required.", "code": "required"}]}


def test_progress_is_published_at_most_every_interval(alice: Any, django_capture_on_commit_callbacks: Any) -> None:
    with record(job_progress) as seen, django_capture_on_commit_callbacks(execute=True):
        job = processing.run_job(closed_job(alice, gadgets(10)).pk)
    # chunks of 2, interval 4: after 4, 8 and the last record
    assert [p.processed for _, p in seen.calls] == [4, 8, 10]
    assert seen.calls[-1][1].succeeded == 10
    assert progress.get_status(job.pk)["state"] == "JobComplete"
    assert progress.get_status(job.pk)["processed_records"] == 10


def test_a_redelivered_task_resumes_after_the_last_committed_chunk(alice: Any) -> None:
    """The worker died after committing one chunk: the rerun writes the rest, nothing twice."""
    job = closed_job(alice, gadgets(5))
    jobs.transition(job, "InProgress")
    processing.process_chunk(job, processing.build_viewset(job))  # records 0-1 committed, then "the worker died"
    assert BulkJob.objects.get(pk=job.pk).processed_records == 2
    job = processing.run_job(job.pk)
    assert job.state == "JobComplete" and job.attempts == 1
    assert Gadget.objects.count() == 5
    assert [r.index for r in results(job, "succeeded")] == [0, 1, 2, 3, 4]


def test_a_chunk_is_committed_once_whichever_run_gets_to_it(alice: Any) -> None:
    """A stalled run, the delivery that took its chunk over, and a late duplicate: one commit, two no-ops."""
    job = closed_job(alice, gadgets(4))
    jobs.transition(job, "InProgress")
    viewset = processing.build_viewset(job)
    assert fanout.plan(job, viewset) == 2
    stalled = fanout.claim(job.pk, 0, worker="a")  # run A claims chunk 0, then stalls (a long GC, a lost network)
    outcome = processing.process_chunk(job, viewset, 0, worker="b")  # a redelivery takes it over and commits
    assert outcome is not None and (outcome.start, outcome.stop, outcome.succeeded) == (0, 2, 2)
    assert processing.process_chunk(job, viewset, 0, worker="c") is None  # done: a late duplicate does nothing
    with pytest.raises(processing._ChunkConflict), transaction.atomic():
        fanout.hold(stalled)  # run A wakes up: its claim was taken over
    assert Gadget.objects.count() == 2 and BulkJobResult.objects.filter(job=job).count() == 2
    chunk = BulkJobChunk.objects.get(job=job, number=0)
    assert (chunk.state, chunk.worker, chunk.runs, chunk.attempts) == ("done", "b", 2, 2)
    job.refresh_from_db()
    assert (job.processed_records, job.chunks_done, job.retries, job.worker_names) == (2, 1, 1, ["b"])


@pytest.mark.django_db(transaction=True)  # real commits, as in a worker: job_progress is sent after each one
def test_abort_is_honoured_between_chunks(alice: Any) -> None:
    job = closed_job(alice, gadgets(10))

    def abort_after_first_progress(sender: Any, payload: Any) -> None:
        jobs.abort(BulkJob.objects.get(pk=payload.job_id))

    job_progress.connect(abort_after_first_progress)
    try:
        job = processing.run_job(job.pk)
    finally:
        job_progress.disconnect(abort_after_first_progress)
    assert job.state == "Aborted" and job.aborted_at is not None
    assert job.processed_records == 4 and Gadget.objects.count() == 4  # processed rows stay
    assert progress.get_status(job.pk)["state"] == "Aborted"
    unprocessed = BulkJob.objects.get(pk=job.pk).total_records - job.processed_records
    assert (job.processed_records, unprocessed, job.succeeded_records + job.failed_records) == (4, 6, 4)


def test_a_job_whose_every_record_fails_ends_failed(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, [{"name": "x"}, {"name": "y"}, {"sku": "A"}]).pk)
    assert job.state == "Failed"
    assert job.error_message == "all 3 records failed (see results?kind=failed)"
    assert job.failed_records == 3


def test_an_unexpected_error_fails_the_job_with_its_reason(alice: Any) -> None:
    job = closed_job(alice, gadgets(3), viewset="tests.jobs_app.views.ExplodingGadgetViewSet")
    job = processing.run_job(job.pk)
    assert job.state == "Failed"
    assert job.error_message == "unexpected error in records 0-1: RuntimeError: serializer exploded"
    assert job.processed_records == 0 and Gadget.objects.count() == 0


def test_a_missing_viewset_fails_the_job(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, gadgets(1), viewset="tests.jobs_app.views.Gone").pk)
    assert job.state == "Failed" and job.error_message.startswith("cannot set up tests.jobs_app.views.Gone")


def test_an_owner_who_lost_the_permission_fails_the_job(alice: Any) -> None:
    job = closed_job(alice, gadgets(1))
    alice.user_permissions.clear()
    job = processing.run_job(job.pk)
    assert job.state == "Failed"
    assert job.error_message.startswith("the job's owner may not use tests.jobs_app.views.GadgetViewSet")
    assert Gadget.objects.count() == 0


def test_an_empty_job_fails(alice: Any) -> None:
    job = closed_job(alice, [])
    assert processing.run_job(job.pk).error_message == "the job has no records"


def test_a_job_that_keeps_killing_its_worker_is_given_up(alice: Any) -> None:
    job = closed_job(alice, gadgets(1))
    BulkJob.objects.filter(pk=job.pk).update(attempts=processing.MAX_ATTEMPTS)
    job = processing.run_job(job.pk)
    assert job.state == "Failed" and "gave up after 5 attempts" in job.error_message


def test_final_and_unknown_jobs_are_left_alone(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, gadgets(1)).pk)
    assert processing.run_job(job.pk).attempts == 1  # not run again
    assert processing.run_job("00000000-0000-0000-0000-000000000000") is None


def test_the_worker_only_reaches_the_owners_rows(alice: Any, bob: Any) -> None:
    theirs = Gadget.objects.create(owner=bob, sku="BOB1", name="bob's", price="1.00")
    mine = Gadget.objects.create(owner=alice, sku="AL1", name="alice's", price="1.00")
    job = closed_job(
        alice, [{"id": theirs.pk, "name": "hacked"}, {"id": mine.pk, "name": "renamed"}], operation="update"
    )
    job = processing.run_job(job.pk)
    assert job.state == "JobComplete" and (job.succeeded_records, job.failed_records) == (1, 1)
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.name, mine.name) == ("bob's", "renamed")
    assert results(job, "failed")[0].index == 0


def test_delete_and_read_jobs(alice: Any, bob: Any) -> None:
    a, b, c = (Gadget.objects.create(owner=alice, sku=f"S{i}", name="n", price="2.00") for i in range(3))
    theirs = Gadget.objects.create(owner=bob, sku="T", name="n", price="1.00")
    read = processing.run_job(closed_job(alice, [c.pk, theirs.pk, "nope", a.pk], operation="read").pk)
    assert read.state == "JobComplete" and (read.succeeded_records, read.failed_records) == (2, 2)
    assert [(r.index, r.data["sku"]) for r in results(read, "succeeded")] == [(0, "S2"), (3, "S0")]
    assert [(r.index, r.errors["id"][0]["code"]) for r in results(read, "failed")] == [(1, "not_found"), (2, "invalid")]
    delete = processing.run_job(closed_job(alice, [a.pk, {"id": b.pk}, theirs.pk], operation="delete").pk)
    assert (delete.succeeded_records, delete.failed_records) == (2, 1)
    assert list(Gadget.objects.values_list("sku", flat=True)) == ["S2", "T"]


def test_upsert_reports_created_and_updated(alice: Any) -> None:
    Gadget.objects.create(owner=alice, sku="G00001", name="old", price="1.00")
    job = processing.run_job(closed_job(alice, gadgets(3), operation="upsert", unique_fields=["sku"]).pk)
    assert [(r.index, r.created) for r in results(job, "succeeded")] == [(0, True), (1, False), (2, True)]
    assert Gadget.objects.get(sku="G00001").name == "gadget 1" and Gadget.objects.count() == 3


def test_stalled_jobs_are_queued_again(alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any) -> None:
    stalled = closed_job(alice, gadgets(3))
    fresh = closed_job(alice, gadgets(2, start=10))
    old = timezone.now() - timedelta(minutes=11)
    BulkJob.objects.filter(pk=stalled.pk).update(upload_complete_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert processing.requeue_stalled_jobs(timedelta(minutes=10)) == [str(stalled.pk)]
    assert BulkJob.objects.get(pk=stalled.pk).state == "JobComplete"
    assert BulkJob.objects.get(pk=fresh.pk).state == "UploadComplete"


@pytest.mark.django_db(transaction=True)
def test_a_job_deleted_while_it_runs_stops_the_worker_quietly(alice: Any, caplog: Any) -> None:
    """Deleting a running job (admin, owner deleted) stops its worker before the next chunk, without a crash."""
    job = closed_job(alice, gadgets(10))

    def delete_after_first_progress(sender: Any, payload: Any) -> None:
        BulkJob.objects.filter(pk=payload.job_id).delete()

    job_progress.connect(delete_after_first_progress)
    try:
        assert processing.run_job(job.pk) is None
    finally:
        job_progress.disconnect(delete_after_first_progress)
    assert Gadget.objects.count() == 4  # the committed chunks stay, nothing after them was written
    assert not BulkJob.objects.filter(pk=job.pk).exists()
    assert [r.levelname for r in caplog.records if r.name.startswith("bulk_drf")] == ["WARNING"]
    assert progress.get_status(job.pk) is None


FLAKY = "tests.jobs_app.views.FlakyDatabaseGadgetViewSet"


def test_a_lost_database_connection_is_retried_not_a_failed_job(alice: Any) -> None:
    """OperationalError (failover, dropped connection, deadlock) rolls the chunk back and retries the task."""
    job = closed_job(alice, gadgets(6), viewset=FLAKY)
    FlakyDatabaseGadgetViewSet.failures_left = 2
    run_bulk_job.apply(args=[str(job.pk)], throw=False)  # eager: retries run in-process
    job.refresh_from_db()
    assert (job.state, job.processed_records, job.succeeded_records) == ("JobComplete", 6, 6)
    assert Gadget.objects.count() == 6 and FlakyDatabaseGadgetViewSet.failures_left == 0


def test_a_database_that_stays_down_fails_the_job_after_the_retries(alice: Any) -> None:
    job = closed_job(alice, gadgets(6), viewset=FLAKY)
    FlakyDatabaseGadgetViewSet.failures_left = 100
    try:
        run_bulk_job.apply(args=[str(job.pk)], throw=False)  # eager: retries run in-process
    finally:
        left, FlakyDatabaseGadgetViewSet.failures_left = FlakyDatabaseGadgetViewSet.failures_left, 0
    job.refresh_from_db()
    assert job.state == "Failed" and 100 - left == run_bulk_job.max_retries + 1
    assert job.error_message == (
        f"database error in records 0-1, still failing after {run_bulk_job.max_retries} retries: "
        "OperationalError: server closed the connection unexpectedly"
    )
    assert job.processed_records == 0 and Gadget.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_job_at_once_write_each_record_once(alice: Any) -> None:
    """A duplicate delivery (visibility timeout, requeue) running in parallel: the job-row lock serialises them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (SELECT ... FOR UPDATE): run with DATABASE_URL for PostgreSQL")
    job = closed_job(alice, gadgets(60))
    jobs.transition(job, "InProgress")  # both deliveries find it running
    barrier = threading.Barrier(2)
    finished: list[Any] = []

    def worker() -> None:
        try:
            barrier.wait()
            finished.append(processing.run_job(job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(finished) == 2
    job.refresh_from_db()
    assert (job.state, job.processed_records, job.succeeded_records, job.failed_records) == ("JobComplete", 60, 60, 0)
    assert Gadget.objects.count() == 60
    indexes = list(BulkJobResult.objects.filter(job=job).order_by("index").values_list("index", flat=True))
    assert indexes == list(range(60))


def test_object_permissions_are_checked_per_record_in_the_worker(alice: Any) -> None:
    viewset = "tests.jobs_app.views.LockingGadgetViewSet"
    rows = [
        Gadget.objects.create(owner=alice, sku=f"L{i}", name=name, price="1.00")
        for i, name in enumerate(["open", "locked one", "open too"])
    ]
    update = processing.run_job(
        closed_job(alice, [{"id": g.pk, "qty": 7} for g in rows], operation="update", viewset=viewset).pk
    )
    assert (update.state, update.succeeded_records, update.failed_records) == ("JobComplete", 2, 1)
    [refused] = results(update, "failed")
    assert refused.index == 1 and "this gadget is locked" in str(refused.errors)
    assert sorted(Gadget.objects.values_list("name", "qty")) == [("locked one", 0), ("open", 7), ("open too", 7)]
    delete = processing.run_job(closed_job(alice, [g.pk for g in rows], operation="delete", viewset=viewset).pk)
    assert [r.index for r in results(delete, "failed")] == [1]
    assert list(Gadget.objects.values_list("name", flat=True)) == ["locked one"]


class SoftLimitedGadgetViewSet(GadgetViewSet):
    """Celery's soft time limit fires inside the next ``interrupts_left`` chunks (mid-write)."""

    interrupts_left = 0

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if SoftLimitedGadgetViewSet.interrupts_left > 0:
            SoftLimitedGadgetViewSet.interrupts_left -= 1
            raise SoftTimeLimitExceeded()
        return super().get_serializer(*args, **kwargs)


def test_the_soft_time_limit_stops_after_a_committed_chunk_and_the_job_resumes(alice: Any, settings: Any) -> None:
    settings.BULK_DRF_TASK_SOFT_TIME_LIMIT = 1e-9  # spent by the first chunk: one chunk per run
    job = closed_job(alice, gadgets(5))
    cursors = []
    for _ in range(2):
        with pytest.raises(processing.TimeSliceUsed) as stopped:
            processing.run_job(job.pk)
        job.refresh_from_db()
        cursors.append((stopped.value.processed_records, job.processed_records, job.state, Gadget.objects.count()))
    assert cursors == [(2, 2, "InProgress", 2), (4, 4, "InProgress", 4)]
    assert progress.get_status(job.pk)["processed_records"] == 4  # the pause publishes the cursor
    job = processing.run_job(job.pk)  # the last chunk: nothing left to stop for
    assert job.state == "JobComplete" and job.attempts == 1  # a time slice is not a dead worker
    assert sorted(Gadget.objects.values_list("sku", flat=True)) == [f"G0000{i}" for i in range(5)]
    assert [r.index for r in results(job, "succeeded")] == [0, 1, 2, 3, 4] and results(job, "failed") == []


def test_the_task_requeues_itself_at_the_soft_time_limit(
    alice: Any, settings: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    settings.BULK_DRF_TASK_SOFT_TIME_LIMIT = 1e-9
    job = closed_job(alice, gadgets(7))
    with django_capture_on_commit_callbacks(execute=True) as queued:  # eager: re-queued runs execute in-process
        run_bulk_job.apply(args=[str(job.pk)], throw=True)
    assert sum(1 for c in queued if "enqueue" in c.__qualname__) == 3  # runs of records 0-1, 2-3, 4-5 queued the next
    job.refresh_from_db()
    assert (job.state, job.processed_records, job.succeeded_records, job.attempts) == ("JobComplete", 7, 7, 1)
    assert Gadget.objects.count() == 7
    assert [r.index for r in results(job, "succeeded")] == list(range(7))


def test_no_soft_time_limit_by_default_runs_the_job_in_one_go(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, gadgets(7)).pk)
    assert (job.state, job.processed_records, job.attempts) == ("JobComplete", 7, 1)


def test_celerys_soft_time_limit_inside_a_chunk_rolls_it_back_and_requeues(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    job = closed_job(alice, gadgets(5), viewset="tests.test_job_processing.SoftLimitedGadgetViewSet")
    SoftLimitedGadgetViewSet.interrupts_left = 2
    with django_capture_on_commit_callbacks(execute=True) as queued:
        run_bulk_job.apply(args=[str(job.pk)], throw=True)
    assert sum(1 for c in queued if "enqueue" in c.__qualname__) == 2  # each interrupted run queued the next
    job.refresh_from_db()
    assert SoftLimitedGadgetViewSet.interrupts_left == 0
    # the two interrupted runs committed nothing: they count as attempts (see the next test)
    assert (job.state, job.processed_records, job.succeeded_records, job.attempts) == ("JobComplete", 5, 5, 3)
    assert Gadget.objects.count() == 5
    assert [r.index for r in results(job, "succeeded")] == [0, 1, 2, 3, 4]


def test_a_celery_soft_limit_shorter_than_a_chunk_fails_the_job_instead_of_looping(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    job = closed_job(alice, gadgets(5), viewset="tests.test_job_processing.SoftLimitedGadgetViewSet")
    SoftLimitedGadgetViewSet.interrupts_left = 100
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run_bulk_job.apply(args=[str(job.pk)], throw=True)
    finally:
        left, SoftLimitedGadgetViewSet.interrupts_left = SoftLimitedGadgetViewSet.interrupts_left, 0
    job.refresh_from_db()
    assert 100 - left == processing.MAX_ATTEMPTS
    assert (job.state, job.processed_records, Gadget.objects.count()) == ("Failed", 0, 0)
    assert job.error_message.startswith(f"gave up after {processing.MAX_ATTEMPTS} attempts")


def test_a_celery_soft_limit_after_a_committed_chunk_gives_the_attempt_back(alice: Any, monkeypatch: Any) -> None:
    job = closed_job(alice, gadgets(6))
    original, calls = processing.process_chunk, []

    def interrupt_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()
        return original(*args, **kwargs)

    monkeypatch.setattr(processing, "process_chunk", interrupt_the_second_chunk)
    with pytest.raises(SoftTimeLimitExceeded):
        processing.run_job(job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert (job.state, job.processed_records, job.attempts) == ("InProgress", 2, 0)
    job = processing.run_job(job.pk)
    assert (job.state, job.processed_records, job.attempts, Gadget.objects.count()) == ("JobComplete", 6, 1, 6)
