"""Dry runs: an ingest job with ``dry_run`` reports what would succeed or fail, per record, and writes nothing.

The reference is the real job: the same records run for real afterwards give the same per-record results
(kinds, errors, created), across chunks too.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from bulk_drf.jobs import processing
from bulk_drf.models import BulkJob, BulkJobKeyClaim, BulkJobResult
from bulk_signals_core.testing import record
from bulk_signals_django import signals
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget, Meter, Reading
from tests.jobs_fixtures import client_for, closed_job, gadgets
from tests.models import Thing

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
eager_celery = jobs_fixtures.eager_celery

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

METERS = "tests.jobs_app.views.MeterViewSet"
LOCKING = "tests.jobs_app.views.LockingGadgetViewSet"
THINGS = "tests.views.ThingViewSet"


@pytest.fixture(autouse=True)
def _small_chunks(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 3


def outcome(job: BulkJob) -> list[tuple[int, str, Any, bool]]:
    """Each record's result: index, kind, errors, created."""
    rows = BulkJobResult.objects.filter(job=job).order_by("index")
    return [(r.index, r.kind, r.errors, r.created) for r in rows]


def writes_to(table: str, queries: CaptureQueriesContext) -> list[str]:
    """The statements that changed ``table`` (INSERT, UPDATE, DELETE; COPY is not used for targets)."""
    pattern = re.compile(rf"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?{table}\"?", re.IGNORECASE)
    return [q["sql"] for q in queries.captured_queries if pattern.match(q["sql"])]


def dry_then_real(owner: Any, records: list[Any], **kwargs: Any) -> tuple[BulkJob, BulkJob]:
    """Run ``records`` as a dry run (asserting it writes nothing to the target), then for real."""
    model = kwargs.pop("model", Gadget)
    before = list(model._default_manager.order_by("pk").values())
    with CaptureQueriesContext(connection) as queries:
        dry = processing.run_job(closed_job(owner, records, dry_run=True, **kwargs).pk)
    assert dry is not None and (dry.state, dry.dry_run) == ("JobComplete", True)
    assert writes_to(model._meta.db_table, queries) == []
    assert list(model._default_manager.order_by("pk").values()) == before
    assert BulkJobKeyClaim.objects.filter(job=dry).count() == 0  # settled and gone
    with CaptureQueriesContext(connection) as queries:
        real = processing.run_job(closed_job(owner, records, **kwargs).pk)
    assert real is not None
    assert writes_to(model._meta.db_table, queries)  # the same detector sees the real job's writes
    return dry, real


def test_an_insert_dry_run_reports_what_the_real_job_does(alice: Any, bob: Any) -> None:
    Gadget.objects.create(owner=bob, sku="TAKEN", name="bob's", price=1)
    records = [
        *gadgets(2),
        {"sku": "TAKEN", "name": "clash with the table", "price": "1.00"},
        {"sku": "G00001", "name": "clash in the same chunk", "price": "1.00"},
        {"sku": "NEW", "name": "ok", "price": "not a price"},
        {"sku": "G00000", "name": "clash with chunk 1", "price": "1.00"},
        {"sku": "LATER", "name": "ok", "price": "2.00"},
        {"sku": "LATER", "name": "clash with chunk 3", "price": "2.00"},
    ]
    dry, real = dry_then_real(alice, records)
    assert outcome(dry) == outcome(real)
    assert [kind for _, kind, _, _ in outcome(dry)] == [
        "succeeded", "succeeded", "failed", "failed", "failed", "failed", "succeeded", "failed",
    ]  # fmt: skip
    assert (dry.succeeded_records, dry.failed_records) == (real.succeeded_records, real.failed_records) == (3, 5)
    assert set(BulkJobResult.objects.filter(job=dry, kind="succeeded").values_list("object_pk", flat=True)) == {""}
    errors = dict((i, e) for i, _, e, _ in outcome(dry))
    assert errors[5] == {"sku": [{"message": "Gadget with this sku already exists.", "code": "unique"}]}


def test_an_update_dry_run_checks_ids_permissions_and_values(alice: Any, bob: Any) -> None:
    mine = Gadget.objects.create(owner=alice, sku="A", name="mine", price=1)
    locked = Gadget.objects.create(owner=alice, sku="L", name="locked one", price=1)
    other = Gadget.objects.create(owner=alice, sku="O", name="other", price=1)
    theirs = Gadget.objects.create(owner=bob, sku="T", name="bob's", price=1)
    records = [
        {"id": mine.pk, "name": "renamed"},
        {"id": locked.pk, "name": "unlock me"},
        {"id": other.pk, "name": "renamed too"},
        {"id": theirs.pk, "name": "not yours"},  # chunk 2
        {"id": other.pk, "sku": "A"},  # the sku mine has; other is updated again, in another chunk
        {"id": mine.pk, "price": "x"},
        {"id": mine.pk, "qty": 5},  # chunk 3: mine again, its own sku stays its own
    ]
    dry, real = dry_then_real(alice, records, operation="update", viewset=LOCKING)
    assert outcome(dry) == outcome(real)
    assert [kind for _, kind, _, _ in outcome(dry)] == [
        "succeeded", "failed", "succeeded", "failed", "failed", "failed", "succeeded",
    ]  # fmt: skip
    assert outcome(dry)[1][2]["id"][0] == {"message": "this gadget is locked", "code": "permission_denied"}
    assert BulkJobResult.objects.get(job=dry, index=0).object_pk == str(mine.pk)


def test_an_upsert_dry_run_tells_created_from_updated_across_chunks(alice: Any) -> None:
    Gadget.objects.create(owner=alice, sku="OLD", name="stored", price=1)
    records = [
        {"sku": "OLD", "name": "update it", "price": "2.00"},
        {"sku": "NEW", "name": "create it", "price": "2.00"},
        {"sku": "NEW", "name": "same key in the chunk", "price": "2.00"},
        {"sku": "NEW", "name": "same key, a later chunk: updates", "price": "3.00"},
        {"sku": "", "name": "no key", "price": "3.00"},
    ]
    dry, real = dry_then_real(alice, records, operation="upsert", unique_fields=["sku"])
    assert outcome(dry) == outcome(real)
    assert [(kind, created) for _, kind, _, created in outcome(dry)] == [
        ("succeeded", False), ("succeeded", True), ("failed", False), ("succeeded", False), ("failed", False),
    ]  # fmt: skip


def test_a_delete_dry_run_finds_protected_rows_and_repeated_ids(alice: Any) -> None:
    kept, *free = Meter.objects.bulk_create(Meter(owner=alice, code=f"d{i}", level=i) for i in range(4))
    Reading.objects.create(meter=kept, value=1)
    ids = [free[0].pk, kept.pk, 999_999, free[1].pk, free[0].pk, free[2].pk]
    dry, real = dry_then_real(alice, ids, operation="delete", viewset=METERS, model=Meter)
    assert outcome(dry) == outcome(real)
    assert [kind for _, kind, _, _ in outcome(dry)] == [
        "succeeded", "failed", "failed", "succeeded", "failed", "succeeded",
    ]  # fmt: skip
    assert outcome(dry)[1][2]["non_field_errors"][0]["code"] == "protected"
    assert outcome(dry)[4][2] == {"id": [{"message": "Not found.", "code": "not_found"}]}


def test_no_write_hook_and_no_receiver_runs(user: Any) -> None:
    records = [{"name": "a", "sku": "A"}, {"name": "b", "sku": "B"}]
    with (
        record(signals.bulk_pre_create, sender=Thing) as pre,
        record(signals.bulk_post_create, sender=Thing) as post,
    ):
        job = processing.run_job(closed_job(user, records, viewset=THINGS, dry_run=True).pk)
    assert job is not None and (job.state, job.succeeded_records) == ("JobComplete", 2)
    pre.assert_sent(0)
    post.assert_sent(0)
    assert Thing.objects.count() == 0


def test_a_dry_run_where_every_record_fails_is_still_complete(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, [{"sku": ""}, {"sku": "x"}], dry_run=True).pk)
    assert job is not None and (job.state, job.failed_records) == ("JobComplete", 2)


def test_the_one_shot_and_staged_routes_take_dry_run(
    alice: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/gadgets/bulk/?dry_run=true", gadgets(4), format="json")
    assert response.status_code == 202 and response.json()["dry_run"] is True
    status = client.get(f"/api/bulk-jobs/{response.json()['job_id']}/").json()
    assert (status["state"], status["dry_run"], status["succeeded_records"]) == ("JobComplete", True, 4)
    assert Gadget.objects.count() == 0
    staged = client.post("/gadgets/bulk/jobs/", {"operation": "delete", "dry_run": True}, format="json")
    assert staged.status_code == 201 and staged.json()["dry_run"] is True


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/gadgets/bulk/?dry_run=maybe", [{"sku": "a"}]),
        ("post", "/gadgets/bulk/jobs/", {"operation": "read", "dry_run": True}),
        ("post", "/gadgets/bulk/jobs/", {"operation": "insert", "dry_run": "sometimes"}),
    ],
)
def test_bad_dry_run_values_are_a_400_naming_it(alice: Any, method: str, url: str, body: Any) -> None:
    response = getattr(client_for(alice), method)(url, body, format="json")
    assert response.status_code == 400 and "dry_run" in response.json(), response.content
    assert BulkJob.objects.count() == 0


def test_results_of_a_dry_run_download_as_any_result(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, [*gadgets(2), gadgets(1)[0]], dry_run=True).pk)
    assert job is not None
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/", {"kind": "failed", "format": "ndjson"})
    (line,) = b"".join(response.streaming_content).decode().splitlines()
    assert json.loads(line)["index"] == 2 and json.loads(line)["errors"]["sku"][0]["code"] == "unique"


def test_a_rerun_after_the_settlement_changes_nothing(alice: Any) -> None:
    records = [{"sku": "X", "name": "a", "price": "1.00"}] * 4  # chunk 1 refuses 1-2; chunk 2's X clashes
    job = processing.run_job(closed_job(alice, records, dry_run=True).pk)
    assert job is not None and (job.succeeded_records, job.failed_records) == (1, 3)
    before = outcome(job)
    again = processing.run_job(job.pk)  # a redelivered task: the job is final
    assert again is not None and outcome(again) == before and again.failed_records == 3
