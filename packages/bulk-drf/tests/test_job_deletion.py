"""Deleting a job while one of its chunks commits, dispatches or purges: its result rows (no database foreign
key: ``jobs.deletion``) and its other rows never outlive it, and nothing deadlocks or fails. Threads with their own
connections: PostgreSQL's row locks."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from bulk_drf.jobs import fanout, processing, retention
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.models import BulkJob, BulkJobChunk, BulkJobDataChunk, BulkJobResult, BulkJobResultPage
from django.db import connection, connections, transaction
from django.utils import timezone

from tests import jobs_fixtures
from tests.jobs_app.models import ArchivedJob, Gadget
from tests.jobs_app.views import GadgetViewSet
from tests.jobs_fixtures import closed_job, gadgets

alice = jobs_fixtures.alice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL"),
]

WAIT = 30  # seconds: a test that would hang fails instead


class PausingGadgetViewSet(GadgetViewSet):
    """Writes a chunk's rows, then waits, inside the chunk's transaction (before its results and its commit)."""

    written = threading.Event()
    go_on = threading.Event()

    def perform_bulk_create(self, instances: list[Gadget]) -> list[Gadget]:
        created = Gadget.objects.bulk_create(instances)
        type(self).written.set()
        assert type(self).go_on.wait(WAIT)
        return created


def in_thread(work: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def started_job(owner: Any, viewset: str | None = None) -> BulkJob:
    job = closed_job(owner, gadgets(3), **({"viewset": viewset} if viewset else {}))
    jobs.transition(job, "InProgress")
    fanout.plan(job, processing.build_viewset(job))
    return BulkJob.objects.get(pk=job.pk)


def test_a_job_deleted_while_a_chunk_works_waits_for_its_commit_and_takes_its_results(alice: Any) -> None:
    """The chunk holds its chunk row until it commits: the deletion (deleting chunk rows) waits, then deletes the
    results it committed."""
    PausingGadgetViewSet.written.clear()
    PausingGadgetViewSet.go_on.clear()
    job = started_job(alice, "tests.test_job_deletion.PausingGadgetViewSet")
    chunk, chunk_errors = in_thread(lambda: processing.process_chunk(job, processing.build_viewset(job)))
    assert PausingGadgetViewSet.written.wait(WAIT)  # the chunk's rows are written, not committed
    deletion, deletion_errors = in_thread(lambda: BulkJob.objects.get(pk=job.pk).delete())
    deletion.join(0.3)
    assert deletion.is_alive()  # waiting for the chunk, before deleting any result
    PausingGadgetViewSet.go_on.set()
    chunk.join(WAIT)
    deletion.join(WAIT)
    assert (chunk_errors, deletion_errors) == ([], [])
    assert not BulkJob.objects.filter(pk=job.pk).exists()
    assert not BulkJobResult.objects.filter(job_id=job.pk).exists()
    assert Gadget.objects.count() == 3  # the chunk's work stays: deleting a job deletes its records, not its rows


def test_a_chunk_starting_while_its_job_is_deleted_writes_nothing(alice: Any) -> None:
    job = started_job(alice)
    deleting, finish = threading.Event(), threading.Event()

    def deletion() -> None:
        with transaction.atomic():
            BulkJob.objects.get(pk=job.pk).delete()
            deleting.set()
            assert finish.wait(WAIT)

    deletion_thread, deletion_errors = in_thread(deletion)
    assert deleting.wait(WAIT)
    chunk, chunk_errors = in_thread(lambda: processing.process_chunk(job, processing.build_viewset(job)))
    chunk.join(0.3)
    finish.set()
    deletion_thread.join(WAIT)
    chunk.join(WAIT)
    assert deletion_errors == []
    assert [type(e) for e in chunk_errors] in ([], [BulkJob.DoesNotExist])  # nothing to claim, or the job gone
    assert not BulkJobResult.objects.filter(job_id=job.pk).exists()
    assert not Gadget.objects.exists()


def write_result(job: BulkJob) -> None:
    processing.store_results(job, [processing.ResultRow(0, "succeeded", "1", True)])


def write_page(job: BulkJob) -> None:
    BulkJobResultPage.objects.create(job_id=job.pk, start_index=0, count=1, rows="{}", resume="1")


def write_data(job: BulkJob) -> None:
    BulkJobDataChunk.objects.create(job_id=job.pk, start_index=100, count=1, records=[{"sku": "late"}])


@pytest.mark.parametrize("write", [write_result, write_page, write_data])
@pytest.mark.parametrize("model", [BulkJob, ArchivedJob])
def test_rows_a_writer_commits_while_its_job_is_deleted_go_with_the_job(alice: Any, write: Any, model: Any) -> None:
    """A writer holding the job row when the deletion starts (a chunk in ``commit_chunk``, an export page with its
    counters, an upload) commits rows after Django deleted that table's: the deletion, waiting at the job row,
    deletes them too. Before: a result row stayed without its job, and a page or a data chunk (deferred foreign
    keys) made the deletion fail with an IntegrityError. Through a proxy model as through BulkJob."""
    job = started_job(alice)
    locked, commit = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            BulkJob.objects.select_for_update(no_key=True).filter(pk=job.pk).values_list("pk").first()
            write(job)
            locked.set()
            assert commit.wait(WAIT)

    writer_thread, writer_errors = in_thread(writer)
    assert locked.wait(WAIT)
    deletion_thread, deletion_errors = in_thread(lambda: model.objects.get(pk=job.pk).delete())
    deletion_thread.join(0.3)
    assert deletion_thread.is_alive()  # waiting for the writer's lock on the job row
    commit.set()
    writer_thread.join(WAIT)
    deletion_thread.join(WAIT)
    assert (writer_errors, deletion_errors) == ([], [])
    assert not BulkJob.objects.filter(pk=job.pk).exists()
    for related in (BulkJobResult, BulkJobResultPage, BulkJobDataChunk, BulkJobChunk):
        assert not related.objects.filter(job_id=job.pk).exists(), related


def test_results_committed_while_django_collects_them_are_deleted_too(alice: Any) -> None:
    """A ``post_delete`` receiver of any model makes Django read the results before deleting them; a chunk that
    commits after that still loses its results with the job."""
    from django.db.models.signals import post_delete

    def audit(**kwargs: Any) -> None:
        pass

    post_delete.connect(audit)
    try:
        test_a_job_deleted_while_a_chunk_works_waits_for_its_commit_and_takes_its_results(alice)
    finally:
        post_delete.disconnect(audit)


def holding_the_job_row(job: BulkJob) -> Any:
    """Another transaction holding the job row (``FOR SHARE``) until ``release()``: it orders who waits on whom."""
    held, go = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {BulkJob._meta.db_table} WHERE id = %s FOR SHARE", [job.pk])
            held.set()
            assert go.wait(WAIT)

    thread, errors = in_thread(hold)
    assert held.wait(WAIT)

    def release() -> None:
        go.set()
        thread.join(WAIT)
        assert errors == []

    return release


def test_the_reaper_resending_chunks_while_a_job_is_deleted_does_not_deadlock(alice: Any) -> None:
    """The reaper's dispatch waits for the job row, the deletion has the chunk rows and waits for the job row
    too: the dispatch, first in line, then skips the chunk rows the deletion holds (it used to wait: deadlock)."""
    job = started_job(alice)
    BulkJobChunk.objects.filter(job_id=job.pk).update(state="queued", queued_at=None, started_at=None)
    release = holding_the_job_row(job)
    dispatch, dispatch_errors = in_thread(lambda: fanout.dispatch(job.pk, resend_after=0))
    dispatch.join(0.3)
    deletion, deletion_errors = in_thread(lambda: BulkJob.objects.get(pk=job.pk).delete())
    deletion.join(0.3)
    release()
    dispatch.join(WAIT)
    deletion.join(WAIT)
    assert (dispatch_errors, deletion_errors) == ([], [])
    assert not BulkJob.objects.filter(pk=job.pk).exists()


def expired_job(owner: Any, results: int) -> BulkJob:
    """A job completed 30 days ago with ``results`` result rows: the results purge (a 1-day TTL) takes it."""
    job = started_job(owner)
    processing.store_results(job, [processing.ResultRow(i, "succeeded", str(i), True) for i in range(results)])
    BulkJob.objects.filter(pk=job.pk).update(state="JobComplete", completed_at=timezone.now() - timedelta(days=30))
    return job


def test_purging_results_while_a_job_is_deleted_does_not_deadlock(alice: Any) -> None:
    """The deletion first (waiting at the job row), then the purge."""
    job = expired_job(alice, 1)
    release = holding_the_job_row(job)
    deletion, deletion_errors = in_thread(lambda: BulkJob.objects.get(pk=job.pk).delete())
    deletion.join(0.3)
    purge, purge_errors = in_thread(lambda: retention.purge_expired_results(timedelta(days=1)))
    purge.join(0.3)
    release()
    deletion.join(WAIT)
    purge.join(WAIT)
    assert (deletion_errors, purge_errors) == ([], [])
    assert not BulkJobResult.objects.filter(job_id=job.pk).exists()


def test_a_job_deleted_while_its_results_are_purged_does_not_deadlock(alice: Any) -> None:
    """The purge, first, waits on a result row another transaction holds; the deletion starts meanwhile. Both
    delete a job's tables in Django's order, so one waits for the other (the purge used to delete results first,
    and the two deadlocked)."""
    job = expired_job(alice, 3)
    held, go = threading.Event(), threading.Event()
    last = BulkJobResult.objects.filter(job_id=job.pk).order_by("-index").values_list("pk", flat=True).first()

    def lock_one_result() -> None:
        with transaction.atomic():
            list(BulkJobResult.objects.select_for_update().filter(pk=last).order_by().values_list("pk"))
            held.set()
            assert go.wait(WAIT)

    holder, holder_errors = in_thread(lock_one_result)
    assert held.wait(WAIT)
    purge, purge_errors = in_thread(lambda: retention.purge_expired_results(timedelta(days=1)))
    purge.join(0.5)  # waiting on the held result row
    deletion, deletion_errors = in_thread(lambda: BulkJob.objects.get(pk=job.pk).delete())
    deletion.join(0.5)
    go.set()
    for thread in (holder, purge, deletion):
        thread.join(WAIT)
    assert (holder_errors, purge_errors, deletion_errors) == ([], [], [])
    assert not BulkJob.objects.filter(pk=job.pk).exists()
    assert not BulkJobResult.objects.filter(job_id=job.pk).exists()
