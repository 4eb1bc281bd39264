"""Query (export) jobs: ``POST /things/bulk/export/`` with the viewset's own filters and field selection, the
worker's pages, and their download by locator as JSON, CSV and NDJSON."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from bulk_drf.jobs import export, lifecycle, processing, runner
from bulk_drf.models import BulkJob, BulkJobResult, BulkJobResultPage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_fixtures import client_for, make_user

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

COLOURS = ["blue", "red", "blue", "green", "blue", "red", "blue"]


@pytest.fixture(autouse=True)
def _small_pages(settings: Any) -> None:
    settings.BULK_DRF_EXPORT_PAGE_SIZE = 2


@pytest.fixture
def stock(alice: Any, bob: Any) -> list[Gadget]:
    mine = [
        Gadget.objects.create(owner=alice, sku=f"S{i}", name=f"{colour} {i}", price=Decimal(f"{(i * 7) % 5}.25"), qty=i)
        for i, colour in enumerate(COLOURS)
    ]
    Gadget.objects.create(owner=bob, sku="B1", name="blue of bob", price=1, qty=1)  # never alice's
    return mine


def start(user: Any, url: str, body: Any = None) -> BulkJob:
    response = client_for(user).post(url, body, format="json")
    assert response.status_code == 202, response.content
    answer = response.json()  # the job's status document (one spelling: id, absolute URLs; job_id deprecated)
    assert answer["job_id"] == answer["id"] and answer["operation"] == "query"
    assert answer["status_url"] == response["Location"] == f"http://testserver/api/bulk-jobs/{answer['id']}/"
    return BulkJob.objects.get(pk=answer["id"])


def run(job: BulkJob) -> BulkJob:
    done = runner.run_job(job.pk)
    assert done is not None
    return done


def rows_of(user: Any, job: BulkJob, **params: Any) -> list[dict[str, Any]]:
    """Every row of a finished export, page after page, following the locators."""
    client, rows, locator = client_for(user), [], None
    while True:
        query = {**params, **({"locator": locator} if locator else {})}
        response = client.get(f"/api/bulk-jobs/{job.pk}/results/", query)
        assert response.status_code == 200, response.content
        page = json.loads(b"".join(response.streaming_content))
        rows += page["results"]
        assert response["Bulk-Locator"] == (page["next_locator"] or "null")
        locator = page["next_locator"]
        if locator is None:
            return rows


def listed(user: Any, url: str) -> list[dict[str, Any]]:
    response = client_for(user).get(url)
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.parametrize("ordering", ["", "id", "-id", "-price,sku", "qty"])
def test_an_export_holds_what_the_list_shows_with_the_same_filters(alice: Any, stock: Any, ordering: str) -> None:
    query = f"?search=blue&ordering={ordering}" if ordering else "?search=blue"
    job = run(start(alice, f"/searchable-gadgets/bulk/export/{query}"))
    assert (job.state, job.operation, job.total_records, job.succeeded_records) == ("JobComplete", "query", 4, 4)
    assert rows_of(alice, job) == listed(alice, f"/searchable-gadgets/{query}")
    assert rows_of(alice, job, max_records=3) == listed(alice, f"/searchable-gadgets/{query}")
    assert BulkJobResultPage.objects.filter(job=job).count() == 2  # EXPORT_PAGE_SIZE rows a page


@pytest.mark.parametrize("query", ["?price__gte=2&price__lte=4", "?qty__in=1,3,5&sku=S3", "?sku=nope"])
def test_django_filter_filters_an_export_as_it_filters_the_list(alice: Any, stock: Any, query: str) -> None:
    job = run(start(alice, f"/filtered-gadgets/bulk/export/{query}"))
    assert rows_of(alice, job) == listed(alice, f"/filtered-gadgets/{query}")


def test_django_filters_400_for_a_bad_value_comes_before_any_job(alice: Any) -> None:
    response = client_for(alice).post("/filtered-gadgets/bulk/export/?price__gte=cheap")
    assert response.status_code == 400 and list(response.json()) == ["price__gte"]
    assert BulkJob.objects.count() == 0


@pytest.mark.parametrize("viewset", ["searchable-gadgets", "labelled-gadgets"])  # JSON plan; DRF's own rows
def test_ndjson_lines_are_drfs_json_text_of_each_row(alice: Any, stock: Any, viewset: str) -> None:
    Gadget.objects.create(owner=alice, sku="U1", name='naïve "quoted" ☃ \u2028', price="9.99")
    job = run(start(alice, f"/{viewset}/bulk/export/"))
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/", {"format": "ndjson"})
    lines = b"".join(response.streaming_content).decode().split("\n")
    assert lines.pop() == ""
    assert lines == [JSONRenderer().render(row).decode() for row in listed(alice, f"/{viewset}/")]


def test_fields_keep_the_columns_asked_for(alice: Any, stock: Any) -> None:
    job = run(start(alice, "/searchable-gadgets/bulk/export/?ordering=-qty&fields=price,sku"))
    assert job.query["columns"] == ["price", "sku"] and job.query["filters"] == [["ordering", "-qty"]]
    assert rows_of(alice, job)[:2] == [{"sku": "S6", "price": "2.25"}, {"sku": "S5", "price": "0.25"}]
    body = run(start(alice, "/searchable-gadgets/bulk/export/", {"fields": ["qty"]}))
    assert [row["qty"] for row in rows_of(alice, body)] == list(range(7))


def test_a_serializer_with_method_fields_is_rendered_by_drf(alice: Any, stock: Any) -> None:
    job = run(start(alice, "/labelled-gadgets/bulk/export/?ordering=-price"))
    assert rows_of(alice, job) == listed(alice, "/labelled-gadgets/?ordering=-price")
    assert rows_of(alice, job)[0]["label"] == "blue 2 (S2)"


def test_an_export_reads_the_owners_rows_only(alice: Any, bob: Any, stock: Any) -> None:
    job = run(start(bob, "/searchable-gadgets/bulk/export/"))
    assert [row["sku"] for row in rows_of(bob, job)] == ["B1"]
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/")
    assert response.status_code == 404  # another user's job does not exist for alice


def test_ids_export_those_rows_in_the_order_asked_and_report_the_missing_ones(
    alice: Any, stock: Any, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    first, third = stock[0].pk, stock[2].pk
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).get(f"/gadgets/bulk/?ids={third},999999,{first},{third}")
    assert response.status_code == 202 and response.json()["operation"] == "query"
    job = BulkJob.objects.get(pk=response.json()["id"])
    assert (job.state, job.total_records, job.succeeded_records, job.failed_records) == ("JobComplete", 3, 2, 1)
    assert [row["id"] for row in rows_of(alice, job)] == [third, first]
    failed = BulkJobResult.objects.get(job=job, kind="failed")
    assert (failed.index, failed.errors["id"][0]["code"]) == (1, "not_found")
    body = run(start(alice, "/gadgets/bulk/export/", {"ids": [first, str(third)], "fields": ["sku"]}))
    assert rows_of(alice, body) == [{"sku": "S0"}, {"sku": "S2"}]


def test_pages_download_as_csv_and_ndjson_with_the_jobs_options(alice: Any, stock: Any) -> None:
    url = "/searchable-gadgets/bulk/export/?ordering=id&fields=sku,name,price&column_delimiter=SEMICOLON&line_ending=LF"
    job = run(start(alice, url))
    assert (job.column_delimiter, job.line_ending) == ("SEMICOLON", "LF")
    client = client_for(alice)
    page = client.get(f"/api/bulk-jobs/{job.pk}/results/", {"max_records": 3}, HTTP_ACCEPT="text/csv")
    text = b"".join(page.streaming_content).decode()
    assert page["Content-Type"] == "text/csv; charset=utf-8"
    assert text == "sku;name;price\nS0;blue 0;0.25\nS1;red 1;2.25\nS2;blue 2;4.25\n"
    rest = client.get(f"/api/bulk-jobs/{job.pk}/results/", {"format": "csv", "locator": page["Bulk-Locator"]})
    lines = b"".join(rest.streaming_content).decode().split("\n")
    assert lines[0] == "sku;name;price" and lines[1].startswith("S3;") and len(lines) == 6 and lines[-1] == ""
    assert rest["Bulk-Locator"] == "null"
    ndjson = client.get(f"/api/bulk-jobs/{job.pk}/results/", {"format": "ndjson", "max_records": 2})
    assert ndjson["Content-Type"] == "application/x-ndjson"
    assert [json.loads(line) for line in b"".join(ndjson.streaming_content).decode().splitlines()] == [
        {"sku": "S0", "name": "blue 0", "price": "0.25"},
        {"sku": "S1", "name": "red 1", "price": "2.25"},
    ]


def test_a_locator_is_stable_and_pages_can_be_read_again(alice: Any, stock: Any) -> None:
    job = run(start(alice, "/searchable-gadgets/bulk/export/?fields=sku"))
    client = client_for(alice)
    first = client.get(f"/api/bulk-jobs/{job.pk}/results/", {"max_records": 4})
    locator = first["Bulk-Locator"]
    again = [b"".join(client.get(f"/api/bulk-jobs/{job.pk}/results/", {"locator": locator}).streaming_content)]
    again.append(b"".join(client.get(f"/api/bulk-jobs/{job.pk}/results/", {"locator": locator}).streaming_content))
    assert again[0] == again[1]
    assert [row["sku"] for row in json.loads(again[0])["results"]] == ["S4", "S5", "S6"]


@pytest.mark.parametrize("ordering", ["id", "-price,sku"])  # keyset pages, one streamed cursor
def test_an_export_stopped_after_a_page_resumes_after_it(alice: Any, stock: Any, settings: Any, ordering: str) -> None:
    job = start(alice, f"/searchable-gadgets/bulk/export/?ordering={ordering}")
    settings.BULK_DRF_TASK_SOFT_TIME_LIMIT = 0  # stop after each committed page, as a time slice does
    for _ in range(3):
        with pytest.raises(processing.TimeSliceUsed):
            runner.run_job(job.pk)
    settings.BULK_DRF_TASK_SOFT_TIME_LIMIT = None
    done = run(job)
    assert (done.state, done.succeeded_records, done.attempts) == ("JobComplete", 7, 1)
    assert rows_of(alice, done) == listed(alice, f"/searchable-gadgets/?ordering={ordering}")


def test_an_aborted_export_keeps_the_pages_it_stored(alice: Any, stock: Any, settings: Any) -> None:
    job = start(alice, "/searchable-gadgets/bulk/export/")
    settings.BULK_DRF_TASK_SOFT_TIME_LIMIT = 0
    with pytest.raises(processing.TimeSliceUsed):
        runner.run_job(job.pk)
    lifecycle.abort(BulkJob.objects.get(pk=job.pk))
    stopped = run(job)
    assert (stopped.state, stopped.succeeded_records) == ("Aborted", 2)
    assert [row["sku"] for row in rows_of(alice, stopped)] == ["S0", "S1"]


def test_the_worker_reads_a_page_with_one_query_and_commits_it_with_one_statement(alice: Any, stock: Any) -> None:
    job = start(alice, "/searchable-gadgets/bulk/export/?ordering=id")
    BulkJob.objects.filter(pk=job.pk).update(state="InProgress")
    exporter = export.Exporter(BulkJob.objects.get(pk=job.pk))
    pages = exporter.pages()  # the first call counts the rows (one query)
    with CaptureQueriesContext(connection) as queries:
        next(pages)
    # On PostgreSQL (these columns are rendered by it: pg_render) one statement: SELECT the page's rows rendered and
    # joined, UPDATE the job's cursor and counters (conditional: it also locks the row) setting synchronous_commit
    # off for the transaction, INSERT the page from the UPDATE's row. Elsewhere SELECT the rows; then one
    # transaction (a savepoint inside the test's): the UPDATE, then the INSERT.
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    statements = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
    expected = ["WITH"] if connection.vendor == "postgresql" else ["SELECT", "UPDATE", "INSERT"]
    assert statements == expected
    job.refresh_from_db()
    assert (job.processed_records, job.succeeded_records) == (2, 2)
    assert list(BulkJobResultPage.objects.filter(job=job).values_list("start_index", "count", "resume")) == [
        (0, 2, str(stock[1].pk))
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")  # still in the test's transaction: SET LOCAL's value
            assert cursor.fetchone() == ("off",)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("render_in_database", [True, False])
def test_on_postgresql_a_page_is_one_statement_committed_without_waiting_for_its_flush(
    alice: Any, stock: Any, render_in_database: bool
) -> None:
    """Rendered by PostgreSQL (pg_render), the page's rows never leave it: one statement reads, renders and stores
    them. Rendered in Python: one SELECT, then one statement stores the page."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement page of PostgreSQL")
    job = start(alice, "/searchable-gadgets/bulk/export/?ordering=id")
    BulkJob.objects.filter(pk=job.pk).update(state="InProgress")
    pages = export.Exporter(BulkJob.objects.get(pk=job.pk), render_in_database=render_in_database).pages()
    with CaptureQueriesContext(connection) as queries:
        next(pages)
    expected = ["WITH"] if render_in_database else ["SELECT", "WITH"]
    assert [q["sql"].split()[0] for q in queries.captured_queries] == expected
    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)  # set for the page's own transaction only
    assert BulkJobResultPage.objects.filter(job=job).count() == 1
    assert BulkJob.objects.get(pk=job.pk).processed_records == 2


def test_a_second_run_of_the_same_export_stops_before_writing(alice: Any, stock: Any) -> None:
    job = start(alice, "/searchable-gadgets/bulk/export/")
    BulkJob.objects.filter(pk=job.pk).update(state="InProgress")
    first, second = (export.Exporter(BulkJob.objects.get(pk=job.pk)) for _ in range(2))
    next(first.pages())
    with pytest.raises(export._Stopped):
        next(second.pages())  # its cursor (0) is not the job's (2) any more
    assert list(BulkJobResultPage.objects.filter(job=job).values_list("start_index", "count")) == [(0, 2)]


def test_a_download_reads_one_stored_page_per_query(alice: Any, stock: Any) -> None:
    job = run(start(alice, "/searchable-gadgets/bulk/export/"))
    client = client_for(alice)
    response = client.get(f"/api/bulk-jobs/{job.pk}/results/", {"format": "ndjson"})
    with CaptureQueriesContext(connection) as queries:
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == 7
    assert len(queries) == 4  # the 4 pages of 2, 2, 2 and 1 rows


@pytest.mark.parametrize(
    ("url", "body", "name"),
    [
        ("/searchable-gadgets/bulk/export/?fields=sku,nope", None, "fields"),
        ("/searchable-gadgets/bulk/export/", {"fields": ["owner"]}, "fields"),  # write-only: never rendered
        ("/searchable-gadgets/bulk/export/", {"fields": "sku"}, "fields"),
        ("/searchable-gadgets/bulk/export/?column_delimiter=SPACE", None, "column_delimiter"),
        ("/searchable-gadgets/bulk/export/", {"line_ending": "CR"}, "line_ending"),
        ("/searchable-gadgets/bulk/export/", {"ids": []}, "ids"),
        ("/searchable-gadgets/bulk/export/?ids=", None, "ids"),
        ("/searchable-gadgets/bulk/export/?search=a%00b", None, "search"),
    ],
)
def test_bad_export_requests_are_a_400_naming_the_field(alice: Any, url: str, body: Any, name: str) -> None:
    response = client_for(alice).post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert name in response.json()
    assert BulkJob.objects.count() == 0


def test_bad_ids_and_bodies_are_refused(alice: Any) -> None:
    client = client_for(alice)
    bad = client.post("/gadgets/bulk/export/", {"ids": [1, 2.5]}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["index"] == 1
    assert client.post("/gadgets/bulk/export/", [1, 2], format="json").status_code == 400
    assert BulkJob.objects.count() == 0


def test_an_export_needs_read_permission_only(django_user_model: Any, stock: Any) -> None:
    reader = make_user(django_user_model, "reader", perms=("view",))
    assert client_for(reader).post("/gadgets/bulk/export/").status_code == 202
    assert client_for(reader).post("/gadgets/", {"sku": "x"}, format="json").status_code == 403


def test_the_results_of_a_running_export_wait_for_its_end(alice: Any, stock: Any) -> None:
    job = start(alice, "/gadgets/bulk/export/")
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "the results of a query job are available once the job is finished (JobComplete, Failed or Aborted); "
        "it is UploadComplete"
    )


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"format": "xml"}, "format"),
        ({"locator": "garbage"}, "locator"),
        ({"locator": "czUuMDAwMDAwMDA"}, "locator"),  # well formed, another job's
        ({"max_records": "0"}, "max_records"),
        ({"max_records": "-1"}, "max_records"),
        ({"offset": "2"}, "offset"),
        ({"kind": "all"}, "kind"),
        ({"locator": "x", "limit": "2"}, "locator"),
    ],
)
def test_bad_result_requests_are_a_400_naming_the_parameter(
    alice: Any, stock: Any, params: dict[str, str], name: str
) -> None:
    job = run(start(alice, "/gadgets/bulk/export/"))
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/", params)
    assert response.status_code == 400, response.content
    assert name in json.loads(b"".join(getattr(response, "streaming_content", [response.content])))


def test_the_status_shows_the_query(alice: Any, stock: Any) -> None:
    job = run(start(alice, "/searchable-gadgets/bulk/export/?search=blue&search=red&fields=sku"))
    status = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()
    assert status["query"] == {"filters": {"search": ["blue", "red"]}, "fields": ["sku"], "ids": None}
    assert status["operation"] == "query" and status["dry_run"] is False


def test_csv_cells_of_an_export_are_neutralised(alice: Any) -> None:
    Gadget.objects.create(owner=alice, sku="=1+2", name="@SUM(A1)", price=1)
    job = run(start(alice, "/gadgets/bulk/export/?fields=sku,name"))
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["sku", "name"], ["'=1+2", "'@SUM(A1)"]]


def test_the_results_purge_deletes_an_exports_pages(alice: Any, stock: Any) -> None:
    from bulk_drf.jobs.retention import purge_expired_results
    from django.utils import timezone

    job = run(start(alice, "/gadgets/bulk/export/"))
    report = purge_expired_results(now=timezone.now() + timezone.timedelta(days=30))
    assert (report.jobs, report.results) == (1, 4)
    assert BulkJobResultPage.objects.count() == 0
    assert client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/").status_code == 410
