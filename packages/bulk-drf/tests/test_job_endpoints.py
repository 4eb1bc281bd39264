"""The job API: one-shot and staged jobs, status (from the cache), results, aggregates, ownership, limits."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from bulk_drf.aggregates import register_aggregate
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing, progress
from bulk_drf.models import BulkJob, BulkJobDataChunk
from django.db.models import Sum

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_fixtures import client_for, closed_job, gadgets, make_user

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
eager_celery = jobs_fixtures.eager_celery
staff = jobs_fixtures.staff

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 3


def test_one_shot_post_answers_202_and_the_queued_job_runs(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post("/gadgets/bulk/", gadgets(7), format="json")
    assert response.status_code == 202
    body = response.json()
    job = BulkJob.objects.get(pk=body["id"])
    # The job's status document, as the staged route and the job resource answer it, plus the deprecated job_id.
    assert body["job_id"] == body["id"] == str(job.pk)
    assert (body["state"], body["operation"], body["total_records"]) == ("UploadComplete", "insert", 7)
    assert body["dry_run"] is False
    assert body["status_url"] == f"http://testserver/api/bulk-jobs/{job.pk}/"
    assert body["results_url"] == f"http://testserver/api/bulk-jobs/{job.pk}/results/"
    assert response["Location"] == body["status_url"]
    chunks = BulkJobDataChunk.objects.filter(job=job).values_list("start_index", "count")
    assert list(chunks) == [(0, 3), (3, 3), (6, 1)]
    assert job.state == "JobComplete" and Gadget.objects.filter(owner=alice).count() == 7
    status = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()
    assert (status["state"], status["succeeded_records"], status["percentage"]) == ("JobComplete", 7, 100.0)


def test_every_job_response_names_the_job_id_and_gives_an_absolute_status_url(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    """One spelling across /bulk/, /bulk/jobs/ and the job resource: "id" and absolute URLs."""
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        one_shot = client.post("/gadgets/bulk/", gadgets(2), format="json")
    staged = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json")
    job_id = staged.json()["id"]
    uploaded = client.put(f"/api/bulk-jobs/{job_id}/data/", gadgets(2, start=10), format="json")
    closed = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "Aborted"}, format="json")
    done = one_shot.json()["id"]
    status_from_row = client.get(f"/api/bulk-jobs/{job_id}/")  # the cache holds paths, the answer absolute URLs
    listed = client.get("/api/bulk-jobs/").json()["results"]
    aggregated = client.get(f"/api/bulk-jobs/{done}/aggregates/?count=*")
    documents = [one_shot.json(), staged.json(), closed.json(), status_from_row.json(), *listed]
    for document in documents:
        assert document["status_url"] == f"http://testserver/api/bulk-jobs/{document['id']}/", document
        assert document["results_url"] == f"http://testserver/api/bulk-jobs/{document['id']}/results/", document
    assert staged["Location"] == staged.json()["status_url"]
    assert uploaded.json()["id"] == job_id
    assert aggregated.json() == {"id": done, "aggregates": {"count__*": 2}, "job_id": done}  # job_id: deprecated


@pytest.mark.parametrize(
    ("method", "query", "operation", "partial"),
    [("patch", "", "update", True), ("put", "", "update", False), ("post", "?unique_fields=sku", "upsert", True)],
)
def test_one_shot_methods_pick_the_operation(
    alice: Any, method: str, query: str, operation: str, partial: bool
) -> None:
    response = getattr(client_for(alice), method)(f"/gadgets/bulk/{query}", [{"id": 1, "sku": "x"}], format="json")
    assert response.status_code == 202
    job = BulkJob.objects.get(pk=response.json()["id"])
    assert (job.operation, job.partial, job.state) == (operation, partial, "UploadComplete")


def test_one_shot_delete_and_read_take_ids(alice: Any) -> None:
    client = client_for(alice)
    read = client.get("/gadgets/bulk/?ids=3,1,2,1")
    assert read.status_code == 202 and read.json()["operation"] == "query"  # an export of those rows
    assert BulkJob.objects.get(pk=read.json()["id"]).query["ids"] == ["3", "1", "2"]
    delete = client.delete("/gadgets/bulk/", [5, 6], format="json")
    assert delete.status_code == 202 and BulkJob.objects.get(pk=delete.json()["id"]).operation == "delete"
    assert client.get("/gadgets/bulk/").json() == {"ids": ["give the ids, e.g. ?ids=1,2,3"]}


def test_one_shot_rejects_non_arrays_and_empty_arrays(alice: Any) -> None:
    client = client_for(alice)
    assert client.post("/gadgets/bulk/", {"sku": "x"}, format="json").status_code == 400
    empty = client.post("/gadgets/bulk/", [], format="json")
    assert empty.status_code == 400 and empty.json() == {"non_field_errors": ["no records in the request"]}
    assert BulkJob.objects.count() == 0


def test_max_records_is_a_413(alice: Any, settings: Any) -> None:
    settings.BULK_DRF_MAX_RECORDS = 5
    client = client_for(alice)
    response = client.post("/gadgets/bulk/", gadgets(6), format="json")
    assert response.status_code == 413 and "BULK_DRF_MAX_RECORDS is 5" in response.json()["detail"]
    job = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()
    assert client.put(f"/api/bulk-jobs/{job['id']}/data/", gadgets(4), format="json").status_code == 201
    too_many = client.put(f"/api/bulk-jobs/{job['id']}/data/", gadgets(2, start=4), format="json")
    assert too_many.status_code == 413
    assert too_many.json() == {"detail": "the job would hold 6 records; BULK_DRF_MAX_RECORDS is 5"}
    assert BulkJob.objects.get(pk=job["id"]).total_records == 4


def test_staged_job_json_and_csv_uploads_then_close(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    created = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json")
    assert created.status_code == 201
    job_id = created.json()["id"]
    assert created.json()["state"] == "Open" and created.json()["target"] == "tests.jobs_app.views.GadgetViewSet"
    assert client.put(f"/api/bulk-jobs/{job_id}/data/", gadgets(2), format="json").json()["total_records"] == 2
    csv_body = "sku,name,price,qty\nC1,from csv,3.25,4\nC2,second,1.00,\n"
    uploaded = client.put(f"/api/bulk-jobs/{job_id}/data/", csv_body, content_type="text/csv")
    assert uploaded.status_code == 201 and uploaded.json()["total_records"] == 4
    assert jobs.load_records(BulkJob.objects.get(pk=job_id), 2, 4) == [
        {"sku": "C1", "name": "from csv", "price": "3.25", "qty": "4"},
        {"sku": "C2", "name": "second", "price": "1.00"},  # empty cells are left out
    ]
    with django_capture_on_commit_callbacks(execute=True):
        closed = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "UploadComplete"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    assert BulkJob.objects.get(pk=job_id).state == "JobComplete"
    assert Gadget.objects.get(sku="C2").qty == 0 and Gadget.objects.get(sku="C1").price == Decimal("3.25")


def test_malformed_csv_is_a_400_naming_the_line(alice: Any) -> None:
    client = client_for(alice)
    job_id = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()["id"]
    url = f"/api/bulk-jobs/{job_id}/data/"

    def refused(body: str | bytes, content_type: str = "text/csv") -> str:
        response = client.put(url, body, content_type=content_type)
        assert response.status_code == 400, response.content
        return response.json()["detail"]

    assert refused("sku,name\nA,b,extra\n") == "CSV line 2 has 3 cells; the header (line 1) has 2 columns"
    # a short row used to be accepted with its missing cells silently dropped
    assert refused("sku,name,qty\nA,b,1\nB,c\n") == "CSV line 3 has 2 cells; the header (line 1) has 3 columns"
    # line numbers count lines, also past a quoted cell that spans two lines and a blank line
    assert refused('sku,name\nA,"two\nlines"\n\nB\n') == "CSV line 5 has 1 cells; the header (line 1) has 2 columns"
    assert refused("sku,name\nA,b\n\xe9t\xe9,c\n".encode("latin-1")).startswith(
        "CSV line 3 is not valid utf-8: byte 0xe9"
    )
    assert refused("sku,name,sku\nA,b,c\n") == "CSV line 1 (the header) names the column 'sku' twice"
    assert refused("sku,,qty\nA,b,1\n") == "CSV line 1 (the header): column 2 has no name"
    assert refused("sku,prcie\nA,1\n") == (
        "CSV line 1 (the header): 'prcie' is not a field of GadgetSerializer; it takes id, name, price, qty, sku"
    )
    header_only = client.put(url, "sku,name\n", content_type="text/csv")
    assert header_only.status_code == 400 and header_only.json() == {"non_field_errors": ["no records in the request"]}
    assert BulkJob.objects.get(pk=job_id).total_records == 0


def test_csv_from_excel_with_a_byte_order_mark_and_latin1_charset(alice: Any) -> None:
    client = client_for(alice)
    job_id = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()["id"]
    url = f"/api/bulk-jobs/{job_id}/data/"
    bom = client.put(url, "\ufeffsku,name\nA,b\n".encode(), content_type="text/csv")
    assert bom.status_code == 201, bom.content
    latin = client.put(url, "sku,name\nB,caf\xe9\n".encode("latin-1"), content_type="text/csv; charset=latin-1")
    assert latin.status_code == 201, latin.content
    assert jobs.load_records(BulkJob.objects.get(pk=job_id), 0, 2) == [
        {"sku": "A", "name": "b"},
        {"sku": "B", "name": "caf\xe9"},
    ]


def test_staged_upsert_needs_unique_fields(alice: Any) -> None:
    response = client_for(alice).post("/gadgets/bulk/jobs/", {"operation": "upsert"}, format="json")
    assert response.status_code == 400 and response.json() == {"unique_fields": ["an upsert job needs unique_fields"]}


def test_viewset_permissions_are_checked_for_the_jobs_operation(django_user_model: Any) -> None:
    adder = make_user(django_user_model, "adder", perms=("add",))
    client = client_for(adder)
    assert client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").status_code == 201
    assert client.post("/gadgets/bulk/jobs/", {"operation": "delete"}, format="json").status_code == 403
    assert client.delete("/gadgets/bulk/?ids=1").status_code == 403
    assert client.patch("/gadgets/bulk/", [{"id": 1}], format="json").status_code == 403
    assert BulkJob.objects.filter(owner=adder).count() == 1


def test_anonymous_users_get_no_jobs() -> None:
    from rest_framework.test import APIClient

    assert APIClient().post("/gadgets/bulk/", gadgets(1), format="json").status_code in (401, 403)
    assert APIClient().get("/api/bulk-jobs/").status_code in (401, 403)


def test_only_the_owner_or_staff_sees_a_job(alice: Any, bob: Any, staff: Any) -> None:
    job = closed_job(alice, gadgets(2))
    other = client_for(bob)
    for response in (
        other.get(f"/api/bulk-jobs/{job.pk}/"),
        other.patch(f"/api/bulk-jobs/{job.pk}/", {"state": "Aborted"}, format="json"),
        other.put(f"/api/bulk-jobs/{job.pk}/data/", gadgets(1), format="json"),
        other.get(f"/api/bulk-jobs/{job.pk}/results/"),
        other.get(f"/api/bulk-jobs/{job.pk}/aggregates/?count=*"),
    ):
        assert response.status_code == 404
    progress.publish_status(job)  # the cached path checks the owner too
    assert other.get(f"/api/bulk-jobs/{job.pk}/").status_code == 404
    assert client_for(staff).get(f"/api/bulk-jobs/{job.pk}/").json()["id"] == str(job.pk)
    assert client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()["owner"] == alice.pk
    assert BulkJob.objects.get(pk=job.pk).state == "UploadComplete"


def test_list_shows_only_ones_own_jobs(alice: Any, bob: Any, staff: Any) -> None:
    mine = [closed_job(alice, gadgets(1)).pk for _ in range(2)]
    closed_job(bob, gadgets(1))
    listed = client_for(alice).get("/api/bulk-jobs/").json()
    assert listed["count"] == 2 and listed["next"] is None and listed["previous"] is None
    assert [j["id"] for j in listed["results"]] == [str(pk) for pk in reversed(mine)]  # newest first
    assert client_for(staff).get("/api/bulk-jobs/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_list_is_paginated_newest_first(alice: Any, bob: Any, django_assert_num_queries: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    made = [closed_job(alice, gadgets(1)) for _ in range(5)]
    closed_job(bob, gadgets(1))
    now = timezone.now()
    for age, job in enumerate(reversed(made)):  # distinct timestamps: made[-1] is the newest
        BulkJob.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=age))
    newest_first = [str(job.pk) for job in reversed(made)]
    client = client_for(alice)
    with django_assert_num_queries(2):  # COUNT + one page
        page = client.get("/api/bulk-jobs/?limit=2&offset=1").json()
    assert page["count"] == 5
    assert [j["id"] for j in page["results"]] == newest_first[1:3]
    assert page["next"] == "http://testserver/api/bulk-jobs/?limit=2&offset=3"
    assert page["previous"] == "http://testserver/api/bulk-jobs/?limit=2"
    everything = client.get("/api/bulk-jobs/").json()
    assert [j["id"] for j in everything["results"]] == newest_first


def test_list_limit_defaults_to_50_and_is_capped_at_500(alice: Any) -> None:
    from bulk_drf.jobs.views import BulkJobPagination

    assert (BulkJobPagination.default_limit, BulkJobPagination.max_limit) == (50, 500)
    BulkJob.objects.bulk_create(
        [BulkJob(owner=alice, viewset=jobs_fixtures.GADGET_VIEWSET, operation="insert") for _ in range(501)]
    )
    client = client_for(alice)
    default = client.get("/api/bulk-jobs/").json()
    assert default["count"] == 501 and len(default["results"]) == 50
    assert default["next"] == "http://testserver/api/bulk-jobs/?limit=50&offset=50"
    capped = client.get("/api/bulk-jobs/?limit=10000").json()
    assert len(capped["results"]) == 500 and capped["next"].endswith("?limit=500&offset=500")


def test_unknown_and_malformed_job_ids_are_404(alice: Any) -> None:
    client = client_for(alice)
    assert client.get("/api/bulk-jobs/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/api/bulk-jobs/not-a-job/").status_code == 404
    # shapes the route's regex lets through but that are no UUID: 404, never a 500 from UUIDField
    for malformed in ("-" * 36, "a" * 33, "0000000-00000-0000-0000-000000000000", "A" * 36):
        for url in (
            f"/api/bulk-jobs/{malformed}/",
            f"/api/bulk-jobs/{malformed}/results/",
            f"/api/bulk-jobs/{malformed}/aggregates/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.patch(f"/api/bulk-jobs/{malformed}/", {"state": "Aborted"}, format="json").status_code == 404
        assert client.put(f"/api/bulk-jobs/{malformed}/data/", [{"sku": "x"}], format="json").status_code == 404


def test_polling_a_running_job_makes_no_query(alice: Any, django_assert_num_queries: Any) -> None:
    job = closed_job(alice, gadgets(6))
    jobs.transition(job, "InProgress")
    processing.process_chunk(job, processing.build_viewset(job))
    progress.publish_progress(job)
    client = client_for(alice)  # force_authenticate: session/token auth would add their own lookup
    with django_assert_num_queries(0):
        status = client.get(f"/api/bulk-jobs/{job.pk}/").json()
    assert (status["state"], status["processed_records"], status["percentage"]) == ("InProgress", 3, 50.0)


def test_a_flushed_cache_is_rebuilt_from_the_database(alice: Any, django_assert_num_queries: Any) -> None:
    job = closed_job(alice, gadgets(1))
    progress.forget(job.pk)
    with django_assert_num_queries(1):
        assert client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()["state"] == "UploadComplete"
    assert progress.get_status(job.pk)["state"] == "UploadComplete"


def _run(owner: Any, records: list[Any], **kwargs: Any) -> BulkJob:
    return processing.run_job(closed_job(owner, records, **kwargs).pk)


def test_results_by_kind_paginated(alice: Any) -> None:
    records = gadgets(5)
    records[2]["price"] = "x"
    job = _run(alice, records)
    client = client_for(alice)
    page = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=succeeded&limit=2").json()
    assert page["count"] == 4 and [r["index"] for r in page["results"]] == [0, 1]
    assert "offset=2" in page["next"] and "limit=2" in page["next"] and page["previous"] is None
    first = page["results"][0]
    assert first["created"] is True and first["pk"] == str(Gadget.objects.get(sku="G00000").pk)
    page2 = client.get(page["next"]).json()
    assert [r["index"] for r in page2["results"]] == [3, 4]
    failed = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=failed").json()
    assert failed["results"] == [
        {
            "index": 2,
            "pk": None,  # JSON null: a failed record has no row (it used to be "")
            "created": False,
            "data": None,
            "errors": {"price": [{"message": "A valid number is required.", "code": "invalid"}]},
        }
    ]
    assert client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=weird").status_code == 400
    bad_limit = client.get(f"/api/bulk-jobs/{job.pk}/results/?limit=ten")
    rule = "is not a count (ASCII digits, at most 15 of them)"
    assert bad_limit.status_code == 400 and bad_limit.json() == {"limit": [f"'ten' {rule}"]}
    assert client.get(f"/api/bulk-jobs/{job.pk}/results/?offset=-").json() == {"offset": [f"'-' {rule}"]}


def test_unprocessed_results_after_abort(alice: Any) -> None:
    job = closed_job(alice, gadgets(5))
    jobs.transition(job, "InProgress")
    processing.process_chunk(job, processing.build_viewset(job))
    jobs.abort(job)
    body = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed").json()
    assert body["count"] == 2 and [r["index"] for r in body["results"]] == [3, 4]
    assert body["results"][0]["data"]["sku"] == "G00003"


def test_results_as_csv(alice: Any) -> None:
    records = gadgets(2)
    records[1]["price"] = "cheap"
    job = _run(alice, records)
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/?kind=failed", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["index"], json.loads(r["errors"])) for r in rows] == [
        ("1", {"price": [{"message": "A valid number is required.", "code": "invalid"}]})
    ]
    assert text.splitlines()[1].startswith("1,,False,")  # no row: an empty pk cell


def _csv(response: Any) -> str:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode()


def test_empty_csv_results_still_have_their_header_row(alice: Any) -> None:
    job = _run(alice, gadgets(2))
    client = client_for(alice)
    failed = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=failed", HTTP_ACCEPT="text/csv")
    assert _csv(failed) == "index,pk,created,errors,data\r\n"
    unprocessed = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed", HTTP_ACCEPT="text/csv")
    assert _csv(unprocessed) == "index\r\n"


def test_unprocessed_csv_has_every_column_of_every_record(alice: Any) -> None:
    records: list[Any] = [{"sku": "A"}, {"sku": "B"}, {"sku": "C", "name": "c"}, {"qty": 1, "sku": "D"}]
    job = closed_job(alice, records)
    jobs.abort(job)
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed", HTTP_ACCEPT="text/csv")
    assert _csv(response) == "index,sku,name,qty\r\n0,A,,\r\n1,B,,\r\n2,C,c,\r\n3,D,,1\r\n"


@register_aggregate("stock_value")
def stock_value(queryset: Any, job: BulkJob) -> str:
    return str(sum(g.price * g.qty for g in queryset))


def test_aggregates_over_the_jobs_rows(alice: Any, django_assert_max_num_queries: Any) -> None:
    Gadget.objects.create(owner=alice, sku="OLD", name="not in the job", price="100.00", qty=100)
    job = _run(alice, gadgets(4))  # prices 0.50, 1.50, 2.50, 3.50; qty 0..3
    client = client_for(alice)
    got = client.get(f"/api/bulk-jobs/{job.pk}/aggregates/?sum=price,qty&avg=price&count=*&min=qty&max=qty").json()
    numbers = {key: Decimal(value) if isinstance(value, str) else value for key, value in got["aggregates"].items()}
    assert numbers == {
        "sum__price": Decimal("8"),
        "sum__qty": 6,
        "avg__price": Decimal("2"),
        "count__*": 4,
        "min__qty": 0,
        "max__qty": 3,
    }
    assert Gadget.objects.filter(owner=alice).aggregate(s=Sum("qty"))["s"] == 106
    posted = client.post(
        f"/api/bulk-jobs/{job.pk}/aggregates/", {"custom": ["stock_value"], "count": "*"}, format="json"
    ).json()
    assert posted["aggregates"] == {"count__*": 4, "stock_value": "17.00"}


def test_aggregates_reject_unknown_names_and_wait_for_completion(alice: Any) -> None:
    client = client_for(alice)
    open_job = jobs.create_job(owner=alice, viewset="tests.jobs_app.views.GadgetViewSet", operation="insert")
    response = client.get(f"/api/bulk-jobs/{open_job.pk}/aggregates/?count=*")
    assert response.status_code == 409
    assert response.json() == {"detail": "aggregates are available once the job is JobComplete; it is Open"}
    job = _run(alice, gadgets(1))
    bad = client.get(f"/api/bulk-jobs/{job.pk}/aggregates/?sum=weight&median=price&custom=nope").json()
    assert bad["sum"] == ["Gadget has no field 'weight'"]
    assert bad["median"] == ["unknown aggregate 'median'; use sum, count, avg, min, max or custom"]
    assert bad["custom"][0].startswith("no custom aggregate named 'nope'; registered: ")
    # sum/avg of a text or a relation is a 400 naming it (PostgreSQL refused it with a 500, SQLite answered 0)
    wrong = client.get(f"/api/bulk-jobs/{job.pk}/aggregates/?sum=name&avg=owner")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "sum": ["Gadget.name is not a number (CharField): sum takes a numeric field"],
        "avg": ["Gadget.owner is not a number (ForeignKey): avg takes a numeric field"],
    }
    fine = client.get(f"/api/bulk-jobs/{job.pk}/aggregates/?min=name&max=sku&count=name")
    assert fine.json()["aggregates"] == {"min__name": "gadget 0", "max__sku": "G00000", "count__name": 1}


def test_the_cached_status_follows_staged_uploads(alice: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(alice)
    job = jobs.create_job(owner=alice, viewset=jobs_fixtures.GADGET_VIEWSET, operation="insert")
    with django_capture_on_commit_callbacks(execute=True):
        client.put(f"/api/bulk-jobs/{job.pk}/data/", gadgets(2), format="json")
        assert client.get(f"/api/bulk-jobs/{job.pk}/").json()["total_records"] == 2  # now cached
        client.put(f"/api/bulk-jobs/{job.pk}/data/", gadgets(3, start=2), format="json")
    assert client.get(f"/api/bulk-jobs/{job.pk}/").json()["total_records"] == 5


def test_a_flushed_cache_mid_job_cannot_bring_back_an_aborted_job(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The worker's copy of the job says InProgress; the database says Aborted: the cache must say Aborted."""
    job = closed_job(alice, gadgets(9))
    jobs.transition(job, "InProgress")
    viewset = processing.build_viewset(job)
    processing.process_chunk(job, viewset)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alice).patch(f"/api/bulk-jobs/{job.pk}/", {"state": "Aborted"}, format="json")
    progress.forget(job.pk)  # Redis flushed (or evicted) while the worker runs
    progress.publish_progress(job)  # the worker's next progress write, from its stale copy
    status = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/").json()
    assert (status["state"], status["processed_records"]) == ("Aborted", 3)


def test_a_worker_that_finds_its_job_aborted_republishes_the_status(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """An abort published between the worker's cache read and write is repaired when the worker stops."""
    job = closed_job(alice, gadgets(9))
    jobs.transition(job, "InProgress")
    processing.process_chunk(job, processing.build_viewset(job))
    BulkJob.objects.filter(pk=job.pk).update(state="Aborted")
    progress.publish_status(job)  # the worker's copy (InProgress) overwrote the abort in the cache
    assert progress.get_status(job.pk)["state"] == "InProgress"
    processing.run_job(job.pk)
    assert progress.get_status(job.pk)["state"] == "Aborted"


def test_a_broker_that_dies_between_the_check_and_the_publish_leaves_the_job_for_the_sweeper_not_a_500(
    alice: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    """The broker answered the submission's check (test_job_plumbing.py: one that does not is a 503), then died
    before the publish at commit: the job is committed, so answer 202 and log; requeue_stalled_jobs sends it."""
    from celery import current_app

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(alice).post("/gadgets/bulk/", gadgets(2), format="json")
    assert response.status_code == 202
    conf = current_app.conf
    saved = conf.broker_url, conf.task_publish_retry, conf.task_always_eager, conf.broker_transport_options
    conf.broker_url, conf.task_publish_retry, conf.task_always_eager = "amqp://guest@127.0.0.1:1//", False, False
    conf.broker_transport_options = {"max_retries": 1, "interval_start": 0, "interval_step": 0}  # fail fast
    current_app._pool = current_app.amqp._producer_pool = None  # new producers for the broker_url set here
    try:
        for callback in callbacks:  # the commit: the status, the signal, then the publish
            callback()
    finally:
        conf.broker_url, conf.task_publish_retry, conf.task_always_eager, conf.broker_transport_options = saved
        current_app._pool = current_app.amqp._producer_pool = None  # and back to the saved one
    assert response.status_code == 202
    assert BulkJob.objects.get(pk=response.json()["id"]).state == "UploadComplete"
    assert any("requeue_stalled_jobs" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
