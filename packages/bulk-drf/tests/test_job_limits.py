"""Limits in bytes, open jobs and creation rate; uploads parsed as a stream; abandoned Open jobs purged."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from bulk_drf.jobs import retention, tasks
from bulk_drf.jobs.uploads import CSVStreamParser, JSONStreamParser, RecordStream, UploadTooLarge
from bulk_drf.models import BulkJob, BulkJobDataChunk
from bulk_drf.schedule import beat_schedule
from django.core.management import call_command
from django.utils import timezone
from rest_framework.exceptions import ParseError

from tests import jobs_fixtures
from tests.jobs_fixtures import client_for, closed_job, gadgets

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
_clear_cache = jobs_fixtures._clear_cache  # the throttle's history lives in the cache

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 3


def staged(client: Any) -> str:
    response = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def body(records: list[Any]) -> bytes:
    return json.dumps(records).encode()


# -- bytes -------------------------------------------------------------------------------------------------


def test_an_upload_above_max_upload_bytes_is_a_413_naming_the_limit(alice: Any, settings: Any) -> None:
    settings.BULK_DRF_MAX_UPLOAD_BYTES = 500
    client = client_for(alice)
    job_id = staged(client)
    big = body(gadgets(20))
    assert len(big) > 500
    response = client.put(f"/api/bulk-jobs/{job_id}/data/", big, content_type="application/json")
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail.startswith(f"the request body is {len(big)} bytes; BULK_DRF_MAX_UPLOAD_BYTES is 500"), detail
    assert BulkJob.objects.get(pk=job_id).total_records == 0
    one_shot = client.post("/gadgets/bulk/", big, content_type="application/json")
    assert one_shot.status_code == 413 and "BULK_DRF_MAX_UPLOAD_BYTES is 500" in one_shot.json()["detail"]
    assert BulkJob.objects.count() == 1  # no job left behind by the refused one-shot upload
    small = client.put(f"/api/bulk-jobs/{job_id}/data/", body(gadgets(2)), content_type="application/json")
    assert small.status_code == 201


def test_the_byte_limit_holds_without_a_content_length(settings: Any) -> None:
    """A body longer than it claims (or chunked): the bytes are counted while they are read."""
    settings.BULK_DRF_MAX_UPLOAD_BYTES = 300
    with pytest.raises(UploadTooLarge) as refused:
        list(JSONStreamParser().parse(io.BytesIO(body(gadgets(20))), parser_context={}))
    assert refused.value.status_code == 413
    assert "BULK_DRF_MAX_UPLOAD_BYTES is 300" in str(refused.value.detail)


def test_the_uploads_of_one_job_are_capped_by_max_job_bytes(alice: Any, settings: Any) -> None:
    settings.BULK_DRF_MAX_JOB_BYTES = 700
    client = client_for(alice)
    job_id = staged(client)
    url = f"/api/bulk-jobs/{job_id}/data/"
    first = body(gadgets(6))
    assert client.put(url, first, content_type="application/json").status_code == 201
    assert BulkJob.objects.get(pk=job_id).data_bytes == len(first)
    response = client.put(url, body(gadgets(8, start=6)), content_type="application/json")
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert f"on top of the {len(first)} it holds; BULK_DRF_MAX_JOB_BYTES is 700" in detail, detail
    job = BulkJob.objects.get(pk=job_id)
    assert (job.total_records, job.data_bytes) == (6, len(first))  # the refused upload left nothing
    assert BulkJobDataChunk.objects.filter(job=job).count() == 2
    csv_body = "sku,name,price\n" + "".join(f"X{i},n,1.00\n" for i in range(100))
    refused = client.put(url, csv_body, content_type="text/csv")
    assert refused.status_code == 413 and "BULK_DRF_MAX_JOB_BYTES is 700" in refused.json()["detail"]


# -- streaming ---------------------------------------------------------------------------------------------


def test_a_body_cut_off_before_its_content_length_stores_nothing() -> None:
    """A client gone mid-upload: a CSV cut at a line end would parse, so the byte count is checked too."""

    class Request:
        META = {"CONTENT_LENGTH": "1000"}

    data = b"sku,name\nA,b\nC,d\n"
    parsed = CSVStreamParser().parse(io.BytesIO(data), parser_context={"request": Request()})
    with pytest.raises(ParseError, match=f"the request body ended after {len(data)} of its 1000 bytes"):
        list(parsed)


def test_a_json_upload_is_parsed_while_it_is_stored(alice: Any) -> None:
    client = client_for(alice)
    job_id = staged(client)
    records = gadgets(10)
    response = client.put(f"/api/bulk-jobs/{job_id}/data/", body(records), content_type="application/json")
    assert response.status_code == 201 and response.json()["received"] == 10
    chunks = BulkJobDataChunk.objects.filter(job_id=job_id).order_by("start_index")
    assert [(c.start_index, c.count) for c in chunks] == [(0, 3), (3, 3), (6, 3), (9, 1)]
    assert [r for c in chunks for r in c.records] == records


def test_a_stream_is_stored_while_it_is_read_not_after(alice: Any) -> None:
    """What keeps the web process flat: chunks reach the database while later records are still unread."""
    from bulk_drf.jobs import lifecycle as jobs
    from bulk_drf.jobs.uploads import CountingReader

    job = jobs.create_job(owner=alice, viewset=jobs_fixtures.GADGET_VIEWSET, operation="insert")
    stored_when_read: dict[int, int] = {}

    def records() -> Any:
        for i, record in enumerate(gadgets(40)):
            stored_when_read[i] = BulkJobDataChunk.objects.filter(job=job).count()
            yield record

    upload = jobs.add_upload(job, RecordStream(records(), CountingReader(io.BytesIO(b""), 10**6)))
    assert (upload.received, upload.total) == (40, 40)
    # chunks of 3, written 4 chunks (12 records) per INSERT: record 12 is read after the first INSERT
    assert [stored_when_read[i] for i in (0, 11, 12, 24, 39)] == [0, 0, 4, 8, 12]


def test_a_parse_error_deep_in_a_stream_stores_nothing(alice: Any) -> None:
    client = client_for(alice)
    job_id = staged(client)
    broken = body(gadgets(10))[:-40] + b"}, {oops]"
    response = client.put(f"/api/bulk-jobs/{job_id}/data/", broken, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"].startswith("JSON parse error after record ")
    assert BulkJob.objects.get(pk=job_id).total_records == 0
    assert not BulkJobDataChunk.objects.filter(job_id=job_id).exists()
    csv_body = "sku,name\n" + "".join(f"S{i},n\n" for i in range(8)) + "S9,n,extra\n"
    response = client.put(f"/api/bulk-jobs/{job_id}/data/", csv_body, content_type="text/csv")
    assert response.status_code == 400
    assert response.json()["detail"] == "CSV line 10 has 3 cells; the header (line 1) has 2 columns"
    assert not BulkJobDataChunk.objects.filter(job_id=job_id).exists()


def test_non_array_json_and_empty_arrays_keep_their_400s(alice: Any) -> None:
    client = client_for(alice)
    job_id = staged(client)
    url = f"/api/bulk-jobs/{job_id}/data/"
    assert client.put(url, b'{"sku": "x"}', content_type="application/json").json() == {
        "detail": "expected a JSON array of records (or text/csv)"
    }
    assert client.put(url, b"  [ ] ", content_type="application/json").json() == {
        "non_field_errors": ["no records in the request"]
    }
    assert client.put(url, b"[NaN]", content_type="application/json").status_code == 400
    assert client.post("/gadgets/bulk/", b"[]", content_type="application/json").status_code == 400
    assert BulkJob.objects.count() == 1


def test_csv_lines_split_across_reads(settings: Any) -> None:
    """Lines (and a \\r\\n, and a quoted cell spanning lines) cut by the 64 KiB reads parse as one."""
    filler = "x" * 70_000  # pushes the interesting bytes over the first read's end
    text = f'sku,name\r\nA,"{filler}"\r\nB,"two\r\nlines"\r\nC,é\rD,last'
    for cut in (65_536 - 20, 65_536 - 1, 65_536):
        data = text.encode()
        assert len(data) > cut
        stream = JSONlessStream(data)
        parsed = CSVStreamParser().parse(stream, parser_context={})
        assert isinstance(parsed, RecordStream) and parsed.columns == ["sku", "name"]
        assert list(parsed) == [
            {"sku": "A", "name": filler},
            {"sku": "B", "name": "two\r\nlines"},
            {"sku": "C", "name": "é"},
            {"sku": "D", "name": "last"},
        ]


class JSONlessStream(io.BytesIO):
    """A request stream that hands out at most what is asked (as a socket does)."""


def test_a_bad_byte_far_into_a_csv_names_its_line() -> None:
    data = b"sku,name\n" + b"".join(b"S%d,n\n" % i for i in range(20_000)) + b"T,caf\xe9\n"
    parsed = CSVStreamParser().parse(io.BytesIO(data), parser_context={})
    with pytest.raises(ParseError) as refused:
        list(parsed)
    assert str(refused.value.detail).startswith("CSV line 20002 is not valid utf-8: byte 0xe9")


# -- open jobs and creation rate ---------------------------------------------------------------------------


def test_a_user_may_have_max_open_jobs_unfinished_jobs(alice: Any, bob: Any, settings: Any) -> None:
    settings.BULK_DRF_MAX_OPEN_JOBS = 2
    client = client_for(alice)
    first, _second = staged(client), staged(client)
    refused = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("you have 2 unfinished bulk jobs; BULK_DRF_MAX_OPEN_JOBS is 2.")
    one_shot = client.post("/gadgets/bulk/", gadgets(2), format="json")
    assert one_shot.status_code == 429 and BulkJob.objects.filter(owner=alice).count() == 2
    assert staged(client_for(bob))  # per user
    client.patch(f"/api/bulk-jobs/{first}/", {"state": "Aborted"}, format="json")
    assert staged(client)  # a finished job frees its place


def test_job_creation_is_throttled_with_the_bulk_drf_jobs_scope(alice: Any, bob: Any, settings: Any) -> None:
    settings.BULK_DRF_JOB_CREATE_RATE = "2/minute"
    client = client_for(alice)
    staged(client)
    assert client.post("/gadgets/bulk/", gadgets(1), format="json").status_code == 202
    throttled = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json")
    assert throttled.status_code == 429 and "Retry-After" in throttled
    assert client.delete("/gadgets/bulk/?ids=1").status_code == 429
    assert client.get("/api/bulk-jobs/").status_code == 200  # only job creation is throttled
    assert staged(client_for(bob))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"bulk_drf_jobs": "5/minute"}}
    assert staged(client)  # the DRF setting of the scope wins over BULK_DRF_JOB_CREATE_RATE


def test_the_throttle_lets_requests_through_when_the_cache_is_down(alice: Any, settings: Any) -> None:
    from bulk_drf.throttles import BulkJobCreateThrottle
    from rest_framework.throttling import SimpleRateThrottle

    settings.BULK_DRF_JOB_CREATE_RATE = "1/minute"
    saved = SimpleRateThrottle.cache
    from django.core.cache import caches

    BulkJobCreateThrottle.cache = caches["down"]
    try:
        client = client_for(alice)
        assert staged(client) and staged(client)
    finally:
        BulkJobCreateThrottle.cache = saved


# -- abandoned Open jobs, the reaper's schedule ------------------------------------------------------------


def test_open_jobs_idle_past_the_ttl_are_aborted_and_their_data_deleted(alice: Any, settings: Any) -> None:
    settings.BULK_DRF_OPEN_JOB_TTL = 3600
    client = client_for(alice)
    idle, busy, fresh = staged(client), staged(client), staged(client)
    for job_id in (idle, busy):
        client.put(f"/api/bulk-jobs/{job_id}/data/", body(gadgets(4)), content_type="application/json")
    long_ago = timezone.now() - timedelta(hours=2)
    BulkJob.objects.filter(pk=idle).update(created_at=long_ago, last_upload_at=long_ago)
    BulkJob.objects.filter(pk=busy).update(created_at=long_ago)  # created long ago, uploaded just now
    done = closed_job(alice, gadgets(2))
    BulkJob.objects.filter(pk=done.pk).update(created_at=long_ago)
    assert retention.abandoned_jobs() == [idle]
    report = retention.purge_abandoned_jobs()
    assert (report.jobs, report.data_chunks) == (1, 2)
    job = BulkJob.objects.get(pk=idle)
    assert job.state == "Aborted" and job.results_purged_at is not None
    assert job.error_message == "abandoned: Open with no upload for 3600s (BULK_DRF_OPEN_JOB_TTL)"
    assert not BulkJobDataChunk.objects.filter(job_id=idle).exists()
    assert {BulkJob.objects.get(pk=pk).state for pk in (busy, fresh)} == {"Open"}
    assert BulkJob.objects.get(pk=done.pk).state == "UploadComplete"
    assert tasks.purge_abandoned_jobs.apply().get() == {"jobs": 0, "results": 0, "data_chunks": 0}


def test_the_purge_command_also_aborts_abandoned_jobs(alice: Any) -> None:
    job_id = staged(client_for(alice))
    BulkJob.objects.filter(pk=job_id).update(created_at=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("bulk_drf_purge", stdout=out)
    expected = "aborted 1 Open jobs idle for more than 86400s and deleted their 0 data chunks"
    assert out.getvalue().splitlines()[1] == expected


def test_the_beat_schedule_ships_the_reaper_and_the_purges() -> None:
    schedule = beat_schedule(requeue_every=30)
    assert schedule["bulk-drf-requeue-stalled-jobs"] == {"task": "bulk_drf.requeue_stalled_jobs", "schedule": 30.0}
    assert {entry["task"] for entry in schedule.values()} == {
        "bulk_drf.requeue_stalled_jobs",
        "bulk_drf.purge_expired_results",
        "bulk_drf.purge_abandoned_jobs",
    }
    from celery import current_app

    assert {entry["task"] for entry in schedule.values()} <= set(current_app.tasks)


def test_the_reaper_and_the_worker_ready_hook_requeue_stalled_jobs(
    alice: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from celery.signals import worker_ready

    settings.BULK_DRF_STALE_AFTER = 60
    stalled, _recent = closed_job(alice, gadgets(1)), closed_job(alice, gadgets(1))
    BulkJob.objects.filter(pk=stalled.pk).update(upload_complete_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks() as sent:
        assert tasks.requeue_stalled_jobs.apply().get() == [str(stalled.pk)]
    assert len(sent) == 1
    assert tasks.requeue_on_worker_ready in [r() for _, r in worker_ready.receivers]
    with django_capture_on_commit_callbacks() as sent:
        worker_ready.send(sender=None)
    assert len(sent) == 1


def test_the_checks_refuse_bad_limits(settings: Any) -> None:
    from bulk_drf.checks import check_settings

    assert check_settings() == []
    settings.BULK_DRF_MAX_UPLOAD_BYTES = 0
    settings.BULK_DRF_MAX_OPEN_JOBS = 0
    settings.BULK_DRF_JOB_CREATE_RATE = "lots"
    problems = check_settings()
    assert [p.id for p in problems] == ["bulk_drf.E001"] * 3
    assert ["BULK_DRF_MAX_UPLOAD_BYTES" in problems[0].msg, "BULK_DRF_MAX_OPEN_JOBS" in problems[1].msg] == [True] * 2
    assert problems[2].msg == "BULK_DRF_JOB_CREATE_RATE must be None or a rate such as '120/minute', got 'lots'."
    settings.BULK_DRF_MAX_UPLOAD_BYTES, settings.BULK_DRF_MAX_OPEN_JOBS = 1, None
    settings.BULK_DRF_JOB_CREATE_RATE = None
    assert check_settings() == []
