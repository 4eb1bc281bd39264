"""bulk-drf's new rows follow bulk-signals-django's one rule for building without ``__init__``
(``builders.can_build_without_init``): the instances are ``Model(**values)``'s, field for field, for models
the rule accepts and for those it refuses (which get ``model()`` plus ``setattr``)."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest
from bulk_drf.sync.operations import new_row_factory
from bulk_signals_django.builders import can_build_without_init
from django.db import models
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.models import Attachment, Gadget, Pair, Part, Shouted, Thing, Ticket

pytestmark = pytest.mark.django_db


def same(a: models.Model, b: models.Model) -> None:
    da, db = dict(vars(a)), dict(vars(b))
    sa, sb = da.pop("_state"), db.pop("_state")
    assert list(da) == list(db)
    assert da == db
    assert {k: type(v) for k, v in da.items()} == {k: type(v) for k, v in db.items()}
    assert (sa.adding, sa.db, sorted(sa.fields_cache)) == (sb.adding, sb.db, sorted(sb.fields_cache))


@pytest.mark.parametrize(
    ("model", "eligible"),
    [(Thing, True), (Gadget, True), (Part, True), (Pair, True), (Ticket, True), (Shouted, False), (Attachment, False)],
)
def test_the_quick_build_is_taken_exactly_where_the_rule_allows(model, eligible):
    assert can_build_without_init(model) is eligible
    assert new_row_factory(model).__name__ == ("build" if eligible else "plain")


def test_a_descriptor_converting_values_sees_the_default_too():
    # Fixed: the old rule let any DeferredAttribute subclass through and stored the default into __dict__
    # ("abc"); Model() stores it through the descriptor ("ABC").
    row = new_row_factory(Shouted)({"name": "n"})
    same(row, Shouted(name="n"))
    assert row.code == "ABC"
    assert new_row_factory(Shouted)({"name": "n", "code": "xy"}).code == "XY"


def test_a_file_field_model_gets_model_init():
    same(new_row_factory(Attachment)({"name": "a", "upload": "f.txt"}), Attachment(name="a", upload="f.txt"))


_TEXT = st.text(max_size=60)  # past max_length too: validation is not the builder's business
_GADGET_VALUES = {
    "name": _TEXT,
    "sku": _TEXT,
    "kind": st.sampled_from(["s", "l", "x"]),
    "price": st.decimals(allow_nan=False, allow_infinity=False),
    "weight": st.none() | st.floats(allow_nan=False),
    "count": st.integers(min_value=0),
    "big": st.integers(),
    "active": st.booleans(),
    "released": st.none() | st.dates(),
    "opens": st.none() | st.times(),
    "lasts": st.none() | st.timedeltas(),
    "token": st.none() | st.uuids(),
    "extra": st.dictionaries(st.text(max_size=3), st.integers() | st.text(max_size=3), max_size=3),
    "created_at": st.none() | st.datetimes(timezones=st.just(datetime.UTC)),
}


@st.composite
def gadget_values(draw: st.DrawFn) -> dict[str, Any]:
    """Validated data as a serializer hands it over: any subset of the fields, in any order, the foreign key
    as an instance (a PrimaryKeyRelatedField's value) or as an id."""
    values = draw(st.fixed_dictionaries({}, optional=_GADGET_VALUES))
    how = draw(st.sampled_from(["none", "object", "null", "id"]))
    if how == "object":
        values["thing"] = Thing(pk=draw(st.integers(1, 10**6)), name="t", sku="T")
    elif how == "null":
        values["thing"] = None
    elif how == "id":
        values["thing_id"] = draw(st.integers(1, 10**6))
    return dict(draw(st.permutations(list(values.items()))))


@settings(max_examples=100, deadline=None)
@given(values=gadget_values())
def test_new_rows_equal_model_init_field_by_field(values):
    row = new_row_factory(Gadget)(values)
    same(row, Gadget(**values))
    assert row._state.adding is True


def test_examples_of_the_generated_kinds_are_covered():
    # The property above draws these; one fixed example keeps a readable failure if the property breaks.
    values = {
        "token": uuid.UUID(int=1),
        "price": decimal.Decimal("1.50"),
        "thing": Thing(pk=3, name="t", sku="T"),
        "name": "\u00e9\U0001f600",
        "lasts": datetime.timedelta(seconds=1),
    }
    same(new_row_factory(Gadget)(values), Gadget(**values))
