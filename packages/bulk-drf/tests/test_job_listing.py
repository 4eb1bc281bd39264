"""The job list's filters, CSV options (delimiter, line ending) in and out, and cursor paging of any result list."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing
from bulk_drf.models import BulkJob
from django.utils import timezone

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_fixtures import client_for, closed_job, gadgets

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 3


@pytest.fixture
def history(alice: Any, bob: Any) -> dict[str, BulkJob]:
    """Alice's jobs in several states, operations, creation days and viewsets; one of bob's."""
    now = timezone.now()
    made = {
        "open_insert": jobs.create_job(owner=alice, viewset="tests.jobs_app.views.GadgetViewSet", operation="insert"),
        "done_delete": closed_job(alice, [1], operation="delete"),
        "old_update": jobs.create_job(owner=alice, viewset="tests.jobs_app.views.GadgetViewSet", operation="update"),
        "staff_query": jobs.create_job(
            owner=alice, viewset="tests.jobs_app.views.StaffWritesGadgetViewSet", operation="query"
        ),
        "bobs": jobs.create_job(owner=bob, viewset="tests.jobs_app.views.GadgetViewSet", operation="insert"),
    }
    BulkJob.objects.filter(pk=made["old_update"].pk).update(created_at=now - timedelta(days=10))
    BulkJob.objects.filter(pk=made["done_delete"].pk).update(state="JobComplete")
    return made


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def names(history: dict[str, BulkJob], *keys: str) -> set[str]:
    return {str(history[key].pk) for key in keys}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("open_insert", "done_delete", "old_update", "staff_query")),
        ("?state=Open", ("open_insert", "old_update", "staff_query")),
        ("?state=JobComplete,Open&operation=delete", ("done_delete",)),
        ("?operation=insert&operation=update", ("open_insert", "old_update")),
        ("?operation=query", ("staff_query",)),
        ("?created_before=NOW-5", ("old_update",)),
        ("?created_after=NOW-5", ("open_insert", "done_delete", "staff_query")),
        ("?created_after=DAY-20&created_before=DAY-5", ("old_update",)),
    ],
)
def test_the_job_list_filters(alice: Any, history: dict[str, BulkJob], query: str, expected: tuple[str, ...]) -> None:
    now = timezone.now()
    query = query.replace("NOW-5", (now - timedelta(days=5)).isoformat().replace("+", "%2B"))
    query = query.replace("DAY-20", str((now - timedelta(days=20)).date())).replace(
        "DAY-5", str((now - timedelta(days=5)).date())
    )
    assert ids(client_for(alice).get(f"/api/bulk-jobs/{query}")) == names(history, *expected)


def test_a_viewsets_job_list_holds_its_own_jobs(alice: Any, history: dict[str, BulkJob]) -> None:
    client = client_for(alice)
    assert ids(client.get("/gadgets/bulk/jobs/")) == names(history, "open_insert", "done_delete", "old_update")
    assert ids(client.get("/gadgets/bulk/jobs/?state=Open&operation=update")) == names(history, "old_update")
    assert ids(client.get("/staff-gadgets/bulk/jobs/")) == names(history, "staff_query")
    page = client.get("/gadgets/bulk/jobs/?limit=1").json()
    assert page["count"] == 3 and len(page["results"]) == 1 and "offset=1" in page["next"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("state=Done", "state"),
        ("state=Open,", None),  # an empty part is no filter
        ("operation=merge", "operation"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-02-30", "created_before"),
        ("created_after=0001-01-01T00:00:00%2B05:00", "created_after"),  # before year 1 in UTC
        ("created_after=2026-01-01&created_after=2026-01-02", "created_after"),
        ("created_before=9999-12-31T23:59:59-05:00", "created_before"),  # after year 9999 in UTC
    ],
)
@pytest.mark.parametrize("url", ["/api/bulk-jobs/", "/gadgets/bulk/jobs/"])
def test_bad_list_filters_are_a_400_naming_the_parameter(alice: Any, url: str, query: str, name: str | None) -> None:
    response = client_for(alice).get(f"{url}?{query}")
    if name is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert list(response.json()) == [name]


def test_a_csv_upload_is_read_with_the_jobs_delimiter(alice: Any) -> None:
    client = client_for(alice)
    job = client.post(
        "/gadgets/bulk/jobs/", {"operation": "insert", "column_delimiter": "PIPE", "line_ending": "LF"}, format="json"
    ).json()
    assert (job["column_delimiter"], job["line_ending"]) == ("PIPE", "LF")
    body = "sku|name|price\r\nA1|one, with a comma|1.50\nA2|two|2.00\n"
    response = client.put(f"/api/bulk-jobs/{job['id']}/data/", body, content_type="text/csv")
    assert response.status_code == 201, response.content
    stored = BulkJob.objects.get(pk=job["id"])
    assert jobs.load_records(stored, 0, 2) == [
        {"sku": "A1", "name": "one, with a comma", "price": "1.50"},
        {"sku": "A2", "name": "two", "price": "2.00"},
    ]
    comma = client.put(f"/api/bulk-jobs/{job['id']}/data/", "sku,name\nA3,x\n", content_type="text/csv")
    assert comma.status_code == 400  # one column "sku,name": not a field of the serializer


@pytest.mark.parametrize(("delimiter", "char"), [("TAB", "\t"), ("SEMICOLON", ";"), ("CARET", "^"), ("BACKQUOTE", "`")])
def test_a_one_shot_csv_job_takes_the_delimiter_as_a_parameter(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any, delimiter: str, char: str
) -> None:
    body = f"sku{char}name{char}price\nB1{char}one{char}1.00\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(f"/gadgets/bulk/?column_delimiter={delimiter}", body, content_type="text/csv")
    assert response.status_code == 202, response.content
    assert list(Gadget.objects.values_list("sku", "name")) == [("B1", "one")]


def test_a_bad_csv_option_is_a_400_naming_it(alice: Any) -> None:
    client = client_for(alice)
    one_shot = client.post("/gadgets/bulk/?line_ending=CR", "sku\nx\n", content_type="text/csv")
    assert one_shot.status_code == 400 and "line_ending" in one_shot.json()
    staged = client.post("/gadgets/bulk/jobs/", {"operation": "insert", "column_delimiter": ","}, format="json")
    assert staged.status_code == 400 and "column_delimiter" in staged.json()
    assert BulkJob.objects.count() == 0


def test_results_download_as_csv_with_the_jobs_options(alice: Any) -> None:
    job = jobs.create_job(
        owner=alice,
        viewset="tests.jobs_app.views.GadgetViewSet",
        operation="insert",
        column_delimiter="TAB",
        line_ending="LF",
    )
    jobs.add_records(job, [*gadgets(2), {"sku": "bad"}])
    jobs.transition(job, "UploadComplete")
    processing.run_job(job.pk)
    client = client_for(alice)
    failed = client.get(f"/api/bulk-jobs/{job.pk}/results/", {"kind": "failed"}, HTTP_ACCEPT="text/csv")
    text = b"".join(failed.streaming_content).decode()
    assert text.startswith('index\tpk\tcreated\terrors\tdata\n2\t\tFalse\t"{""name""')
    assert "\r" not in text and text.endswith("\n")


def read_all(client: Any, url: str, **params: Any) -> tuple[list[Any], int]:
    rows, locator, pages = [], None, 0
    while True:
        response = client.get(url, {**params, **({"locator": locator} if locator else {})})
        assert response.status_code == 200, response.content
        page = json.loads(b"".join(response.streaming_content))
        rows += page["results"]
        pages += 1
        locator = page["next_locator"]
        if locator is None:
            return rows, pages


@pytest.mark.parametrize("kind", ["succeeded", "failed", "unprocessed"])
def test_every_result_list_pages_by_locator(alice: Any, kind: str, settings: Any) -> None:
    records = [g if i % 3 else {"sku": ""} for i, g in enumerate(gadgets(10))]  # every third fails
    job = closed_job(alice, records)
    jobs.transition(job, "InProgress")
    for _ in range(2):  # two chunks of 3, then abort: 4 records stay unprocessed
        processing.process_chunk(job, processing.build_viewset(job))
    jobs.abort(job)
    client = client_for(alice)
    url = f"/api/bulk-jobs/{job.pk}/results/"
    everything = client.get(url, {"kind": kind, "limit": 100}).json()["results"]
    paged, pages = read_all(client, url, kind=kind, max_records=2)
    assert paged == everything and len(everything) == {"succeeded": 4, "failed": 2, "unprocessed": 4}[kind]
    assert pages == (len(everything) + 1) // 2
    locator = client.get(url, {"kind": kind, "max_records": 1})["Bulk-Locator"]
    other = client.get(url, {"kind": "failed" if kind != "failed" else "succeeded", "locator": locator})
    assert other.status_code == 400 and "locator" in other.json()  # a locator of another list
