"""BULK_DRF_RESULTS_TTL: the results and data of long-finished jobs are purged; the job rows stay."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing, retention, tasks
from bulk_drf.models import BulkJob, BulkJobChunk, BulkJobDataChunk, BulkJobResult
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests import jobs_fixtures
from tests.jobs_fixtures import client_for, closed_job, gadgets

alice = jobs_fixtures.alice
eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 2
    settings.BULK_DRF_RESULTS_TTL = 7 * 86_400


def finished(owner: Any, *, days_ago: float, prefix: str, records: int = 3) -> BulkJob:
    """A completed job of ``records`` gadgets whose completion is ``days_ago`` days in the past."""
    job = processing.run_job(closed_job(owner, gadgets(records, prefix=prefix)).pk)
    assert job.state == "JobComplete"
    BulkJob.objects.filter(pk=job.pk).update(completed_at=timezone.now() - days_ago * DAY)
    return job


def rows_of(job: BulkJob) -> tuple[int, int]:
    return BulkJobResult.objects.filter(job=job).count(), BulkJobDataChunk.objects.filter(job=job).count()


@pytest.fixture
def mixed(alice: Any) -> dict[str, BulkJob]:
    """Jobs of every kind around the 7-day TTL."""
    old = finished(alice, days_ago=8, prefix="A")
    recent = finished(alice, days_ago=6, prefix="B")
    old_failed = closed_job(alice, gadgets(2, prefix="C"))
    jobs.transition(old_failed, "Failed", error_message="boom")
    old_aborted = closed_job(alice, gadgets(2, prefix="D"))
    jobs.abort(old_aborted)
    running = closed_job(alice, gadgets(4, prefix="E"))
    jobs.transition(running, "InProgress")
    processing.process_chunk(running, processing.build_viewset(running))
    long_ago = timezone.now() - 30 * DAY
    BulkJob.objects.filter(pk=old_failed.pk).update(failed_at=long_ago)
    BulkJob.objects.filter(pk=old_aborted.pk).update(aborted_at=long_ago)
    BulkJob.objects.filter(pk=running.pk).update(started_at=long_ago, upload_complete_at=long_ago)
    return {"old": old, "recent": recent, "old_failed": old_failed, "old_aborted": old_aborted, "running": running}


def test_only_jobs_finished_before_the_ttl_lose_their_results_and_data(
    mixed: dict[str, BulkJob], django_assert_num_queries: Any
) -> None:
    before = {name: rows_of(job) for name, job in mixed.items()}
    assert before == {"old": (3, 2), "recent": (3, 2), "old_failed": (0, 1), "old_aborted": (0, 1), "running": (2, 2)}
    # select the expired jobs, then per batch: savepoint, 3 deletes (results, data, processing chunks), 1 stamp,
    # release
    with django_assert_num_queries(7):
        report = retention.purge_expired_results()
    assert (report.jobs, report.results, report.data_chunks) == (3, 3, 4)
    after = {name: rows_of(job) for name, job in mixed.items()}
    assert not BulkJobChunk.objects.filter(job__in=[mixed["old"], mixed["old_failed"]]).exists()
    assert BulkJobChunk.objects.filter(job=mixed["running"]).exists()
    assert after == {"old": (0, 0), "recent": (3, 2), "old_failed": (0, 0), "old_aborted": (0, 0), "running": (2, 2)}
    stamped = dict(BulkJob.objects.values_list("pk", "results_purged_at"))
    assert {name for name, job in mixed.items() if stamped[job.pk] is not None} == {"old", "old_failed", "old_aborted"}
    assert BulkJob.objects.count() == 5  # the job rows stay
    assert retention.purge_expired_results().jobs == 0  # nothing left to do


def test_the_ttl_comes_from_the_setting(mixed: dict[str, BulkJob], settings: Any) -> None:
    settings.BULK_DRF_RESULTS_TTL = 5 * 86_400
    assert sorted(retention.expired_jobs()) == sorted(
        str(mixed[name].pk) for name in ("old", "recent", "old_failed", "old_aborted")
    )
    assert retention.expired_jobs(timedelta(days=60)) == []


def test_a_dry_run_counts_and_deletes_nothing(mixed: dict[str, BulkJob]) -> None:
    report = retention.purge_expired_results(dry_run=True)
    assert (report.jobs, report.results, report.data_chunks) == (3, 3, 4)
    assert rows_of(mixed["old"]) == (3, 2)
    assert not BulkJob.objects.exclude(results_purged_at=None).exists()


def test_purged_results_and_aggregates_answer_410_and_the_status_stays(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the final status is cached on commit
        job = finished(alice, days_ago=8, prefix="A")
    assert client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()["results_purged_at"] is None  # cached
    with django_capture_on_commit_callbacks(execute=True):
        retention.purge_expired_results()
    client = client_for(alice)
    response = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=succeeded")
    assert response.status_code == 410
    assert response.json()["detail"].startswith("the results of this job were deleted on ")
    assert "(BULK_DRF_RESULTS_TTL is 604800s)" in response.json()["detail"]
    assert client.get(f"/api/bulk-jobs/{job.pk}/aggregates/?count=*").status_code == 410
    status = client.get(f"/api/bulk-jobs/{job.pk}/").json()
    assert (status["state"], status["succeeded_records"]) == ("JobComplete", 3)
    # the status (cached before the purge) says when the results went
    job.refresh_from_db()
    assert datetime.fromisoformat(status["results_purged_at"]) == job.results_purged_at


def test_the_management_command(mixed: dict[str, BulkJob]) -> None:
    out = io.StringIO()
    call_command("bulk_drf_purge", "--dry-run", stdout=out)
    assert out.getvalue() == "would delete 3 results and 4 data chunks of 3 jobs finished more than 604800s ago\n"
    out = io.StringIO()
    call_command("bulk_drf_purge", "--ttl", str(5 * 86_400), stdout=out)
    assert out.getvalue() == "deleted 6 results and 6 data chunks of 4 jobs finished more than 432000s ago\n"
    assert rows_of(mixed["recent"]) == (0, 0) and rows_of(mixed["running"]) == (2, 2)
    with pytest.raises(CommandError, match="--ttl must be 0 or more seconds, got -1"):
        call_command("bulk_drf_purge", "--ttl", "-1")


def test_the_celery_task(mixed: dict[str, BulkJob], eager_celery: None) -> None:
    assert tasks.purge_expired_results.delay().get() == {"jobs": 3, "results": 3, "data_chunks": 4}
    assert tasks.purge_expired_results.delay(ttl_seconds=0).get() == {"jobs": 1, "results": 3, "data_chunks": 2}
    assert rows_of(mixed["running"]) == (2, 2)
