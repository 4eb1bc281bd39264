"""The job admin: the list and the job page, the progress poll (no query), Abort, downloads, the import pages,
and who may see and do what (Django's model permissions plus the owner rule)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing, progress
from bulk_drf.jobs.admin import VIEW_ALL_JOBS
from bulk_drf.jobs.models import BulkJobKeyClaim
from bulk_drf.models import BulkJob
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget
from tests.jobs_fixtures import closed_job, gadgets

eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.admin_urls")]

ADMIN = "/admin/bulk_drf/bulkjob/"
GADGETS = "tests.jobs_app.views.GadgetViewSet"


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 3


def staff_user(
    django_user_model: Any, name: str, *job_perms: str, gadget_perms: tuple[str, ...] = ("add", "change", "view")
) -> Any:
    """A staff user with ``bulk_drf.<job_perms>`` and the gadget model's ``gadget_perms``."""
    user = django_user_model.objects.create_user(username=name, password="pw", is_staff=True)
    perms = Permission.objects.filter(
        content_type__app_label="bulk_drf", codename__in=job_perms
    ) | Permission.objects.filter(
        content_type__app_label="jobs_app", codename__in=[f"{p}_gadget" for p in gadget_perms]
    )
    user.user_permissions.set(perms)
    return django_user_model.objects.get(pk=user.pk)


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return staff_user(django_user_model, "alice", "view_bulkjob", "change_bulkjob")


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return staff_user(django_user_model, "bob", "view_bulkjob", "change_bulkjob")


@pytest.fixture
def auditor(django_user_model: Any) -> Any:
    """Sees every job (``view_all_jobs``), may change none."""
    return staff_user(django_user_model, "auditor", "view_bulkjob", "view_all_jobs", gadget_perms=())


def finished_job(owner: Any, records: list[Any]) -> BulkJob:
    job = closed_job(owner, records)
    processing.run_job(job.pk)
    job.refresh_from_db()
    return job


# -- the list and the owner rule ---------------------------------------------------------------------------


def test_staff_see_only_their_own_jobs_in_the_list(alice: Any, bob: Any) -> None:
    mine, theirs = closed_job(alice, gadgets(4)), closed_job(bob, gadgets(2, prefix="B"))
    page = browser(alice).get(ADMIN)
    assert page.status_code == 200
    html = page.content.decode()
    assert str(mine.pk) in html and str(theirs.pk) not in html
    assert "0 / 0 / 4" in html and 'class="bulk-job-bar"' in html and "UploadComplete" in html


def test_view_all_jobs_and_superusers_see_every_job(alice: Any, bob: Any, auditor: Any, django_user_model: Any) -> None:
    assert VIEW_ALL_JOBS == "bulk_drf.view_all_jobs" and auditor.has_perm(VIEW_ALL_JOBS)
    jobs_ = [closed_job(alice, gadgets(1)), closed_job(bob, gadgets(1, prefix="B"))]
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    for user in (auditor, root):
        html = browser(user).get(ADMIN).content.decode()
        assert all(str(job.pk) in html for job in jobs_), user


def test_staff_without_the_view_permission_get_no_job_admin(django_user_model: Any) -> None:
    nobody = staff_user(django_user_model, "nobody", gadget_perms=())
    closed_job(nobody, gadgets(1))
    client = browser(nobody)
    assert client.get(ADMIN).status_code == 403
    assert "Bulk jobs" not in client.get("/admin/").content.decode()


def test_the_progress_bar_shows_the_share_processed(alice: Any) -> None:
    job = closed_job(alice, gadgets(4))
    BulkJob.objects.filter(pk=job.pk).update(processed_records=1)
    html = browser(alice).get(ADMIN).content.decode()
    assert '<span style="width:25.0%">' in html and "25.0%" in html


# -- the job page ------------------------------------------------------------------------------------------


def test_the_job_page_shows_progress_history_throughput_failures_and_downloads(alice: Any) -> None:
    records = gadgets(5)
    records[1]["price"] = "lots"
    records[3]["name"] = "x" * 51
    job = finished_job(alice, records)
    assert (job.state, job.succeeded_records, job.failed_records) == ("JobComplete", 3, 2)
    page = browser(alice).get(f"{ADMIN}{job.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="bulk-job-panel"' in html and 'data-final="true"' in html
    assert 'style="width: 100.0%"' in html
    history = re.search(r'<table id="bulk-job-history">.*?</table>', html, re.S)
    assert history is not None
    assert [
        s for s in ("Open", "UploadComplete", "InProgress", "JobComplete") if f"<td>{s}</td>" in history.group()
    ] == [
        "Open",
        "UploadComplete",
        "InProgress",
        "JobComplete",
    ]
    assert "records/s" in html and "waited" in html
    failures = re.search(r'<table id="bulk-job-failed-records">.*?</table>', html, re.S)
    assert failures is not None
    assert "<td>1</td>" in failures.group() and "<td>3</td>" in failures.group()
    assert "A valid number is required." in failures.group()
    assert "name: Ensure this field has no more than 50 characters." in failures.group()
    for kind in ("succeeded", "failed", "unprocessed"):
        assert f'href="{ADMIN}{job.pk}/results/{kind}.csv"' in html
    assert 'id="bulk-job-abort"' not in html  # finished: nothing to abort


def test_a_running_job_page_polls_and_offers_abort(alice: Any) -> None:
    job = closed_job(alice, gadgets(4))
    html = browser(alice).get(f"{ADMIN}{job.pk}/change/").content.decode()
    assert 'data-final="false"' in html and f'data-progress-url="{ADMIN}{job.pk}/progress/"' in html
    assert 'id="bulk-job-abort"' in html


def test_another_users_job_page_is_not_found(alice: Any, bob: Any, auditor: Any) -> None:
    job = closed_job(bob, gadgets(1))
    response = browser(alice).get(f"{ADMIN}{job.pk}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"  # Django's "does not exist"
    html = browser(auditor).get(f"{ADMIN}{job.pk}/change/").content.decode()
    assert str(job.pk) in html and 'id="bulk-job-abort"' not in html  # sees it; may not change jobs


def test_the_throughput_is_records_per_second_of_the_run() -> None:
    from datetime import timedelta

    from bulk_drf.jobs.admin.job_admin import throughput

    t0 = timezone.now()
    job = BulkJob(
        processed_records=500,
        upload_complete_at=t0,
        started_at=t0 + timedelta(seconds=2),
        completed_at=t0 + timedelta(seconds=12),
    )
    assert throughput(job) == {"records_per_second": 50.0, "elapsed": 10.0, "queue_wait": 2.0}
    assert throughput(BulkJob()) == {"records_per_second": None, "elapsed": None, "queue_wait": None}


# -- the progress poll -------------------------------------------------------------------------------------


def poll_view(path: str, user: Any) -> Any:
    """The admin's progress view as the URLconf serves it (admin_view-wrapped), called with ``user`` set:
    what it costs itself, without the session and user lookups of the middleware."""
    request = RequestFactory().get(path)
    request.user = user
    match = resolve(path)
    return match.func(request, *match.args, **match.kwargs)


def test_polling_the_progress_of_ones_own_running_job_makes_no_query(alice: Any) -> None:
    job = closed_job(alice, gadgets(4))
    BulkJob.objects.filter(pk=job.pk).update(state="InProgress", processed_records=3, succeeded_records=3)
    job.refresh_from_db()
    progress.publish_status(job)
    with CaptureQueriesContext(connection) as queries:
        response = poll_view(f"{ADMIN}{job.pk}/progress/", alice)
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert response.status_code == 200
    document = json.loads(response.content)
    assert (document["state"], document["processed_records"], document["percentage"]) == ("InProgress", 3, 75.0)


def test_a_poll_through_the_whole_stack_costs_only_the_sessions_lookups(alice: Any) -> None:
    job = closed_job(alice, gadgets(4))
    progress.publish_status(job)
    client = browser(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{ADMIN}{job.pk}/progress/")
    assert response.status_code == 200 and response.json()["state"] == "UploadComplete"
    tables = [re.search(r'FROM "(\w+)"', q["sql"]).group(1) for q in queries]  # type: ignore[union-attr]
    assert tables == ["django_session", "auth_user"]  # the middleware's; the view itself reads the cache


def test_a_cache_miss_reads_the_row_and_publishes_it(alice: Any) -> None:
    job = closed_job(alice, gadgets(2))
    progress.forget(job.pk)
    response = browser(alice).get(f"{ADMIN}{job.pk}/progress/")
    assert response.status_code == 200 and response.json()["total_records"] == 2
    assert progress.get_status(job.pk) is not None


def test_others_polls_are_not_found_unless_they_see_every_job(alice: Any, bob: Any, auditor: Any) -> None:
    job = closed_job(alice, gadgets(1))
    progress.publish_status(job)
    assert browser(bob).get(f"{ADMIN}{job.pk}/progress/").status_code == 404
    assert browser(auditor).get(f"{ADMIN}{job.pk}/progress/").status_code == 200
    progress.forget(job.pk)  # from the row: the same rule
    assert browser(bob).get(f"{ADMIN}{job.pk}/progress/").status_code == 404
    assert browser(bob).get(f"{ADMIN}not-a-uuid/progress/").status_code == 404


def test_anonymous_polls_go_to_the_login(alice: Any) -> None:
    job = closed_job(alice, gadgets(1))
    response = Client().get(f"{ADMIN}{job.pk}/progress/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# -- abort ---------------------------------------------------------------------------------------------------


def test_abort_moves_the_job_to_aborted(alice: Any, django_capture_on_commit_callbacks: Any) -> None:
    job = closed_job(alice, gadgets(4))
    with django_capture_on_commit_callbacks(execute=True):
        response = browser(alice).post(f"{ADMIN}{job.pk}/abort/")
    assert response.status_code == 302 and response["Location"] == f"{ADMIN}{job.pk}/change/"
    job.refresh_from_db()
    assert job.state == "Aborted" and job.aborted_at is not None
    assert progress.get_status(job.pk)["state"] == "Aborted"


def test_abort_of_a_finished_job_is_the_apis_409(alice: Any) -> None:
    job = finished_job(alice, gadgets(2))
    response = browser(alice).post(f"{ADMIN}{job.pk}/abort/")
    assert response.status_code == 409
    assert "cannot move from JobComplete to Aborted" in response.content.decode()
    job.refresh_from_db()
    assert job.state == "JobComplete"


def test_abort_needs_the_change_permission_and_the_owner_rule(alice: Any, bob: Any, auditor: Any) -> None:
    job = closed_job(alice, gadgets(1))
    assert browser(bob).post(f"{ADMIN}{job.pk}/abort/").status_code == 404  # not his: not there
    assert browser(auditor).post(f"{ADMIN}{job.pk}/abort/").status_code == 403  # sees it, may not change
    assert browser(alice).get(f"{ADMIN}{job.pk}/abort/").status_code == 405
    job.refresh_from_db()
    assert job.state == "UploadComplete"


# -- downloads ---------------------------------------------------------------------------------------------


def read_csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_downloads_are_the_apis_csv(alice: Any) -> None:
    records = gadgets(4)
    records[2]["price"] = "lots"
    job = finished_job(alice, records)
    client = browser(alice)
    failed = client.get(f"{ADMIN}{job.pk}/results/failed.csv")
    assert failed.status_code == 200 and failed["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(failed)
    assert [r["index"] for r in rows] == ["2"] and "A valid number is required." in rows[0]["errors"]
    assert [r["index"] for r in read_csv(client.get(f"{ADMIN}{job.pk}/results/succeeded.csv"))] == ["0", "1", "3"]


def test_downloads_write_the_jobs_csv_options(alice: Any) -> None:
    records = gadgets(3)
    records[1]["price"] = "lots"
    job = closed_job(alice, records)
    BulkJob.objects.filter(pk=job.pk).update(column_delimiter="SEMICOLON", line_ending="LF")
    processing.run_job(job.pk)
    text = b"".join(browser(alice).get(f"{ADMIN}{job.pk}/results/succeeded.csv").streaming_content).decode()
    assert "\r\n" not in text and text.split("\n")[0] == "index;pk;created;errors;data"
    assert [line.split(";")[0] for line in text.split("\n")[1:] if line] == ["0", "2"]
    failed = b"".join(browser(alice).get(f"{ADMIN}{job.pk}/results/failed.csv").streaming_content).decode()
    assert failed.split("\n")[1].startswith("1;;")  # a failed record's pk: an empty cell


def test_unprocessed_records_of_an_aborted_job_download(alice: Any) -> None:
    job = closed_job(alice, gadgets(4))
    jobs.abort(job)
    rows = read_csv(browser(alice).get(f"{ADMIN}{job.pk}/results/unprocessed.csv"))
    assert [r["sku"] for r in rows] == ["G00000", "G00001", "G00002", "G00003"]


def test_downloads_follow_the_owner_rule_and_purges(alice: Any, bob: Any) -> None:
    job = finished_job(alice, gadgets(1))
    assert browser(bob).get(f"{ADMIN}{job.pk}/results/failed.csv").status_code == 404
    assert browser(alice).get(f"{ADMIN}{job.pk}/results/everything.csv").status_code == 404
    BulkJob.objects.filter(pk=job.pk).update(results_purged_at=timezone.now())
    assert browser(alice).get(f"{ADMIN}{job.pk}/results/failed.csv").status_code == 410


def test_delete_needs_the_delete_permission(alice: Any, django_user_model: Any) -> None:
    job = closed_job(alice, gadgets(1))
    assert browser(alice).post(f"{ADMIN}{job.pk}/delete/", {"post": "yes"}).status_code == 403
    remover = staff_user(django_user_model, "remover", "view_bulkjob", "delete_bulkjob", "view_all_jobs")
    assert browser(remover).post(f"{ADMIN}{job.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not BulkJob.objects.filter(pk=job.pk).exists()


# -- the import pages --------------------------------------------------------------------------------------


def csv_file(rows: list[dict[str, Any]], name: str = "gadgets.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def upload(client: Client, file: Any, operation: str = "insert", unique_fields: str = "", target: str = GADGETS) -> Any:
    return client.post(
        f"{ADMIN}import/{target}/", {"file": file, "operation": operation, "unique_fields": unique_fields}
    )


def test_the_import_index_lists_the_bulk_viewsets_one_may_write_to(alice: Any, auditor: Any) -> None:
    html = browser(alice).get(f"{ADMIN}import/").content.decode()
    assert f'href="{ADMIN}import/{GADGETS}/"' in html
    assert "tests.jobs_app.views.StaffWritesGadgetViewSet" in html
    assert "UserScopedGadgetViewSet" not in html  # no job routes
    assert "tests.admin_urls.NoQuerysetGadgetViewSet" in html  # its model from get_queryset()
    assert "BrokenQuerysetGadgetViewSet" not in html  # its model cannot be known
    assert "insert, update, upsert" in html
    assert 'id="bulk-import-none"' in browser(auditor).get(f"{ADMIN}import/").content.decode()
    assert 'id="bulk-import-link"' in browser(alice).get(ADMIN).content.decode()


def test_an_import_is_previewed_then_confirmed_and_runs(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    rows = gadgets(8)
    rows[2]["price"] = "lots"
    rows[5]["sku"] = rows[4]["sku"]  # a duplicate key within the file
    client = browser(alice)
    response = upload(client, csv_file(rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    job = BulkJob.objects.get(owner=alice)
    assert (job.state, job.total_records, job.viewset, job.operation) == ("Open", 8, GADGETS, "insert")
    assert response["Location"] == f"{ADMIN}import/job/{job.pk}/"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="bulk-would-succeed">6<' in html and 'id="bulk-would-fail">2<' in html
    failures = re.search(r'<table id="bulk-import-failures">.*?</table>', html, re.S)
    assert failures is not None and "A valid number is required." in failures.group()
    assert "<td>2</td>" in failures.group() and "<td>5</td>" in failures.group()
    assert Gadget.objects.count() == 0  # the dry run wrote nothing

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"{ADMIN}import/job/{job.pk}/confirm/")
    assert confirmed.status_code == 302 and confirmed["Location"] == f"{ADMIN}{job.pk}/change/"
    job.refresh_from_db()
    assert (job.state, job.succeeded_records, job.failed_records) == ("JobComplete", 6, 2)
    assert Gadget.objects.filter(owner=alice).count() == 6
    # Confirmed once: the preview now shows the job's page, and a second confirm is the API's 409.
    assert client.get(f"{ADMIN}import/job/{job.pk}/")["Location"] == f"{ADMIN}{job.pk}/change/"
    again = client.post(f"{ADMIN}import/job/{job.pk}/confirm/")
    assert again.status_code == 409 and "JobComplete" in again.content.decode()


def test_the_preview_is_the_workers_dry_run_and_sees_a_duplicate_key_in_another_chunk(alice: Any) -> None:
    """Chunks of 3: record 7 repeats record 0's key from another chunk. The preview is the job's dry run
    (``dryrun``: claims settled across chunks), so it reports what the job will report, and writes nothing."""
    rows = gadgets(8)
    rows[7]["sku"] = rows[0]["sku"]
    client = browser(alice)
    response = upload(client, csv_file(rows))
    html = client.get(response["Location"]).content.decode()
    assert 'id="bulk-would-succeed">7<' in html and 'id="bulk-would-fail">1<' in html
    failures = re.search(r'<table id="bulk-import-failures">.*?</table>', html, re.S)
    assert failures is not None and "<td>7</td>" in failures.group()
    assert "sku: Gadget with this sku already exists." in failures.group()
    job = BulkJob.objects.get(owner=alice)
    assert (job.state, job.succeeded_records, job.failed_records, job.results.count()) == ("Open", 0, 0, 0)
    assert not BulkJobKeyClaim.objects.exists() and Gadget.objects.count() == 0


def test_an_upsert_preview_tells_creates_from_updates(alice: Any) -> None:
    Gadget.objects.create(owner=alice, sku="G00001", name="old", price="1.00")
    client = browser(alice)
    file = SimpleUploadedFile("gadgets.json", json.dumps(gadgets(3)).encode(), content_type="application/json")
    response = upload(client, file, operation="upsert", unique_fields="sku")
    assert response.status_code == 302, response.content.decode()[:2000]
    html = client.get(response["Location"]).content.decode()
    assert 'id="bulk-would-succeed">3<' in html and "(2 created, 1 updated)" in html
    assert Gadget.objects.get(sku="G00001").name == "old"


def test_an_update_preview_reports_rows_that_are_not_there(alice: Any, bob: Any) -> None:
    mine = Gadget.objects.create(owner=alice, sku="G1", name="old", price="1.00")
    theirs = Gadget.objects.create(owner=bob, sku="G2", name="old", price="1.00")
    records = [{"id": mine.pk, "name": "new"}, {"id": theirs.pk, "name": "new"}, {"id": 10**9, "name": "new"}]
    client = browser(alice)
    file = SimpleUploadedFile("g.json", json.dumps(records).encode(), content_type="application/json")
    response = upload(client, file, operation="update")
    assert response.status_code == 302, response.content.decode()[:2000]
    html = client.get(response["Location"]).content.decode()
    assert 'id="bulk-would-succeed">1<' in html and 'id="bulk-would-fail">2<' in html  # bob's row is not hers
    assert set(Gadget.objects.values_list("name", flat=True)) == {"old"}


def test_cancel_aborts_the_import_and_writes_nothing(alice: Any) -> None:
    client = browser(alice)
    upload(client, csv_file(gadgets(3)))
    job = BulkJob.objects.get(owner=alice)
    response = client.post(f"{ADMIN}import/job/{job.pk}/cancel/")
    assert response.status_code == 302 and response["Location"] == f"{ADMIN}import/"
    job.refresh_from_db()
    assert job.state == "Aborted" and Gadget.objects.count() == 0


def test_a_bad_file_is_the_apis_400_and_leaves_no_job(alice: Any) -> None:
    client = browser(alice)
    bad_header = SimpleUploadedFile("g.csv", b"sku,prcie\nA,1\n", content_type="text/csv")
    response = upload(client, bad_header)
    assert response.status_code == 400
    assert "&#x27;prcie&#x27; is not a field of GadgetSerializer" in response.content.decode()
    broken = SimpleUploadedFile("g.json", b'[{"sku": "A"}, {"sku": ', content_type="application/json")
    assert upload(client, broken).status_code == 400
    empty = SimpleUploadedFile("g.json", b"[]", content_type="application/json")
    assert "the file holds no records" in upload(client, empty).content.decode()
    assert (
        "An upsert needs the fields of a unique key." in upload(client, csv_file(gadgets(1)), "upsert").content.decode()
    )
    not_a_key = upload(client, csv_file(gadgets(1)), "upsert", "name").content.decode()
    assert "name is not a unique key of Gadget" in not_a_key
    assert not BulkJob.objects.exists()


def test_a_file_without_a_known_name_is_sniffed(alice: Any) -> None:
    client = browser(alice)
    as_json = SimpleUploadedFile("upload.bin", json.dumps(gadgets(2)).encode(), content_type="application/octet-stream")
    assert upload(client, as_json).status_code == 302
    as_csv = SimpleUploadedFile("upload.txt", b"sku,name,price\nX1,x,1.00\n", content_type="text/plain")
    assert upload(client, as_csv).status_code == 302
    assert sorted(BulkJob.objects.values_list("total_records", flat=True)) == [1, 2]


def test_import_operations_follow_the_models_permissions(django_user_model: Any) -> None:
    changer = staff_user(django_user_model, "changer", "view_bulkjob", gadget_perms=("change",))
    client = browser(changer)
    form = client.get(f"{ADMIN}import/{GADGETS}/").content.decode()
    assert '<option value="update">' in form and '<option value="insert">' not in form
    assert upload(client, csv_file(gadgets(1))).status_code == 400  # insert is not a choice for them
    reader = staff_user(django_user_model, "reader", "view_bulkjob", gadget_perms=("view",))
    assert browser(reader).get(f"{ADMIN}import/{GADGETS}/").status_code == 403
    assert not BulkJob.objects.exists()


def test_import_needs_the_job_view_permission_and_a_known_target(alice: Any, django_user_model: Any) -> None:
    blind = staff_user(django_user_model, "blind")  # may add gadgets, may not see jobs
    assert browser(blind).get(f"{ADMIN}import/").status_code == 403
    client = browser(alice)
    assert client.get(f"{ADMIN}import/os.system/").status_code == 404
    assert client.get(f"{ADMIN}import/tests.jobs_app.views.UserScopedGadgetViewSet/").status_code == 404


def test_a_viewset_without_a_queryset_attribute_takes_imports(alice: Any) -> None:
    client = browser(alice)
    response = upload(client, csv_file(gadgets(2)), target="tests.admin_urls.NoQuerysetGadgetViewSet")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert 'id="bulk-would-succeed">2<' in client.get(response["Location"]).content.decode()


def test_the_viewsets_own_permission_classes_refuse_the_import(alice: Any) -> None:
    response = upload(browser(alice), csv_file(gadgets(1)), target="tests.admin_urls.NobodyWritesGadgetViewSet")
    assert response.status_code == 403 and "nobody writes here" in response.content.decode()
    assert not BulkJob.objects.exists()


def test_only_the_uploader_previews_and_confirms_an_import(alice: Any, bob: Any, auditor: Any) -> None:
    upload(browser(alice), csv_file(gadgets(2)))
    job = BulkJob.objects.get(owner=alice)
    assert browser(bob).get(f"{ADMIN}import/job/{job.pk}/").status_code == 404
    assert browser(auditor).get(f"{ADMIN}import/job/{job.pk}/").status_code == 403
    assert browser(auditor).post(f"{ADMIN}import/job/{job.pk}/confirm/").status_code == 403
    job.refresh_from_db()
    assert job.state == "Open"


def test_the_open_jobs_limit_applies_to_imports(alice: Any, settings: Any) -> None:
    settings.BULK_DRF_MAX_OPEN_JOBS = 1
    client = browser(alice)
    assert upload(client, csv_file(gadgets(1))).status_code == 302
    refused = upload(client, csv_file(gadgets(1, prefix="H")))
    assert refused.status_code == 429 and "BULK_DRF_MAX_OPEN_JOBS is 1" in refused.content.decode()
    assert BulkJob.objects.count() == 1


def test_a_preview_of_a_job_confirmed_meanwhile_is_refused_not_a_500(alice: Any) -> None:
    """The page checked Open, then another tab confirmed: the preview (under the job row's lock) sees it."""
    from bulk_drf.jobs.admin.preview import preview_job
    from rest_framework.exceptions import ValidationError

    client = browser(alice)
    upload(client, csv_file(gadgets(3)))
    job = BulkJob.objects.get(owner=alice)
    BulkJob.objects.filter(pk=job.pk).update(state="Aborted")  # the other tab's Cancel
    with pytest.raises(ValidationError, match="no longer Open"):
        preview_job(job)  # this tab's copy still says Open
    assert not job.results.exists()


def test_the_import_pages_share_the_admin_header_and_breadcrumbs(alice: Any) -> None:
    client = browser(alice)
    index = client.get(f"{ADMIN}import/").content.decode()
    form = client.get(f"{ADMIN}import/{GADGETS}/").content.decode()
    preview = client.get(upload(client, csv_file(gadgets(2)))["Location"]).content.decode()
    for html, last in (
        (index, "&rsaquo;\n  Import\n</div>"),
        (form, "</a> &rsaquo; Upload\n</div>"),
        (preview, "</a> &rsaquo; Preview\n</div>"),
    ):
        crumbs = re.search(r'<div class="breadcrumbs">.*?</div>', html, re.S)
        assert crumbs is not None and crumbs.group().endswith(last), crumbs and crumbs.group()
        assert f'<a href="{ADMIN}">Bulk' in crumbs.group() or "Bulk jobs" in crumbs.group()
        assert "bulk-progress" in html or ".bulk-import" in html  # the shared styles
