"""Jobs survive their dependencies blinking: a cache that does not answer, database connections that drop."""

from __future__ import annotations

from typing import Any

import pytest
from bulk_drf.jobs import processing, progress
from bulk_drf.models import BulkJob
from bulk_drf.tasks import run_bulk_job
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_app.views import DroppingDatabaseGadgetViewSet
from tests.jobs_fixtures import client_for, closed_job, gadgets

alice = jobs_fixtures.alice

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

DROPPING = "tests.jobs_app.views.DroppingDatabaseGadgetViewSet"


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 2
    settings.BULK_DRF_PROGRESS_UPDATE_INTERVAL = 2


@pytest.fixture
def cache_down(settings: Any) -> None:
    """Job progress goes to a Redis that refuses every connection (the ``down`` cache of tests/settings.py)."""
    settings.BULK_DRF_CACHE_ALIAS = "down"


def test_a_cache_that_does_not_answer_neither_fails_nor_strands_a_running_job(
    alice: Any, cache_down: None, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Issue 10.2: ``publish_progress`` raised ConnectionError outside the chunk handling, the task ended."""
    job = closed_job(alice, gadgets(7))
    with django_capture_on_commit_callbacks(execute=True):
        run_bulk_job.apply(args=[str(job.pk)], throw=True)
    job.refresh_from_db()
    assert (job.state, job.processed_records, job.succeeded_records) == ("JobComplete", 7, 7)
    assert Gadget.objects.count() == 7
    warnings = [r.getMessage() for r in caplog.records if r.name == "bulk_drf.progress"]
    assert warnings and all("the database stays the record" in w for w in warnings)


def test_the_status_endpoint_reads_the_job_row_while_the_cache_is_down(alice: Any, cache_down: None) -> None:
    job = processing.run_job(closed_job(alice, gadgets(3)).pk)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["processed_records"], body["total_records"]) == ("JobComplete", 3, 3)
    assert len(queries) == 1  # the job row (force_authenticate: no user query)


def test_uploading_and_closing_a_job_while_the_cache_is_down_answers_normally(
    alice: Any, cache_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    job_id = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.put(f"/api/bulk-jobs/{job_id}/data/", gadgets(3), format="json").status_code == 201
        closed = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "UploadComplete"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"


def test_a_lost_final_status_write_is_not_cached_for_long(alice: Any) -> None:
    """A status document of an unfinished job lives RUNNING_TIMEOUT seconds: a lost final write heals soon."""
    from django.core.cache import caches

    job = closed_job(alice, gadgets(2))
    progress.publish_status(job)
    expiry = caches["default"]._expire_info[caches["default"].make_and_validate_key(progress.cache_key(job.pk))]
    import time

    assert expiry - time.time() <= progress.RUNNING_TIMEOUT
    done = processing.run_job(job.pk)
    progress.publish_status(done)
    expiry = caches["default"]._expire_info[caches["default"].make_and_validate_key(progress.cache_key(job.pk))]
    assert expiry - time.time() > progress.RUNNING_TIMEOUT


def test_the_retry_budget_counts_consecutive_failures_only(alice: Any) -> None:
    """Issue 10.4: four drops, each after progress, used to fail the job ("still failing after 3 retries")."""
    job = closed_job(alice, gadgets(24), viewset=DROPPING)  # 12 chunks
    DroppingDatabaseGadgetViewSet.calls = 0
    DroppingDatabaseGadgetViewSet.drop_on = frozenset({3, 6, 9, 12, 15})  # every third chunk, five times
    try:
        run_bulk_job.apply(args=[str(job.pk)], throw=False)  # eager: retries run in-process
    finally:
        DroppingDatabaseGadgetViewSet.drop_on = frozenset()
    job.refresh_from_db()
    assert (job.state, job.error_message) == ("JobComplete", "")
    assert (job.processed_records, job.succeeded_records) == (24, 24)
    assert Gadget.objects.count() == 24


def test_failures_at_one_cursor_still_fail_the_job_after_the_budget(alice: Any) -> None:
    """Progress, then four failures in a row at one cursor: the budget (3 retries) is spent there."""
    job = closed_job(alice, gadgets(10), viewset=DROPPING)
    DroppingDatabaseGadgetViewSet.calls = 0
    DroppingDatabaseGadgetViewSet.drop_on = frozenset({2, 3, 4, 5})  # chunk 2, then each of its retries
    try:
        run_bulk_job.apply(args=[str(job.pk)], throw=False)
    finally:
        DroppingDatabaseGadgetViewSet.drop_on = frozenset()
    job.refresh_from_db()
    assert job.state == "Failed" and job.processed_records == 2
    assert job.error_message == (
        "database error in records 2-3, still failing after 3 retries: "
        "OperationalError: server closed the connection unexpectedly"
    )
    assert BulkJob.objects.get(pk=job.pk).succeeded_records == 2
