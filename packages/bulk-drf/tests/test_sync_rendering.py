"""The rows of a bulk response are rendered with a per-field plan (``use_render_plan``); the output is
DRF's own, byte for byte, for every kind of field, and DRF renders whatever the plan does not cover."""

import datetime
import decimal
import uuid
from typing import Any

import pytest
from bulk_drf.jobs.export import _values_of, row_encoder
from bulk_drf.mixins import BulkOperationsMixin
from bulk_drf.sync.rendering import _field_plan, column_json_plan, column_plan, use_render_plan
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.routers import DefaultRouter
from rest_framework.utils.serializer_helpers import ReturnList

from tests.models import Gadget, GadgetProxy, Thing

pytestmark = pytest.mark.django_db


class UpperCharField(serializers.CharField):
    """A field class with its own ``to_representation``."""

    def to_representation(self, value: Any) -> str:
        return str(value).upper()


class FirstCharField(serializers.CharField):
    """A field class with its own ``get_attribute``."""

    def get_attribute(self, instance: Any) -> Any:
        return super().get_attribute(instance)[:1]


class GadgetSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()
    label = serializers.ReadOnlyField()  # a model property
    shout = serializers.CharField(read_only=True)  # a model method: DRF calls it
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    thing_sku = serializers.CharField(source="thing.sku", read_only=True, default=None)  # a dotted source
    alias = serializers.CharField(source="name", read_only=True)  # source=...
    thing_pk = serializers.ReadOnlyField(source="thing_id")  # the foreign key's column
    loud = UpperCharField(source="sku", read_only=True)
    initial = FirstCharField(source="name", read_only=True)
    price_float = serializers.FloatField(source="price", read_only=True)
    count_text = serializers.CharField(source="count", read_only=True)
    everything = serializers.HiddenField(default="x")  # write-only: not rendered

    class Meta:
        model = Gadget
        fields = "__all__"

    def get_summary(self, obj: Gadget) -> str:
        return f"{obj.kind}:{obj.count}"


class CustomRowSerializer(GadgetSerializer):
    """Overrides ``to_representation``: the plan must leave it alone."""

    def to_representation(self, instance: Any) -> Any:
        ret = super().to_representation(instance)
        ret["custom"] = instance.sku[::-1]
        return ret


class ReversingListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> Any:
        return list(reversed(super().to_representation(data)))


class CustomListSerializer(GadgetSerializer):
    class Meta(GadgetSerializer.Meta):
        list_serializer_class = ReversingListSerializer


def gadgets() -> list[Gadget]:
    thing = Thing.objects.create(name="t", sku="T1")
    full = Gadget(
        name="full",
        sku="G1",
        kind="l",
        price=decimal.Decimal("12.50"),
        weight=1.25,
        count=7,
        big=2**40,
        active=False,
        released=datetime.date(2024, 2, 29),
        opens=datetime.time(8, 30, 15, 250),
        lasts=datetime.timedelta(days=1, seconds=5),
        token=uuid.UUID(int=42),
        extra={"a": [1, 2]},
        thing=thing,
    )
    empty = Gadget(name="empty", sku="G2", price=decimal.Decimal("0"), thing=None)
    Gadget.objects.bulk_create([full, empty])
    odd = Gadget(name="odd", sku="G3", price=decimal.Decimal("3.1"))
    odd.save()
    odd.name = lambda: "called"  # DRF calls callables: the plan hands such values to DRF
    odd.count = True  # int(True) for an IntegerField, as DRF
    unsaved = Gadget(name="new", sku="G4", price=decimal.Decimal("1"))  # no pk, no created_at yet
    proxy = GadgetProxy.objects.get(pk=full.pk)  # another class: rendered by DRF
    return [full, empty, odd, unsaved, proxy]


def render(serializer_class: type, objs: list[Gadget], plan: bool) -> tuple[Any, bytes]:
    serializer = serializer_class(objs, many=True)
    if plan:
        use_render_plan(serializer, Gadget)
    data = serializer.data
    return data, JSONRenderer().render(data)


@pytest.mark.parametrize("serializer_class", [GadgetSerializer, CustomRowSerializer, CustomListSerializer])
def test_rendering_equals_drf_byte_for_byte(serializer_class):
    objs = gadgets()

    drf_data, drf_bytes = render(serializer_class, objs, plan=False)
    data, rendered = render(serializer_class, objs, plan=True)

    assert rendered == drf_bytes
    assert data == drf_data
    assert type(data) is ReturnList
    assert [list(row) for row in data] == [list(row) for row in drf_data]  # same keys, same order


def test_the_plan_reads_columns_and_leaves_other_fields_to_drf():
    fields = GadgetSerializer().fields
    planned = {name: _field_plan(fields[name], Gadget)[1] for name in fields if not fields[name].write_only}

    assert {name for name, column in planned.items() if column} == {
        "id",
        "name",
        "sku",
        "kind",
        "price",
        "weight",
        "count",
        "big",
        "active",
        "released",
        "opens",
        "lasts",
        "token",
        "extra",
        "created_at",
        "thing",
        "alias",
        "thing_pk",
        "loud",
        "price_float",
        "count_text",
    }
    assert planned["thing"] == planned["thing_pk"] == "thing_id"
    assert {name for name, column in planned.items() if not column} == {
        "summary",
        "label",
        "shout",
        "kind_display",
        "thing_sku",
        "initial",
    }


class ColumnsSerializer(serializers.ModelSerializer):
    """Every field reads one column: ``column_plan`` renders it from ``values_list`` alone."""

    alias = serializers.CharField(source="name", read_only=True)
    thing_pk = serializers.ReadOnlyField(source="thing_id")
    loud = UpperCharField(source="sku", read_only=True)
    price_float = serializers.FloatField(source="price", read_only=True)
    count_text = serializers.CharField(source="count", read_only=True)
    everything = serializers.HiddenField(default="x")

    class Meta:
        model = Gadget
        fields = "__all__"


def test_the_column_plan_renders_the_columns_values_as_drf_renders_the_rows():
    stored = [obj for obj in gadgets()[:3] if obj.pk is not None]
    Gadget.objects.filter(pk=stored[2].pk).update(count=True)
    rows = list(Gadget.objects.filter(pk__in=[g.pk for g in stored]).order_by("pk"))
    serializer = ColumnsSerializer([], many=True)
    plan = column_plan(serializer, Gadget)
    assert plan is not None
    attnames, render = plan
    assert "everything" not in attnames and "thing_id" in attnames and attnames.count("name") == 1

    values = Gadget.objects.filter(pk__in=[g.pk for g in stored]).order_by("pk").values_list(*attnames)
    rendered = [render(row) for row in values]

    drf = ColumnsSerializer(rows, many=True).data
    assert JSONRenderer().render(rendered) == JSONRenderer().render(drf)
    assert [list(row) for row in rendered] == [list(row) for row in drf]


def test_the_json_column_plan_writes_drfs_json_text_row_for_row():
    stored = [obj for obj in gadgets()[:3] if obj.pk is not None]
    Gadget.objects.filter(pk=stored[0].pk).update(name='naïve "quoted" \n line', weight=float("1e300"))
    Gadget.objects.filter(pk=stored[2].pk).update(count=True)
    rows = list(Gadget.objects.filter(pk__in=[g.pk for g in stored]).order_by("pk"))
    plan = column_json_plan(ColumnsSerializer([], many=True), Gadget, row_encoder())
    assert plan is not None
    attnames, render = plan
    values = Gadget.objects.filter(pk__in=[g.pk for g in stored]).order_by("pk").values_list(*attnames)
    texts = [render(row) for row in values]
    assert texts == [JSONRenderer().render(row).decode() for row in ColumnsSerializer(rows, many=True).data]


def test_an_exports_read_is_djangos_values_list_and_renders_as_drf():
    stored = [obj for obj in gadgets()[:3] if obj.pk is not None]  # "empty": NULL weight, dates, uuid, thing
    Gadget.objects.filter(pk=stored[0].pk).update(name="naïve \u2028 ☃ \U0001f600", price=decimal.Decimal("-0.05"))
    queryset = Gadget.objects.filter(pk__in=[g.pk for g in stored]).order_by("pk")
    plan = column_json_plan(ColumnsSerializer([], many=True), Gadget, row_encoder())
    assert plan is not None
    attnames, render = plan

    read = _values_of(queryset[:10], attnames)
    django = list(queryset[:10].values_list(*attnames))
    assert read == django and len(read) == 3
    assert [[type(value) for value in row] for row in read] == [[type(value) for value in row] for row in django]
    assert None in read[1] and any(isinstance(value, datetime.datetime) for value in read[0])
    texts = [render(row) for row in read]
    assert texts == [JSONRenderer().render(row).decode() for row in ColumnsSerializer(list(queryset), many=True).data]
    assert "\\u2028" in texts[0] and "☃" in texts[0]
    assert _values_of(queryset.filter(pk__in=[]), attnames) == []  # no query at all


def test_no_column_plan_where_a_field_is_not_a_column():
    assert column_plan(GadgetSerializer([], many=True), Gadget) is None  # method fields, properties, dotted sources
    assert column_plan(CustomRowSerializer([], many=True), Gadget) is None
    assert column_plan(ColumnsSerializer(), Gadget) is None  # one row's serializer: not a list


def test_a_serializer_overriding_to_representation_keeps_its_own():
    for serializer_class in (CustomRowSerializer, CustomListSerializer):
        serializer = serializer_class([], many=True)
        use_render_plan(serializer, Gadget)
        assert "to_representation" not in vars(serializer)
    serializer = GadgetSerializer([], many=True)
    use_render_plan(serializer, Gadget)
    assert "to_representation" in vars(serializer)


class GadgetViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = Gadget.objects.all()
    serializer_class = GadgetSerializer


router = DefaultRouter()
router.register("gadgets", GadgetViewSet, basename="gadget")
urlpatterns = [path("", include(router.urls))]


@pytest.mark.urls(__name__)
def test_bulk_responses_render_as_drf_renders_the_stored_rows(api):
    thing = Thing.objects.create(name="t", sku="T1")
    payload = [
        {
            "name": "a",
            "sku": "A",
            "kind": "l",
            "price": "1.5",
            "weight": 0.5,
            "count": 3,
            "big": 2**40,
            "active": False,
            "released": "2024-02-29",
            "opens": "08:30:15.000250",
            "lasts": "1 00:00:05",
            "token": str(uuid.UUID(int=7)),
            "extra": {"k": [1, None]},
            "thing": thing.pk,
        },
        {"name": "b", "sku": "B", "price": "2"},
    ]

    created = api.post("/gadgets/", payload, format="json")
    updated = api.patch("/gadgets/", [{"id": created.data["ids"][1], "thing": thing.pk, "count": 9}], format="json")

    assert created.status_code == 201, created.data
    assert updated.status_code == 200, updated.data
    stored = GadgetSerializer(Gadget.objects.order_by("pk"), many=True).data
    # "a" as created is "a" as stored; "b" as updated is "b" as stored
    assert JSONRenderer().render(created.data["data"][:1]) == JSONRenderer().render(stored[:1])
    assert JSONRenderer().render(updated.data["data"]) == JSONRenderer().render(stored[1:])


@pytest.mark.urls(__name__)
def test_ids_reads_render_as_drf_renders_the_rows(api):
    full, empty, odd, *_ = gadgets()
    ids = [odd.pk, full.pk, empty.pk]

    response = api.get(f"/gadgets/?ids={','.join(map(str, ids))}", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    stored = {row["id"]: row for row in GadgetSerializer(Gadget.objects.all(), many=True).data}
    assert response.content == JSONRenderer().render([stored[pk] for pk in ids])
