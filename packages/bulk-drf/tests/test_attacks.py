"""Issue 10's attack list, replayed: input that must be refused with a 4xx naming the item and field, with
nothing written, on SQLite and PostgreSQL alike (``make test`` runs this suite on both).

Each attack that broke (float ids, Unicode digits, NUL and lone surrogates, ``1e400``, bigint overflows,
unhashable aggregates, unvalidated ``unique_fields``, a read job refused to a reader, CSV formulas) has its
test here; so do the kinds that held (scoping, object permissions, owner-only jobs, 413s), so they keep holding.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import pytest
from bulk_drf.csv_io import FORMULA_PREFIXES, csv_lines, neutralise
from bulk_drf.ids import InvalidId, parse_id
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import processing
from bulk_drf.models import BulkJob, BulkJobDataChunk
from django.db import models
from rest_framework.test import APIClient

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget as JobGadget
from tests.jobs_fixtures import client_for, closed_job, gadgets
from tests.models import Gadget, Part, Thing, Voucher

alice = jobs_fixtures.alice
bob = jobs_fixtures.bob
staff = jobs_fixtures.staff

pytestmark = pytest.mark.django_db
jobs_urls = pytest.mark.urls("tests.jobs_urls")

INTEGER_RULE = "(an integer: a JSON integer or ASCII digits)"


def raw(client: APIClient, method: str, url: str, body: str, content_type: str = "application/json") -> Any:
    """A request with a body exactly as written (``1e400``, ``\\u0000`` and ``\\ud800`` escapes included)."""
    return getattr(client, method)(url, body, content_type=content_type)


def things(n: int) -> list[Thing]:
    return [Thing.objects.create(name=f"t{i}", sku=f"S{i}") for i in range(n)]


def snapshot() -> list[tuple[Any, ...]]:
    return list(Thing.objects.order_by("pk").values_list("pk", "name", "sku", "quantity"))


# -- (3) float ids reached another row -----------------------------------------------------------------


def test_a_float_id_in_a_delete_body_is_refused_not_truncated(api: APIClient) -> None:
    row = things(3)[2]
    before = snapshot()
    response = api.delete("/things/", [row.pk + 0.9], format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "index": 0,
            "errors": {"id": [{"message": f"'{row.pk + 0.9}' is not a valid id {INTEGER_RULE}.", "code": "invalid"}]},
        }
    ]
    assert snapshot() == before


@pytest.mark.parametrize("bad", [2.9, 2.0, True, "2.9", "2e0", " 2", "0x2", [2], {"id": 2}])
def test_a_patch_with_a_non_integer_id_is_refused(api: APIClient, bad: Any) -> None:
    things(3)
    before = snapshot()
    response = api.patch("/things/", [{"id": bad, "name": "changed"}], format="json")
    assert response.status_code == 400
    (item,) = response.json()["errors"]
    assert item["index"] == 0 and list(item["errors"]) == ["id"] and item["errors"]["id"][0]["code"] == "invalid"
    assert snapshot() == before


def test_a_float_foreign_key_is_not_truncated_to_another_row(api: APIClient) -> None:
    first, _second = things(2)
    response = api.post("/parts/", [{"thing": first.pk + 0.5, "position": 1}], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["errors"]["thing"][0]["code"] == "incorrect_type"
    huge = api.post("/parts/", [{"thing": 10**20, "position": 1}], format="json")
    assert huge.status_code == 400
    assert huge.json()["errors"][0]["errors"]["thing"][0]["code"] == "does_not_exist"
    assert Part.objects.count() == 0


@jobs_urls
def test_a_float_id_in_a_bulk_delete_job_is_refused_before_a_job_exists(alice: Any) -> None:
    kept = JobGadget.objects.create(owner=alice, sku="K", name="kept", price=1)
    client = client_for(alice)
    response = client.delete("/gadgets/bulk/", [kept.pk + 0.7], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 0 and "id" in response.json()["errors"][0]["errors"]
    read = client.get("/gadgets/bulk/?ids=1,2.5")
    assert read.status_code == 400 and read.json()["errors"][0]["index"] == 1
    update = client.patch("/gadgets/bulk/", [{"id": kept.pk, "name": "x"}, {"id": 1.5, "name": "y"}], format="json")
    assert update.status_code == 400 and update.json()["errors"][0]["index"] == 1
    assert BulkJob.objects.count() == 0 and JobGadget.objects.filter(pk=kept.pk).exists()


@jobs_urls
def test_staged_uploads_of_bad_ids_are_refused(alice: Any) -> None:
    client = client_for(alice)
    job = client.post("/gadgets/bulk/jobs/", {"operation": "delete"}, format="json").json()
    response = client.put(f"/api/bulk-jobs/{job['id']}/data/", [1, 2.5, "+3"], format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["errors"]] == [1, 2]
    assert BulkJob.objects.get(pk=job["id"]).total_records == 0


@jobs_urls
def test_the_worker_holds_stored_ids_to_the_same_syntax(alice: Any) -> None:
    """A job whose records were stored by code (not the API) still never truncates an id."""
    row = JobGadget.objects.create(owner=alice, sku="K", name="kept", price=1)
    for operation in ("delete", "read"):
        job = processing.run_job(closed_job(alice, [row.pk + 0.5, f"{row.pk}.0"], operation=operation).pk)
        assert job is not None and (job.succeeded_records, job.failed_records) == (0, 2)
    assert JobGadget.objects.filter(pk=row.pk).exists()


# -- (9) id syntax: ASCII digits -------------------------------------------------------------------------


@pytest.mark.parametrize("ids", ["\u0661,\u0662", "1_0", "%2B1", "\uff11", "1.0", "0x1", "1e1"])
def test_ids_outside_the_ascii_digit_syntax_are_refused(api: APIClient, ids: str) -> None:
    things(12)
    for method in ("get", "delete"):
        response = getattr(api, method)(f"/things/?ids={ids}")
        assert response.status_code == 400, (method, ids)
        assert list(response.json()) == ["ids"] and "is not a valid id" in response.json()["ids"][0]
    assert Thing.objects.count() == 12


def test_ids_past_the_column_range_are_a_400_not_a_database_error(api: APIClient) -> None:
    things(1)
    for ids in ("99999999999999999999", "-99999999999999999999", "9223372036854775808"):
        response = api.get(f"/things/?ids={ids}")
        assert response.status_code == 400 and "out of the range of ids" in response.json()["ids"][0]
    assert api.patch("/things/", [{"id": 10**20, "name": "x"}], format="json").status_code == 400
    assert api.delete("/things/", [10**20], format="json").status_code == 400


def test_the_id_syntax_per_pk_type() -> None:
    value = uuid.uuid4()
    uuid_pk, char_pk = models.UUIDField(primary_key=True), models.CharField(primary_key=True, max_length=5)
    int_pk = Thing._meta.pk
    assert parse_id(uuid_pk, str(value)) == value == parse_id(uuid_pk, value.hex)
    assert parse_id(char_pk, "ab-1") == "ab-1" and parse_id(char_pk, 42) == "42"
    assert parse_id(int_pk, "17") == 17 == parse_id(int_pk, 17) and parse_id(int_pk, "-3") == -3
    for pk, bad in [
        (uuid_pk, value.int),
        (uuid_pk, "{" + str(value) + "}"),
        (uuid_pk, "urn:uuid:" + str(value)),
        (uuid_pk, str(value)[:-1]),
        (char_pk, "a\x00b"),
        (char_pk, "\ud800"),
        (char_pk, ""),
        (char_pk, "toolong"),
        (char_pk, 1.5),
        (char_pk, True),
        (int_pk, 2.9),
        (int_pk, float("inf")),
        (int_pk, "\u0661"),
        (int_pk, "1_0"),
        (int_pk, "+1"),
        (int_pk, None),
        (int_pk, 2**63),
    ]:
        with pytest.raises(InvalidId):
            parse_id(pk, bad)


# -- (6) 500s from input -----------------------------------------------------------------------------------


def test_nul_in_an_upsert_key_is_a_400(api: APIClient) -> None:
    response = raw(api, "post", "/things/?unique_fields=sku", '[{"sku": "a\\u0000b", "name": "x"}]')
    assert response.status_code == 400
    assert response.json()["errors"][0]["errors"]["sku"][0]["message"].startswith("This value contains a NUL")
    surrogate = raw(api, "post", "/things/?unique_fields=sku", '[{"sku": "\\ud800", "name": "x"}]')
    assert (
        surrogate.status_code == 400
        and "lone surrogate" in surrogate.json()["errors"][0]["errors"]["sku"][0]["message"]
    )
    assert Thing.objects.count() == 0


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_an_infinite_id_is_a_400(api: APIClient, method: str) -> None:
    things(2)
    before = snapshot()
    body = "[1e400]" if method == "delete" else '[{"id": 1e400, "name": "x", "sku": "y"}]'
    response = raw(api, method, "/things/", body)
    assert response.status_code == 400 and response.json()["errors"][0]["index"] == 0
    assert snapshot() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('{"note": "a\\u0000"}', "This value (at note) contains a NUL character"),
        ('{"note": "\\udfff"}', "This value (at note) contains a lone surrogate (\\udfff)"),
        ('{"a\\u0000": 1}', "This value (at a\\x00) (a key) contains a NUL character"),
        ('{"n": 1e400}', "Value must be valid JSON."),  # DRF's JSONField refuses inf itself
        ('["x", ["\\u0000"]]', "This value (at 1.0) contains a NUL character"),
    ],
)
def test_unstorable_json_in_a_json_field_is_a_400(api: APIClient, extra: str, message: str) -> None:
    body = f'[{{"name": "g", "sku": "G1", "price": "1.00", "extra": {extra}}}]'
    response = raw(api, "post", "/gadgets/", body)
    assert response.status_code == 400
    (item,) = response.json()["errors"]
    assert item["index"] == 0 and item["errors"]["extra"][0]["message"].startswith(message)
    assert Gadget.objects.count() == 0


@jobs_urls
@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[{"sku": "ok", "name": "n", "price": "1"}, {"sku": "a\\u0000", "name": "n", "price": "1"}]', "sku"),
        ('[{"sku": "ok", "name": "n", "price": "1"}, "\\u0000"]', "non_field_errors"),
        ('[{"sku": "ok", "name": "n", "price": "1"}, {"\\u0000": 1}]', "\\x00"),
    ],
)
def test_unstorable_job_data_is_a_400_naming_the_record(alice: Any, body: str, key: str) -> None:
    client = client_for(alice)
    one_shot = raw(client, "post", "/gadgets/bulk/", body)
    assert one_shot.status_code == 400
    assert [(e["index"], list(e["errors"])) for e in one_shot.json()["errors"]] == [(1, [key])]
    job = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()
    staged = raw(client, "put", f"/api/bulk-jobs/{job['id']}/data/", body)
    assert staged.status_code == 400 and staged.json() == one_shot.json()
    assert BulkJob.objects.count() == 1 and BulkJobDataChunk.objects.count() == 0


@jobs_urls
def test_a_lone_surrogate_in_job_data_is_a_400_and_nothing_is_stored(alice: Any) -> None:
    # The streamed JSON parser (ijson's C backend) would turn it into "?": the raw bytes are checked instead
    # (uploads._SurrogateGuard), so the refusal names the escape and the record near it, not the field.
    client = client_for(alice)
    body = '[{"sku": "ok", "name": "n", "price": "1"}, {"sku": "b", "name": "\\ud83d", "price": "1"}]'
    one_shot = raw(client, "post", "/gadgets/bulk/", body)
    assert one_shot.status_code == 400
    assert "lone UTF-16 surrogate escape (\\ud83d)" in one_shot.json()["detail"]
    job = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()
    staged = raw(client, "put", f"/api/bulk-jobs/{job['id']}/data/", body)
    assert staged.status_code == 400 and "surrogate" in staged.json()["detail"]
    pair = '[{"sku": "e", "name": "\\ud83d\\ude00", "price": "1"}]'
    assert raw(client, "put", f"/api/bulk-jobs/{job['id']}/data/", pair).status_code == 201
    assert BulkJob.objects.count() == 1  # the one-shot upload left no job behind
    assert BulkJobDataChunk.objects.get().records[0]["name"] == "\U0001f600"


@jobs_urls
def test_a_number_past_float_range_in_job_data_is_a_400_naming_the_record(alice: Any) -> None:
    # The streamed parser refuses it while parsing (before: json.loads made it inf, refused by check_records).
    client = client_for(alice)
    body = '[{"sku": "ok", "name": "n", "price": "1"}, {"sku": "c", "name": "n", "price": 1e400}]'
    one_shot = raw(client, "post", "/gadgets/bulk/", body)
    assert one_shot.status_code == 400
    assert one_shot.json()["detail"].startswith("JSON parse error after record 0:")
    assert "overflow" in one_shot.json()["detail"]
    assert BulkJob.objects.count() == 0 and BulkJobDataChunk.objects.count() == 0


@jobs_urls
def test_nul_in_a_csv_upload_is_a_400(alice: Any) -> None:
    client = client_for(alice)
    job = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()
    body = "sku,name,price\nA,ok,1\nB,bad\x00name,2\n"
    response = client.put(f"/api/bulk-jobs/{job['id']}/data/", body, content_type="text/csv")
    assert response.status_code == 400 and response.json()["errors"][0]["index"] == 1
    assert BulkJobDataChunk.objects.count() == 0


@jobs_urls
def test_huge_or_malformed_offsets_and_limits_are_a_400(alice: Any) -> None:
    job = processing.run_job(closed_job(alice, gadgets(2)).pk)
    client = client_for(alice)
    for query in (
        "offset=99999999999999999999",
        "limit=99999999999999999999",
        "offset=1_0",
        "offset=%D9%A1",
        "offset=+1",
        "offset=-1",
    ):
        response = client.get(f"/api/bulk-jobs/{job.pk}/results/?{query}")
        assert response.status_code == 400, query
        assert list(response.json()) == [query.split("=")[0]]
        listing = client.get(f"/api/bulk-jobs/?{query}")
        assert listing.status_code == 400, query
    assert client.get(f"/api/bulk-jobs/{job.pk}/results/?offset=999999999999999").json()["results"] == []


@jobs_urls
@pytest.mark.parametrize(
    "spec", [{"sum": {"a": 1}}, {"sum": [{"a": 1}]}, {"custom": [["x"]]}, {"count": [1]}, {"max": None}]
)
def test_aggregates_with_names_that_are_not_strings_are_a_400(alice: Any, spec: dict[str, Any]) -> None:
    job = processing.run_job(closed_job(alice, gadgets(2)).pk)
    response = client_for(alice).post(f"/api/bulk-jobs/{job.pk}/aggregates/", spec, format="json")
    assert response.status_code == 400
    assert list(response.json()) == list(spec)


# -- (7) unique_fields of a job are checked when it is created ---------------------------------------------


@jobs_urls
@pytest.mark.parametrize("unique_fields", [["name"], ["nope"], ["sku", "name"]])
def test_invalid_unique_fields_of_a_job_are_the_sync_400(alice: Any, unique_fields: list[str]) -> None:
    client = client_for(alice)
    staged = client.post("/gadgets/bulk/jobs/", {"operation": "upsert", "unique_fields": unique_fields}, format="json")
    assert staged.status_code == 400 and list(staged.json()) == ["unique_fields"]
    one_shot = client.post(f"/gadgets/bulk/?unique_fields={','.join(unique_fields)}", gadgets(1), format="json")
    assert one_shot.status_code == 400 and one_shot.json() == staged.json()
    assert BulkJob.objects.count() == 0
    assert (
        client.post("/gadgets/bulk/jobs/", {"operation": "upsert", "unique_fields": ["sku"]}, format="json").status_code
        == 201
    )


def test_the_job_400_for_unique_fields_is_the_sync_one(api: APIClient) -> None:
    response = api.post("/things/?unique_fields=name", [{"name": "x", "sku": "y"}], format="json")
    assert response.status_code == 400 and list(response.json()) == ["unique_fields"]
    assert "is not a unique key of Thing" in response.json()["unique_fields"][0]


# -- (8) a read job is a read ---------------------------------------------------------------------------


@jobs_urls
def test_a_staged_read_job_needs_only_read_permission(alice: Any, staff: Any) -> None:
    reader = client_for(alice)
    assert reader.get("/staff-gadgets/bulk/?ids=1,2").status_code == 202
    assert reader.post("/staff-gadgets/bulk/jobs/", {"operation": "read"}, format="json").status_code == 201
    for operation in ("insert", "update", "delete"):
        refused = reader.post("/staff-gadgets/bulk/jobs/", {"operation": operation}, format="json")
        assert refused.status_code == 403, operation
    assert reader.post("/staff-gadgets/bulk/", gadgets(1), format="json").status_code == 403
    assert (
        client_for(staff).post("/staff-gadgets/bulk/jobs/", {"operation": "insert"}, format="json").status_code == 201
    )
    assert BulkJob.objects.filter(owner=alice).count() == 2
    anonymous = APIClient().post("/staff-gadgets/bulk/jobs/", {"operation": "read"}, format="json")
    assert anonymous.status_code in (401, 403)


# -- (5) CSV formula injection -------------------------------------------------------------------------------


def test_neutralise_quotes_every_formula_prefix_and_leaves_numbers() -> None:
    for prefix in FORMULA_PREFIXES:
        assert neutralise(prefix + "cmd|' /C calc'!A0") == "'" + prefix + "cmd|' /C calc'!A0"
    assert [neutralise(v) for v in ("-12.50", "+3", "-7", "plain", "", "a=b")] == [
        "-12.50",
        "+3",
        "-7",
        "plain",
        "",
        "a=b",
    ]
    assert neutralise("-1+1") == "'-1+1" and neutralise("@SUM(A1)") == "'@SUM(A1)"
    lines = "".join(csv_lines([{"=h": "=x", "n": -3, "d": {"a": "=b"}}]))
    assert lines == '\'=h,n,d\r\n\'=x,-3,"{""a"":""=b""}"\r\n'


@jobs_urls
def test_every_results_csv_neutralises_formulas(alice: Any) -> None:
    attack = "=cmd|' /C calc'!A0"
    records = [
        {"sku": "S1", "name": attack, "price": "1.00"},
        {"sku": "@S2", "name": "+x", "price": "cheap"},
        {"sku": "-S3", "name": "\tz", "price": "-1.50", "=col": "y"},
    ]
    job = closed_job(alice, records)
    jobs.abort(job)  # nothing processed: every record is "unprocessed"
    client = client_for(alice)
    unprocessed = client.get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed", HTTP_ACCEPT="text/csv")
    text = b"".join(unprocessed.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["index", "sku", "name", "price", "'=col"]
    assert rows[1:] == [
        ["0", "S1", "'" + attack, "1.00", ""],
        ["1", "'@S2", "'+x", "cheap", ""],
        ["2", "'-S3", "'\tz", "-1.50", "y"],
    ]
    for cell in (cell for row in rows for cell in row):
        assert not cell.startswith(FORMULA_PREFIXES) or cell in ("-1.50",)
    done = processing.run_job(closed_job(alice, records[:2]).pk)
    for kind in ("succeeded", "failed"):
        response = client.get(f"/api/bulk-jobs/{done.pk}/results/?kind={kind}", HTTP_ACCEPT="text/csv")
        for row in csv.reader(io.StringIO(b"".join(response.streaming_content).decode())):
            assert not any(cell.startswith(FORMULA_PREFIXES) for cell in row), row


# -- kinds that held: scoping, object permissions, owner-only jobs, 413s -------------------------------------


def test_scoping_a_user_never_reaches_another_users_rows(user: Any, other_user: Any) -> None:
    mine = Thing.objects.create(name="mine", sku="M", owner=user.username)
    theirs = Thing.objects.create(name="theirs", sku="T", owner=other_user.username)
    client = APIClient()
    client.force_authenticate(user)
    assert [row["id"] for row in client.get(f"/owned/?ids={mine.pk},{theirs.pk}").json()] == [mine.pk]
    assert client.patch("/owned/", [{"id": theirs.pk, "name": "x"}], format="json").status_code == 400
    assert client.delete(f"/owned/?ids={theirs.pk}").status_code == 400
    upsert = client.post("/owned/?unique_fields=sku", [{"sku": "T", "name": "stolen"}], format="json")
    assert upsert.status_code == 400
    assert Thing.objects.get(pk=theirs.pk).name == "theirs"


def test_object_permissions_refuse_the_whole_batch(api: APIClient) -> None:
    locked = Thing.objects.create(name="locked one", sku="L")
    free = Thing.objects.create(name="free", sku="F")
    assert api.delete(f"/locked/?ids={free.pk},{locked.pk}").status_code == 403
    assert Thing.objects.count() == 2


@jobs_urls
def test_jobs_are_their_owners_only(alice: Any, bob: Any) -> None:
    job = closed_job(alice, gadgets(1))
    other = client_for(bob)
    assert other.get(f"/api/bulk-jobs/{job.pk}/").status_code == 404
    assert other.get(f"/api/bulk-jobs/{job.pk}/results/?kind=unprocessed", HTTP_ACCEPT="text/csv").status_code == 404
    assert other.patch(f"/api/bulk-jobs/{job.pk}/", {"state": "Aborted"}, format="json").status_code == 404
    assert BulkJob.objects.get(pk=job.pk).state == "UploadComplete"


def test_oversized_requests_are_a_413(api: APIClient, settings: Any) -> None:
    settings.BULK_DRF_SYNC_MAX_ITEMS = 3
    response = api.post("/things/", [{"name": f"n{i}", "sku": f"s{i}"} for i in range(4)], format="json")
    assert response.status_code == 413
    settings.BULK_DRF_MAX_IDS = 2
    assert api.get("/things/?ids=1,2,3").status_code == 400
    assert Thing.objects.count() == 0


def test_error_messages_escape_what_they_echo(api: APIClient) -> None:
    response = api.get("/things/?ids=%00")
    assert response.status_code == 400 and "\x00" not in json.dumps(response.json(), ensure_ascii=False)


@pytest.mark.parametrize("lookup", ["99999999999999999999", "-99999999999999999999", "1.5", "%D9%A1"])
def test_a_detail_url_that_is_no_id_is_a_404(api: APIClient, lookup: str) -> None:
    row = things(1)[0]
    for method in ("get", "patch", "put", "delete"):
        response = getattr(api, method)(f"/things/{lookup}/", {"name": "x", "sku": "y"}, format="json")
        assert response.status_code == 404, (method, lookup)
    assert Thing.objects.get(pk=row.pk).name == "t0"


def test_json_nested_too_deeply_is_a_400(api: APIClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for method in ("post", "patch", "delete"):
        response = raw(api, method, "/things/", deep)
        assert response.status_code == 400, method
        assert response.json() == {"detail": "JSON parse error: the body is nested too deeply."}
    assert raw(api, "post", "/things/bulk/", deep).status_code == 400
    assert Thing.objects.count() == 0


@jobs_urls
def test_json_nested_too_deeply_is_a_400_on_the_job_resource(alice: Any) -> None:
    client = client_for(alice)
    job = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()
    response = raw(client, "put", f"/api/bulk-jobs/{job['id']}/data/", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert BulkJobDataChunk.objects.count() == 0


@pytest.mark.parametrize("value", ["1E+999999", "123456789.00", "1e-999999", "NaN", "Infinity"])
def test_an_upsert_key_the_column_cannot_hold_is_a_400(api: APIClient, value: str) -> None:
    response = api.post("/vouchers/?unique_fields=value", [{"value": value, "label": "x"}], format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"][0]["errors"]) == ["value"]
    assert Voucher.objects.count() == 0


# -- issue 12's routes: exports, cursors, CSV options, list filters, dry runs ----------------------------------


@jobs_urls
@pytest.mark.parametrize(
    "body",
    [
        '{"ids": [1, 2.5]}',
        '{"ids": [1e400]}',
        '{"ids": [true]}',
        '{"ids": ["\\u0661"]}',
        '{"ids": [99999999999999999999]}',
        '{"ids": [{"id": 1}]}',
        '{"fields": {"a": 1}}',
        '{"fields": ["sku\\u0000"]}',
        '{"fields": ["\\ud800"]}',
        '{"column_delimiter": ["COMMA"]}',
        '"COMMA"',
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ],
)
def test_bad_export_bodies_are_a_400_and_no_job_exists(alice: Any, body: str) -> None:
    response = raw(client_for(alice), "post", "/searchable-gadgets/bulk/export/", body)
    assert response.status_code == 400, response.content
    assert BulkJob.objects.count() == 0


@jobs_urls
@pytest.mark.parametrize(
    "query",
    ["search=%00", "search=a%00", "ordering=%00", "%00=1", "fields=%00", "ids=1,%D9%A1", "column_delimiter=%00"],
)
def test_bad_export_parameters_are_a_400_and_no_job_exists(alice: Any, query: str) -> None:
    response = client_for(alice).post(f"/searchable-gadgets/bulk/export/?{query}")
    assert response.status_code == 400, response.content
    assert BulkJob.objects.count() == 0


@jobs_urls
def test_an_ordering_outside_ordering_fields_is_ignored_not_run(alice: Any) -> None:
    JobGadget.objects.create(owner=alice, sku="A", name="a", price=1)
    response = client_for(alice).post("/searchable-gadgets/bulk/export/?ordering=owner__password")
    assert response.status_code == 202
    job = processing_export(response.json()["id"])
    assert job.state == "JobComplete" and job.succeeded_records == 1


def processing_export(job_id: str) -> BulkJob:
    from bulk_drf.jobs import runner

    done = runner.run_job(job_id)
    assert done is not None
    return done


@jobs_urls
@pytest.mark.parametrize(
    "query",
    [
        "locator=%00",
        "locator=%D9%A1",
        "locator=" + "A" * 5000,
        "locator=czAuMDAwMDAwMDA",
        "max_records=99999999999999999999",
        "max_records=1e3",
        "max_records=%D9%A1",
        "format=%00",
        "kind=%00",
        "offset=1&locator=x",
    ],
)
def test_bad_result_parameters_are_a_400(alice: Any, query: str) -> None:
    job = processing.run_job(closed_job(alice, gadgets(2)).pk)
    assert job is not None
    response = client_for(alice).get(f"/api/bulk-jobs/{job.pk}/results/?{query}")
    assert response.status_code == 400, response.content


@jobs_urls
@pytest.mark.parametrize(
    "query",
    [
        "state=%00",
        "operation=%C3%A9",
        "created_after=%00",
        "created_after=99999-01-01",
        "created_before=2026-13-01",
        "created_before=2026-01-01T25:00:00",
        "created_after=1e400",
    ],
)
def test_bad_job_list_filters_are_a_400(alice: Any, query: str) -> None:
    for url in ("/api/bulk-jobs/", "/gadgets/bulk/jobs/"):
        response = client_for(alice).get(f"{url}?{query}")
        assert response.status_code == 400, (url, response.content)


@jobs_urls
def test_a_dry_run_writes_nothing_even_with_bad_records(alice: Any) -> None:
    records = [{"sku": "A\u0000", "name": "x", "price": "1"}, {"sku": "B", "name": "y", "price": "1e400"}]
    response = raw(client_for(alice), "post", "/gadgets/bulk/?dry_run=1", json.dumps(records))
    assert response.status_code == 400  # unstorable values: refused at upload, as for a real job
    assert BulkJob.objects.count() == 0 and JobGadget.objects.count() == 0


@jobs_urls
def test_someone_elses_export_is_not_there(alice: Any, bob: Any) -> None:
    response = client_for(bob).post("/gadgets/bulk/export/")
    job_id = response.json()["id"]
    processing_export(job_id)
    for url in (f"/api/bulk-jobs/{job_id}/", f"/api/bulk-jobs/{job_id}/results/?format=csv"):
        assert client_for(alice).get(url).status_code == 404
