"""Property-based differential tests of the DRF shortcuts (``bulk_drf.sync.shortcuts``): hypothesis generates
items and rows for serializers of every common field type, and each shortcut must answer exactly what DRF
answers, compared value for value with types and key order:

- validation: a serializer prepared for a batch (``prepare_serializer``) gives each item the validated data,
  or the errors (messages and codes, in order), that a fresh serializer's ``is_valid()`` gives;
- rendering: ``use_render_plan`` gives the output of ``Serializer(instance, many=True).data``.

One deliberate difference is left out of the generated values: the id syntax of ``bulk_drf.sync.ids`` (a
float, a sign, non-ASCII digits or spaces around an id are refused where DRF looks up ``int(value)``);
tests/test_sync_security.py and tests/test_attacks.py cover it. New rows are compared with
``Model(**values)`` in tests/test_sync_new_rows_rule.py.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest
from bulk_drf.sync.shortcuts import prepare_serializer, use_plain_views, use_render_plan
from bulk_drf.sync.validation import error_details
from django.db import models
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from tests.models import Gadget, GadgetProxy, Thing

pytestmark = pytest.mark.django_db

EXAMPLES = settings(max_examples=100, deadline=None)


def exact(value: Any) -> Any:
    """``value`` as a structure that compares types, key order and representations (``Decimal("1.0")`` is not
    ``Decimal("1.00")``, ``1`` is not ``True``, NaN equals NaN); model instances by class and pk."""
    if isinstance(value, dict):
        return ("dict", [(key, exact(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [exact(item) for item in value])
    if isinstance(value, models.Model):
        return ("model", type(value).__name__, value.pk)
    return (type(value).__name__, repr(value))


# -- generated values ------------------------------------------------------------------------------

_ODD_TEXT = ["", " ", "  a  ", "\t\n", "\u3000", "\u3000ab\u2003", "\x00", "a\x00b", "\ud800", "b\udfffc", "x" * 60]
JUNK = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)
)
TEXT = st.text(max_size=12) | st.sampled_from(_ODD_TEXT) | st.text(min_size=40, max_size=80)  # Unicode, overlong
INTEGERS = (
    st.integers(-20, 20)
    | st.integers()
    | st.integers().map(str)
    | st.sampled_from(["1.0", "1.5", " 3 ", "+4", "1e3", "\u0661", "2.00", "-0", "1_0", "9" * 30])
    | st.floats(allow_nan=True)
)
DECIMALS = (
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.decimals(min_value=-10000, max_value=10000, places=3).map(str)
    | st.floats()
    | st.sampled_from(["1.005", "12.5", " 7 ", "1e2", "-0.00", "abc", "9999.999"])
)
DATES = st.dates().map(datetime.date.isoformat) | st.dates() | st.datetimes() | st.sampled_from(["2024-02-30", "x"])
DATETIMES = (
    st.datetimes().map(datetime.datetime.isoformat)
    | st.datetimes(timezones=st.just(datetime.UTC)).map(datetime.datetime.isoformat)
    | st.datetimes()
    | st.sampled_from(["2024-01-01T25:00", "2024-01-01 10:00Z", "now"])
)
TIMES = st.times().map(datetime.time.isoformat) | st.sampled_from(["25:00", "8:30", "08:30:15.25"])
DURATIONS = st.timedeltas().map(str) | st.sampled_from(["1 00:00:05", "P1D", "-1", "10"])
BOOLEANS = st.sampled_from([True, False, "true", "false", "True", 1, 0, "1", "yes", "off", "maybe", 2, "", None])
CHOICES = st.sampled_from(["s", "l", "S", "x", "", "red", "green", "blue", "RED"])
UUIDS = st.uuids().map(str) | st.uuids().map(lambda u: u.hex) | st.sampled_from(["not-a-uuid", "{" + "0" * 32 + "}"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4) | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=5,
)


def fk_values(pks: list[int]) -> st.SearchStrategy[Any]:
    """Foreign keys as the id syntax has them (existing and unknown pks, as integers or ASCII digits), and
    values that are no id for DRF either."""
    known = st.sampled_from(pks)
    unknown = st.integers(1, 10**6).filter(lambda pk: pk not in pks) | st.integers(-(2**20), 0)
    ids = known | unknown
    return (
        ids
        | ids.map(str)
        | known.map(lambda pk: f"0{pk}")
        | st.booleans()
        | st.none()
        | st.sampled_from(["", "abc", "x1"])
        | st.lists(known, max_size=1)
        | st.dictionaries(st.just("id"), known, max_size=1)
    )


def items(fields: dict[str, st.SearchStrategy[Any]], ids: tuple[str, ...] = ()) -> st.SearchStrategy[list[Any]]:
    """Batches of items: dicts with any subset of ``fields`` (each a field's kind of value, or junk; the
    ``ids`` fields without the floats of the junk), and now and then something that is not a dict."""
    optional = {name: values if name in ids else values | JUNK for name, values in fields.items()}
    item = st.fixed_dictionaries({}, optional=optional)
    other = st.sampled_from([[], "text", None, 3, [{"name": "x"}]])
    return st.lists(item | other, min_size=1, max_size=5)


# -- validation ------------------------------------------------------------------------------------


class GadgetSerializer(serializers.ModelSerializer):
    """Every column type of Gadget, as ModelSerializer builds their fields (model validators, choices,
    a unique field, a nullable foreign key)."""

    class Meta:
        model = Gadget
        fields = [
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
            "thing",
        ]


class ShapesSerializer(serializers.Serializer):
    """Field options a ModelSerializer rarely sets: blank and null allowed, untrimmed text, limits, defaults."""

    text = serializers.CharField(max_length=10, min_length=2)
    blank = serializers.CharField(required=False, allow_blank=True, max_length=5, trim_whitespace=False)
    maybe = serializers.IntegerField(required=False, allow_null=True, min_value=-5, max_value=5)
    number = serializers.IntegerField(required=False)
    amount = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    day = serializers.DateField(required=False)
    moment = serializers.DateTimeField(required=False)
    flag = serializers.BooleanField(required=False)
    color = serializers.ChoiceField(choices=["red", "green"], required=False)
    ratio = serializers.FloatField(required=False, min_value=0)
    tag = serializers.CharField(required=False, default="none", max_length=3)
    nullable = serializers.CharField(required=False, allow_null=True, min_length=1)


def outcome(run: Any, item: Any) -> Any:
    try:
        return "valid", exact(run(item))
    except serializers.ValidationError as exc:
        return "errors", exact(error_details(exc.detail))
    except Exception as exc:  # DRF's own crash (a float past float's range): the same crash, then
        return "raised", type(exc).__name__


def drf_answer(serializer_class: type[serializers.Serializer], item: Any, partial: bool) -> Any:
    """DRF's own answer: a fresh serializer's ``is_valid()``, its validated data or the error detail it caught
    (``_errors``: ``.errors`` would word a lone null error of a whole item as "No data provided", a step of its
    own that neither the bulk path nor DRF's ``ListSerializer`` takes)."""
    serializer = serializer_class(data=item, partial=partial)
    try:
        if serializer.is_valid():
            return "valid", exact(serializer.validated_data)
    except Exception as exc:
        return "raised", type(exc).__name__
    return "errors", exact(error_details(serializer._errors))


def prepared_answers(serializer_class: type[serializers.Serializer], batch: list[Any], partial: bool) -> list[Any]:
    """The batch's answers from one prepared serializer, as ``operations._Batch._validate`` asks them."""
    serializer = serializer_class(partial=partial)
    prepare_serializer(serializer, batch)

    def run(item: Any) -> Any:
        serializer.initial_data = item
        return serializer.run_validation(item)

    return [outcome(run, item) for item in batch]


def test_prepared_validation_answers_as_drf_for_every_column_type():
    pks = [Thing.objects.create(name=f"t{n}", sku=f"T{n}").pk for n in range(3)]
    fields = {
        "name": TEXT,
        "sku": TEXT,
        "kind": CHOICES,
        "price": DECIMALS,
        "weight": st.floats() | DECIMALS,
        "count": INTEGERS,
        "big": INTEGERS,
        "active": BOOLEANS,
        "released": DATES,
        "opens": TIMES,
        "lasts": DURATIONS,
        "token": UUIDS,
        "extra": JSON,
        "thing": fk_values(pks),
    }

    @EXAMPLES
    @given(batch=items(fields, ids=("thing",)), partial=st.booleans())
    def check(batch: list[Any], partial: bool) -> None:
        expected = [drf_answer(GadgetSerializer, item, partial) for item in batch]
        assert prepared_answers(GadgetSerializer, batch, partial) == expected

    check()


def test_prepared_validation_answers_as_drf_for_field_options():
    fields = {
        "text": TEXT,
        "blank": TEXT,
        "maybe": INTEGERS,
        "number": INTEGERS,
        "amount": DECIMALS,
        "day": DATES,
        "moment": DATETIMES,
        "flag": BOOLEANS,
        "color": CHOICES,
        "ratio": DECIMALS,
        "tag": TEXT,
        "nullable": TEXT,
    }

    @EXAMPLES
    @given(batch=items(fields), partial=st.booleans())
    def check(batch: list[Any], partial: bool) -> None:
        expected = [drf_answer(ShapesSerializer, item, partial) for item in batch]
        assert prepared_answers(ShapesSerializer, batch, partial) == expected

    check()


class DecimalsSerializer(serializers.Serializer):
    """``DecimalField`` options: digits and places (either or both None, no room for a whole digit, none for a
    fraction, more than the plain-number pattern's 40 a side), limits, rounding, output options."""

    amount = serializers.DecimalField(max_digits=12, decimal_places=2)  # the ledger's amount
    fraction = serializers.DecimalField(max_digits=5, decimal_places=5, required=False)
    places = serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=False, required=False)
    digits = serializers.DecimalField(max_digits=6, decimal_places=None, required=False, allow_null=True)
    free = serializers.DecimalField(max_digits=None, decimal_places=None, required=False)
    limited = serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        min_value=decimal.Decimal("-10.5"),
        max_value=100,
        rounding=decimal.ROUND_HALF_UP,
        required=False,
    )
    whole = serializers.DecimalField(max_digits=4, decimal_places=0, rounding=decimal.ROUND_DOWN, required=False)
    wide = serializers.DecimalField(max_digits=90, decimal_places=45, required=False, normalize_output=True)
    wider = serializers.DecimalField(max_digits=95, decimal_places=None, required=False, coerce_to_string=True)


_ODD_NUMBERS = [
    *["", " ", "+", "-", ".", "-0", "+0", "-0.00", "007", "00012.50", ".5", "5.", "1.2.3", "1_000", "0x10"],
    *["1e3", "1E-2", "-1e+400", "1e999999999", "\u0661\u0662", "\uff11", " 12.5", "12.5 ", "12.5\n", "\u30001"],
    *["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "-inf", "Inf"],
    *["9" * 40, "9" * 41, "1" + "0" * 40, "0" * 50 + "1", "1" * 40 + "." + "1" * 40, "1." + "0" * 41, "9" * 1001],
    *["99999.99", "9999999999.99", "99999999999.99", "9999999999.995", "-10.5", "-10.5001", "100.0004", "100.0005"],
]
DECIMAL_INPUTS = (
    st.from_regex(r"[+-]?[0-9]{1,46}(\.[0-9]{0,46})?", fullmatch=True)  # plain numbers, past the pattern's bounds
    | st.from_regex(r"[+-]?[0-9]{1,6}(\.[0-9]{1,4})?", fullmatch=True)  # around the fields' limits
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True).map(str)  # exponents, NaN, Infinity as text
    | st.integers()
    | st.integers(-(10**41), 10**41)
    | st.sampled_from([10**40 - 1, -(10**40) + 1, 10**40, -(10**40), 10**60, 0, -1])
    | st.floats()
    | st.text(alphabet="0123456789+-.eE _\u0661\u3000", max_size=10)
    | st.sampled_from(_ODD_NUMBERS)
)

#: Thread contexts the values are validated in: DRF's quantize works in a copy of the thread's context.
_CONTEXTS = {
    "default": {},
    "narrow": {"prec": 4, "rounding": decimal.ROUND_FLOOR},
    "clamped": {"Emax": 3, "clamp": 1},  # folds Decimal(".1") ** places down: another quantum
    "subnormal traps": {"Emin": -1, "traps": [decimal.Subnormal, decimal.InvalidOperation]},
}


@pytest.mark.parametrize("context", list(_CONTEXTS))
def test_prepared_validation_answers_as_drf_for_decimal_fields(context):
    fields = dict.fromkeys(DecimalsSerializer._declared_fields, DECIMAL_INPUTS)

    @settings(max_examples=200, deadline=None)
    @given(batch=items(fields), partial=st.booleans())
    def check(batch: list[Any], partial: bool) -> None:
        with decimal.localcontext(**_CONTEXTS[context]):
            expected = [drf_answer(DecimalsSerializer, item, partial) for item in batch]
            assert prepared_answers(DecimalsSerializer, batch, partial) == expected

    check()


# -- rendering -------------------------------------------------------------------------------------


class GadgetRowSerializer(serializers.ModelSerializer):
    """Every column of Gadget, and fields reading them another way (sources, conversions, a property)."""

    alias = serializers.CharField(source="name", read_only=True)
    count_text = serializers.CharField(source="count", read_only=True)
    price_float = serializers.FloatField(source="price", read_only=True)
    thing_pk = serializers.ReadOnlyField(source="thing_id")
    label = serializers.ReadOnlyField()  # a property
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Gadget
        fields = "__all__"


# Column values as rows carry them (and now and then a value of another type, which DRF renders).
_COLUMNS = {
    "id": st.none() | st.integers(1, 2**40),
    "name": st.text(max_size=12) | st.text(min_size=60, max_size=80),
    "sku": st.text(max_size=8),
    "kind": st.sampled_from(["s", "l", "x", ""]),
    "price": st.decimals(allow_nan=False, allow_infinity=False, places=2) | st.decimals(allow_nan=False),
    "weight": st.none() | st.floats(),
    "count": st.integers(0, 2**31) | st.booleans(),
    "big": st.integers(),
    "active": st.booleans(),
    "released": st.none() | st.dates(),
    "opens": st.none() | st.times(),
    "lasts": st.none() | st.timedeltas(),
    "token": st.none() | st.uuids(),
    "extra": JSON,
    "thing_id": st.none() | st.integers(1, 2**40),
    "created_at": st.none() | st.datetimes() | st.datetimes(timezones=st.just(datetime.UTC)),
}
_ODD = {"count": st.text(max_size=3), "name": st.integers(), "price": st.floats(), "released": st.text(max_size=3)}


@st.composite
def rows(draw: st.DrawFn) -> list[Gadget]:
    found = []
    for _ in range(draw(st.integers(0, 4))):
        drawn = {name: draw(strategy) for name, strategy in _COLUMNS.items()}
        for name, strategy in _ODD.items():
            if draw(st.integers(0, 9)) == 0:
                drawn[name] = draw(strategy)
        row = draw(st.sampled_from([Gadget, Gadget, Gadget, GadgetProxy]))()
        for name, value in drawn.items():
            setattr(row, name, value)
        found.append(row)
    return found


def rendered(serializer: serializers.BaseSerializer) -> Any:
    try:
        return exact(list(serializer.data))
    except Exception as exc:  # DRF's own failure (a Decimal past max_digits): the same failure, then
        return "raised", type(exc).__name__


@EXAMPLES
@given(objs=rows())
def test_the_render_plan_gives_drfs_data(objs):
    expected = rendered(GadgetRowSerializer(objs, many=True))
    serializer = GadgetRowSerializer(objs, many=True)
    use_plain_views(serializer.child)
    use_render_plan(serializer, Gadget)
    assert "to_representation" in vars(serializer)  # the plan is in place
    assert rendered(serializer) == expected


def test_an_exact_helper_tells_apart_what_equality_does_not():
    assert exact({"a": decimal.Decimal("1.0")}) != exact({"a": decimal.Decimal("1.00")})
    assert exact([1]) != exact([True])
    assert exact({"a": 1, "b": 2}) != exact({"b": 2, "a": 1})
    assert exact(float("nan")) == exact(float("nan"))
