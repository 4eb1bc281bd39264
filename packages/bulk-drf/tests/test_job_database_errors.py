"""Records the serializer accepts but the database refuses: isolated per record, the rest of the chunk written."""

from __future__ import annotations

from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing
from bulk_drf.models import BulkJob, BulkJobResult
from django.db import IntegrityError, transaction

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget, Meter, Reading
from tests.jobs_fixtures import closed_job, gadgets

alice = jobs_fixtures.alice

pytestmark = pytest.mark.django_db

METER_VIEWSET = "tests.jobs_app.views.MeterViewSet"


@pytest.fixture(autouse=True)
def _chunks_of_four(settings: Any) -> None:
    settings.BULK_DRF_CHUNK_SIZE = 4


def meters(levels: list[Any], *, prefix: str = "m") -> list[dict[str, Any]]:
    return [{"code": f"{prefix}{i}", "level": level} for i, level in enumerate(levels)]


def outcomes(job: BulkJob) -> dict[int, tuple[str, Any]]:
    return {r.index: (r.kind, r.errors) for r in BulkJobResult.objects.filter(job=job)}


def check_error(errors: Any, code: str, needle: str, field: str = "non_field_errors") -> None:
    assert list(errors) == [field], errors
    [error] = errors[field]
    assert error["code"] == code
    assert needle in error["message"], error["message"]


def test_a_check_constraint_fails_only_its_records(alice: Any) -> None:
    # chunks: [0-3] holds one bad level, [4-7] holds two and a serializer error, [8-9] is clean
    levels = [1, 2, 150, 4, -1, "x", 6, 101, 8, 9]
    job = processing.run_job(closed_job(alice, meters(levels), viewset=METER_VIEWSET).pk)
    assert job.state == "JobComplete", job.error_message
    assert (job.processed_records, job.succeeded_records, job.failed_records) == (10, 6, 4)
    assert sorted(Meter.objects.values_list("level", flat=True)) == [1, 2, 4, 6, 8, 9]
    seen = outcomes(job)
    assert sorted(seen) == list(range(10))  # every record reported exactly once
    assert [i for i, (kind, _) in sorted(seen.items()) if kind == "failed"] == [2, 4, 5, 7]
    for index in (2, 4, 7):
        check_error(seen[index][1], "integrity_error", "jobs_app_meter_level_range")
    assert seen[5][1] == {"level": [{"message": "A valid integer is required.", "code": "invalid"}]}
    ok = BulkJobResult.objects.filter(job=job, kind="succeeded").order_by("index")
    assert [r.object_pk for r in ok] == [str(m.pk) for m in Meter.objects.order_by("level")]


def test_a_unique_key_only_the_database_knows_is_reported_per_record(alice: Any) -> None:
    Meter.objects.create(owner=alice, code="taken", level=1)
    records = [
        {"code": "TAKEN", "level": 5},
        {"code": "new", "level": 5},
        {"code": "NEW", "level": 6},
        {"code": "other", "level": 7},
    ]
    job = processing.run_job(closed_job(alice, records, viewset=METER_VIEWSET).pk)
    assert job.state == "JobComplete"
    seen = outcomes(job)
    assert [seen[i][0] for i in range(4)] == ["failed", "succeeded", "failed", "succeeded"]
    check_error(seen[0][1], "integrity_error", "jobs_app_meter_code_ci")
    check_error(seen[2][1], "integrity_error", "jobs_app_meter_code_ci")
    assert sorted(Meter.objects.values_list("code", flat=True)) == ["new", "other", "taken"]


def test_an_upsert_updates_the_good_rows_and_reports_the_bad_ones(alice: Any) -> None:
    Meter.objects.bulk_create(Meter(owner=alice, code=f"m{i}", level=i) for i in range(4))
    records = [*meters([10, 200, 30, 40]), {"code": "m4", "level": -5}, {"code": "m5", "level": 50}]
    job = processing.run_job(
        closed_job(alice, records, viewset=METER_VIEWSET, operation="upsert", unique_fields=["code"]).pk
    )
    assert job.state == "JobComplete"
    assert dict(Meter.objects.values_list("code", "level")) == {"m0": 10, "m1": 1, "m2": 30, "m3": 40, "m5": 50}
    seen = outcomes(job)
    assert [i for i, (kind, _) in sorted(seen.items()) if kind == "failed"] == [1, 4]
    check_error(seen[1][1], "integrity_error", "jobs_app_meter_level_range")
    created = dict(BulkJobResult.objects.filter(job=job, kind="succeeded").values_list("index", "created"))
    assert created == {0: False, 2: False, 3: False, 5: True}


def test_isolating_records_keeps_each_chunk_exactly_once(alice: Any) -> None:
    """The fallback runs inside the chunk's transaction: a redelivered task finds nothing left to do."""
    job = closed_job(alice, meters([1, 500, 3, 4, 5, 6]), viewset=METER_VIEWSET)
    jobs.transition(job, "InProgress")
    outcome = processing.process_chunk(job, processing.build_viewset(job))
    assert (outcome.start, outcome.stop, outcome.succeeded, outcome.failed) == (0, 4, 3, 1)
    stored = BulkJob.objects.get(pk=job.pk)
    assert (stored.processed_records, stored.succeeded_records, stored.failed_records) == (4, 3, 1)
    job = processing.run_job(job.pk)  # the "redelivered" task
    assert (job.state, job.processed_records, job.succeeded_records, job.failed_records) == ("JobComplete", 6, 5, 1)
    job = processing.run_job(job.pk)  # and once more, after the end
    assert Meter.objects.count() == 5
    assert BulkJobResult.objects.filter(job=job).count() == 6


def test_a_job_whose_every_record_the_database_refuses_fails(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, meters([-1, -2, -3]), viewset=METER_VIEWSET).pk)
    assert job.state == "Failed"
    assert job.error_message == "all 3 records failed (see results?kind=failed)"
    assert Meter.objects.count() == 0


def test_a_plain_unique_violation_names_its_field(alice: Any) -> None:
    viewset = processing.build_viewset(closed_job(alice, gadgets(1)), method="POST")
    Gadget.objects.create(owner=alice, sku="dup", name="first", price="1.00")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Gadget.objects.bulk_create([Gadget(owner=alice, sku="dup", name="second", price="1.00")])
    [error] = processing.database_error(viewset, caught.value)["sku"]
    assert error["code"] == "integrity_error" and "sku" in error["message"]


def test_a_delete_blocked_by_a_protected_foreign_key_fails_only_that_record(alice: Any) -> None:
    kept, *free = Meter.objects.bulk_create(Meter(owner=alice, code=f"d{i}", level=i) for i in range(4))
    Reading.objects.create(meter=kept, value=1)
    ids = [m.pk for m in (free[0], kept, *free[1:])]
    job = processing.run_job(closed_job(alice, ids, viewset=METER_VIEWSET, operation="delete").pk)
    assert job.state == "JobComplete"
    assert list(Meter.objects.values_list("pk", flat=True)) == [kept.pk]
    seen = outcomes(job)
    assert [i for i, (kind, _) in sorted(seen.items()) if kind == "failed"] == [1]
    check_error(seen[1][1], "protected", "protected foreign keys")


def test_a_split_upsert_chunk_still_refuses_a_repeated_key(alice: Any) -> None:
    """Records 0 and 3 share a key: split or not, the later one is a duplicate, as in a clean chunk."""
    records = [
        {"code": "k1", "level": 1},
        {"code": "k2", "level": 500},
        {"code": "k3", "level": 3},
        {"code": "k1", "level": 4},
    ]
    job = processing.run_job(
        closed_job(alice, records, viewset=METER_VIEWSET, operation="upsert", unique_fields=["code"]).pk
    )
    assert dict(Meter.objects.values_list("code", "level")) == {"k1": 1, "k3": 3}
    seen = outcomes(job)
    assert [i for i, (kind, _) in sorted(seen.items()) if kind == "failed"] == [1, 3]
    check_error(seen[1][1], "integrity_error", "jobs_app_meter_level_range")
    assert seen[3][1] == {"code": [{"message": "Same code as item 0 of this request.", "code": "duplicate"}]}


def test_a_clean_upsert_chunk_reports_a_repeated_key_the_same_way(alice: Any) -> None:
    records = [
        {"code": "k1", "level": 1},
        {"code": "k2", "level": 2},
        {"code": "k3", "level": 3},
        {"code": "k1", "level": 4},
    ]
    job = processing.run_job(
        closed_job(alice, records, viewset=METER_VIEWSET, operation="upsert", unique_fields=["code"]).pk
    )
    assert outcomes(job)[3] == (
        "failed",
        {"code": [{"message": "Same code as item 0 of this request.", "code": "duplicate"}]},
    )
