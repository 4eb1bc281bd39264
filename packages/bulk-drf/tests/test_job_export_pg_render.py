"""Export pages rendered by PostgreSQL (``jobs.pg_render``): byte for byte DRF's ``JSONRenderer`` text of the same
rows, and the column plan's, or not used at all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from bulk_drf.jobs import export, pg_render
from bulk_drf.models import BulkJob, BulkJobResultPage
from django.db import connection
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from tests import jobs_fixtures
from tests.jobs_app.models import Gadget as JobGadget
from tests.jobs_fixtures import client_for
from tests.models import Gadget, Thing

alice = jobs_fixtures.alice

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

# Every character PostgreSQL text can hold up to U+007F (not NUL), quotes, backslashes, non-ASCII, emoji, and the
# two separators JSONRenderer escapes.
NASTY = [chr(i) for i in range(1, 0x80)] + ["é", "ß", "中文", "😀", "\U0010ffff", "\u2028", "\u2029", "\x85", "\ufeff"]
TEXTS = ["", '"', "\\", '\\"', "a\u2028b\u2029c", *("".join(NASTY[i : i + 30]) for i in range(0, len(NASTY), 30))]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL renders the rows' JSON; on SQLite exports keep the column plan (test_job_export.py)")


class PlainGadgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "name", "sku", "price", "count", "big", "active", "thing"]


def rendered(serializer_class: type[serializers.Serializer], queryset: Any) -> bytes:  # type: ignore[type-arg]
    """``PostgreSQL's texts`` as a JSON array, as ``JSONRenderer`` writes ``serializer(many=True).data``."""
    plan = pg_render.row_json_plan(serializer_class([], many=True), queryset)
    assert plan is not None
    texts, last = plan.read(queryset, "asc")
    assert last == (queryset.last().pk if texts else None)
    return ("[" + ",".join(texts) + "]").encode()


def test_postgresql_writes_drfs_exact_text_for_every_kind_of_value() -> None:
    thing = Thing.objects.create(name="t", sku="t1")
    prices = ["-0.50", "0.00", "-0.00", "0.01", "999999.99", "-999999.99", "123.40"]
    bigs = [0, -1, 2**63 - 1, -(2**63), 2**31, 7]
    for i, text in enumerate(TEXTS * 2):
        Gadget.objects.create(
            name=text,
            sku=f"s{i}{text[:20]}",
            price=Decimal(prices[i % len(prices)]),
            count=i * 1000003,
            big=bigs[i % len(bigs)],
            active=i % 2 == 0,
            thing=thing if i % 3 else None,  # NULLs
        )
    queryset = Gadget.objects.order_by("pk")
    drf = JSONRenderer().render(PlainGadgetSerializer(queryset, many=True).data)
    assert rendered(PlainGadgetSerializer, queryset) == drf
    assert b"\\u2028" in drf and b"\\u001f" in drf and b'"-0.50"' in drf and b"null" in drf  # what was compared


def test_an_empty_page_is_no_text() -> None:
    plan = pg_render.row_json_plan(PlainGadgetSerializer([], many=True), Gadget.objects.all())
    assert plan is not None
    assert plan.read(Gadget.objects.order_by("pk"), "asc") == ([], None)


class FloatGadgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "name", "weight"]


class DatedGadgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "name", "created_at"]


class ChoiceGadgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gadget
        fields = ["id", "kind"]


class NarrowDecimalSerializer(serializers.ModelSerializer):
    price = serializers.DecimalField(max_digits=8, decimal_places=1)  # not the column's scale: DRF rounds

    class Meta:
        model = Gadget
        fields = ["id", "price"]


@pytest.mark.parametrize(
    "serializer_class",
    [FloatGadgetSerializer, DatedGadgetSerializer, ChoiceGadgetSerializer, NarrowDecimalSerializer],
)
def test_floats_dates_choices_and_rounded_decimals_keep_the_column_plan(serializer_class: Any) -> None:
    assert pg_render.row_json_plan(PlainGadgetSerializer([], many=True), Gadget.objects.all()) is not None
    assert pg_render.row_json_plan(serializer_class([], many=True), Gadget.objects.all()) is None


def test_an_unmanaged_model_or_a_pk_converted_on_read_keeps_the_column_plan(monkeypatch: Any) -> None:
    """An unmanaged model's columns may not be what its fields say (a view's plain numeric); a pk converted on
    read would give a raw resume point."""
    serializer = PlainGadgetSerializer([], many=True)
    assert pg_render.row_json_plan(serializer, Gadget.objects.all()) is not None
    monkeypatch.setattr(Gadget._meta, "managed", False)
    assert pg_render.row_json_plan(serializer, Gadget.objects.all()) is None
    monkeypatch.setattr(Gadget._meta, "managed", True)
    monkeypatch.setattr(Gadget._meta.pk, "from_db_value", lambda value, expression, connection: value, raising=False)
    assert pg_render.row_json_plan(serializer, Gadget.objects.all()) is None


def test_annotated_and_distinct_querysets_keep_the_column_plan() -> None:
    serializer = PlainGadgetSerializer([], many=True)
    assert pg_render.row_json_plan(serializer, Gadget.objects.annotate(n=Gadget.objects.none().values("pk"))) is None
    assert pg_render.row_json_plan(serializer, Gadget.objects.distinct()) is None
    assert pg_render.row_json_plan(serializer, Gadget.objects.extra(select={"one": "1"})) is None


def stored_pages(user: Any, url: str, *, render_in_database: bool) -> tuple[bool, list[tuple[int, int, str, str]]]:
    response = client_for(user).post(url, format="json")
    assert response.status_code == 202, response.content
    job = BulkJob.objects.get(pk=response.json()["id"])
    BulkJob.objects.filter(pk=job.pk).update(state="InProgress")
    exporter = export.Exporter(BulkJob.objects.get(pk=job.pk), render_in_database=render_in_database)
    for _ in exporter.pages():
        pass
    pages = BulkJobResultPage.objects.filter(job=job).order_by("start_index")
    return exporter._row_json is not None, list(pages.values_list("start_index", "count", "rows", "resume"))


@pytest.mark.parametrize("ordering", ["id", "-id"])
def test_an_exports_stored_pages_are_the_column_plans_byte_for_byte(alice: Any, settings: Any, ordering: str) -> None:
    settings.BULK_DRF_EXPORT_PAGE_SIZE = 4
    for i, text in enumerate(TEXTS):
        JobGadget.objects.create(owner=alice, sku=f"s{i}", name=text[:50], price=Decimal(f"-{i}.05"), qty=2**31 - 1 - i)
    url = f"/searchable-gadgets/bulk/export/?ordering={ordering}"
    new = stored_pages(alice, url, render_in_database=True)
    old = stored_pages(alice, url, render_in_database=False)
    assert (new[0], old[0]) == (True, False)  # each path was taken
    assert new[1] == old[1]
    assert [count for _, count, _, _ in new[1]] == [4, 4, 2]


def test_a_database_not_in_utf8_keeps_the_column_plan(monkeypatch: Any) -> None:
    """The page's SQL writes U+2028/U+2029 (``chr(8232)``), which only a UTF-8 database can hold."""
    serializer = PlainGadgetSerializer([], many=True)
    assert pg_render._server_encoding(connection) == "UTF8"
    assert pg_render.row_json_plan(serializer, Gadget.objects.all()) is not None
    monkeypatch.setattr(pg_render, "_server_encoding", lambda connection: "SQL_ASCII")
    assert pg_render.row_json_plan(serializer, Gadget.objects.all()) is None
