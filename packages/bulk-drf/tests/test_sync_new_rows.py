"""New rows of a bulk create/upsert (``operations.new_row_factory``) are the instances ``model()`` plus
a ``setattr`` per validated value would give: same ``__dict__`` (keys, order, values), fresh state,
fresh callable defaults, related objects cached; and ``model()`` itself whenever anything could
tell the difference (``pre_init``/``post_init`` receivers, an own ``__init__``, a property)."""

import decimal
from typing import Any

import pytest
from bulk_drf.sync.operations import new_row_factory
from django.db import models
from django.db.models.signals import post_init, pre_init

from tests.models import Gadget, Pair, Part, Thing, Ticket

pytestmark = pytest.mark.django_db


def plain(model: type[models.Model], data: dict[str, Any]) -> models.Model:
    obj = model()
    for name, value in data.items():
        setattr(obj, name, value)
    return obj


def same(a: models.Model, b: models.Model) -> None:
    da, db = dict(vars(a)), dict(vars(b))
    sa, sb = da.pop("_state"), db.pop("_state")
    assert list(da) == list(db)  # same attributes, same order
    assert da == db
    assert (sa.adding, sa.db, sa.fields_cache.keys()) == (sb.adding, sb.db, sb.fields_cache.keys())


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Thing, {"name": "n", "sku": "S", "quantity": 3}),
        (Thing, {"sku": "S", "name": "n"}),  # another order, defaults for the rest
        (Pair, {"left": "l", "right": "r"}),
        (Gadget, {"name": "g", "sku": "G", "price": decimal.Decimal("1.50"), "weight": None, "extra": {"a": 1}}),
        (Gadget, {"name": "g", "sku": "G", "price": decimal.Decimal("2")}),  # extra: its callable default
        (Thing, {"name": "n", "sku": "S", "limit": 5}),  # not a field: set as an attribute, as before
    ],
)
def test_new_rows_are_what_model_and_setattr_give(model, data):
    build = new_row_factory(model)

    assert build.__name__ == "build"  # the quick way is taken for these models
    same(build(data), plain(model, data))


def test_callable_defaults_are_evaluated_per_row():
    build = new_row_factory(Gadget)
    a, b = build({"name": "a"}), build({"name": "b"})

    assert a.extra == b.extra == {}
    assert a.extra is not b.extra
    assert a._state is not b._state


def test_a_field_class_with_its_own_get_default_is_asked_per_row():
    build = new_row_factory(Ticket)
    a, b = build({}), build({"label": "x"})

    assert b.number == a.number + 1
    assert Ticket().number == b.number + 1
    assert (a.label, b.label) == ("t", "x")


def test_a_related_object_is_set_through_its_descriptor():
    thing = Thing.objects.create(name="t", sku="T")
    build = new_row_factory(Part)

    part = build({"thing": thing, "position": 1})

    same(part, plain(Part, {"thing": thing, "position": 1}))
    assert part.thing_id == thing.pk
    assert part.thing is thing  # cached, no query


def test_receivers_of_pre_init_or_post_init_get_model_init(api):
    seen = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(sender)

    for signal in (pre_init, post_init):
        signal.connect(receiver, sender=Thing)
        try:
            assert new_row_factory(Thing).__name__ == "plain"
            assert new_row_factory(Pair).__name__ == "build"  # another model's receivers do not count
            seen.clear()
            response = api.post("/things/", [{"name": "a", "sku": "A"}, {"name": "b", "sku": "B"}], format="json")
            assert response.status_code == 201
            assert len(seen) >= 2  # every new row
        finally:
            signal.disconnect(receiver, sender=Thing)
            Thing.objects.all().delete()
    assert new_row_factory(Thing).__name__ == "build"


class InitThing(Thing):
    class Meta:
        proxy = True
        app_label = "tests"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialised = True


class PropertyThing(Thing):
    class Meta:
        proxy = True
        app_label = "tests"

    @property  # type: ignore[override]
    def quantity(self) -> int:
        return 1

    @quantity.setter
    def quantity(self, value: int) -> None:
        self.__dict__["quantity"] = value * 10


def test_an_own_init_or_a_property_over_a_column_gets_model_init():
    assert new_row_factory(InitThing).__name__ == "plain"
    assert new_row_factory(InitThing)({"name": "x"}).initialised
    assert new_row_factory(PropertyThing).__name__ == "plain"
    assert new_row_factory(PropertyThing)({"quantity": 2}).__dict__["quantity"] == 20
