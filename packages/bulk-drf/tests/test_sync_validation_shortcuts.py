"""``prepare_serializer``'s per-item shortcuts (quick twins of Django's/DRF's value validators, the
field loop worked out once, each field's validators read once) answer exactly what DRF answers:
same validated data, same errors and codes, and every hook (``validate_<field>``, ``validate()``,
validators with and without context, defaults, read-only and hidden fields) still runs per item."""

from decimal import Decimal
from typing import Any, ClassVar

import pytest
from bulk_drf.sync import shortcuts
from bulk_drf.sync.validation import error_details, prepare_serializer
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

pytestmark = pytest.mark.django_db


class Calls:
    log: ClassVar[list[str]] = []


class NeedsContext:
    """A validator with ``requires_context``: it gets the field."""

    requires_context = True

    def __call__(self, value: Any, field: Any) -> None:
        Calls.log.append(f"context:{field.field_name}")
        if value == "ctx":
            raise serializers.ValidationError(f"{field.field_name} refuses ctx.", code="ctx")


def no_django_word(value: str) -> None:
    Calls.log.append("django")
    if "django" in value:
        raise DjangoValidationError("No %(word)s here.", code="word", params={"word": "django"})


def whole_item_error(value: str) -> None:
    if value == "dict":
        raise serializers.ValidationError({"other": ["A dict detail is raised as it is."]})


class Upper(serializers.CharField):
    """A field class with its own ``get_value``."""

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        return value.upper() if isinstance(value, str) else value


class ItemSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5, min_length=2, validators=[NeedsContext(), no_django_word])
    title = serializers.CharField(
        source="label", required=False, allow_blank=True, max_length=8, validators=[whole_item_error]
    )
    code = Upper(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=0, max_value=10, default=1)
    ratio = serializers.FloatField(required=False, max_value=1.5)
    note = serializers.CharField(source="meta.note", required=False)  # a dotted source: nested dict
    limit = serializers.IntegerField(required=False, validators=[MaxValueValidator(lambda: 3)])  # callable limit
    raw = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True, max_length=4)
    strict = serializers.CharField(required=False, trim_whitespace=False, allow_null=True)
    short = serializers.CharField(required=False, min_length=2, max_length=4)  # only the standard validators
    owner = serializers.HiddenField(default="alice")
    created = serializers.CharField(read_only=True, default="now")

    def validate_quantity(self, value: int) -> int:
        Calls.log.append("validate_quantity")
        if value == 7:
            raise serializers.ValidationError("Seven is taken.", code="seven")
        return value * 2

    def validate_code(self, value: Any) -> Any:
        Calls.log.append("validate_code")
        if value == "BAD":
            raise DjangoValidationError("Bad code.", code="bad")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        Calls.log.append("validate")
        if attrs.get("label") == "clash" and attrs["name"] == "clash":
            raise serializers.ValidationError("Name and title clash.", code="clash")
        return {**attrs, "checked": True}


ITEMS: list[Any] = [
    {"name": "ok", "quantity": 3},
    {"name": "ok", "title": "t", "code": "abc", "ratio": 0.5, "note": "n", "limit": 2, "created": "ignored"},
    {"name": "x"},  # too short
    {"name": "toolong"},  # too long
    {"name": "\ud800ab"},  # a surrogate character
    {"name": "a\x00b"},  # a null character
    {"name": "ctx"},  # refused by the validator with context
    {"name": "djangos"},  # too long and a Django ValidationError with params
    {"name": "django"},  # a Django ValidationError alone
    {"name": "ab", "title": "dict"},  # a dict detail from a field validator
    {"name": "abcde", "quantity": 0},  # on the limits
    {"name": "abcdef"},  # one past the limit
    {"name": "ab", "short": "a"},
    {"name": "ab", "short": "ab"},
    {"name": "ab", "short": "abcd"},
    {"name": "ab", "short": "abcde"},
    {"name": "ab", "short": "a\x00"},
    {"name": "ab", "short": "\udfffb"},
    {"name": "ab", "short": "\x00\ud800\x00\udc00\x00x"},  # several errors at once
    {"name": "ab", "quantity": 10, "ratio": 1.5, "limit": 3, "title": "x" * 8},
    {"name": "ab", "quantity": -1},
    {"name": "ab", "quantity": 11},
    {"name": "ab", "quantity": 7},  # validate_quantity
    {"name": "ab", "quantity": "x"},
    {"name": "ab", "quantity": None},
    {"name": "ab", "ratio": 2},
    {"name": "ab", "ratio": "nan?"},
    {"name": "ab", "limit": 4},  # above the callable limit
    {"name": "ab", "code": "bad"},  # upper-cased by get_value, refused by validate_code
    {"name": "ab", "code": None},
    {"name": "  ", "title": ""},  # blank name
    {"name": True},
    {"name": ["a"]},
    {"name": "clash", "title": "clash"},  # validate()
    {"quantity": 2},  # name missing
    {},
    [],
    "text",
    None,
    {"name": 12345},  # a number is accepted as text
    {"name": " pad ", "title": "x" * 9},
    {"name": "\tab\n", "raw": " a ", "strict": "  "},  # stripped / kept as sent
    {"name": "ab", "raw": "     ", "strict": ""},  # too long untrimmed / blank not allowed
    {"name": "ab", "raw": "", "strict": None},
    {"name": "\u3000ab\u2003", "raw": 12, "strict": 1.5},  # Unicode spaces; numbers as text
    {"name": "\u3000\u2003"},  # only Unicode spaces: blank
    {"name": "ab", "quantity": "3", "limit": 3.0},
    {"name": "ab", "quantity": "3.0", "limit": "2.00 "},
    {"name": "ab", "quantity": 2.5},
    {"name": "ab", "quantity": False},
    {"name": "ab", "quantity": 10**30},
    {"name": "ab", "quantity": "1" * 1001},
]


def outcome(serializer: serializers.Serializer, item: Any) -> Any:
    """What a batch sees for one item (``operations._Batch._validate``)."""
    serializer.initial_data = item
    try:
        return "valid", serializer.run_validation(item)
    except serializers.ValidationError as exc:
        return "errors", error_details(exc.detail)


def drf(item: Any, partial: bool) -> Any:
    """DRF's own answer: a fresh serializer, nothing prepared."""
    return outcome(ItemSerializer(partial=partial), item)


@pytest.mark.parametrize("partial", [False, True])
def test_every_item_gets_drfs_own_answer_and_hooks(partial):
    prepared = ItemSerializer(partial=partial)
    prepare_serializer(prepared, ITEMS)

    Calls.log = []
    expected = [drf(item, partial) for item in ITEMS]
    drf_calls = Calls.log
    Calls.log = []
    got = [outcome(prepared, item) for item in ITEMS]

    assert got == expected
    assert Calls.log == drf_calls  # the same hooks, as often, in the same order
    assert "validate" in drf_calls and "validate_quantity" in drf_calls and "context:name" in drf_calls


def test_the_shortcuts_are_in_place():
    prepared = ItemSerializer()
    prepare_serializer(prepared, ITEMS)

    assert "to_internal_value" in vars(prepared)
    name = prepared.fields["name"]
    assert "run_validators" in vars(name)
    assert {type(v).__name__ for v in name.validators} >= {"_QuickMaxLength", "_QuickMinLength", "_QuickSurrogates"}
    assert any(isinstance(v, ProhibitSurrogateCharactersValidator) for v in name.validators)
    # only standard validators: one combined test first; with any other validator, the validators one by one
    assert prepared.fields["short"].run_validators.__name__ == "accepted_or_run"
    assert prepared.fields["name"].run_validators.__name__ == "run_validators"
    # a callable limit keeps Django's own validator
    assert [type(v) for v in prepared.fields["limit"].validators] == [MaxValueValidator]
    # the quick twins keep the original's state (limits, messages)
    quick = next(v for v in name.validators if isinstance(v, MaxLengthValidator))
    original = next(v for v in ItemSerializer().fields["name"].validators if isinstance(v, MaxLengthValidator))
    assert type(original) is MaxLengthValidator
    assert (quick.limit_value, str(quick.message), quick.code) == (5, str(original.message), original.code)


class OwnLoopSerializer(ItemSerializer):
    def to_internal_value(self, data: Any) -> Any:
        Calls.log.append("own to_internal_value")
        return super().to_internal_value(data)


class OwnValidatorsField(serializers.CharField):
    def run_validators(self, value: Any) -> None:
        Calls.log.append("own run_validators")
        super().run_validators(value)


class OwnFieldSerializer(serializers.Serializer):
    name = OwnValidatorsField(max_length=3)


def test_overridden_methods_are_kept():
    prepared = OwnLoopSerializer()
    prepare_serializer(prepared, [])
    Calls.log = []
    assert outcome(prepared, {"name": "ab"})[0] == "valid"
    assert "own to_internal_value" in Calls.log
    assert "to_internal_value" not in vars(prepared)

    prepared = OwnFieldSerializer()
    prepare_serializer(prepared, [])
    Calls.log = []
    assert outcome(prepared, {"name": "abcd"}) == (
        "errors",
        {"name": [{"message": "Ensure this field has no more than 3 characters.", "code": "max_length"}]},
    )
    assert Calls.log == ["own run_validators"]


def test_prepared_twice_still_answers_as_drf():
    prepared = ItemSerializer()
    prepare_serializer(prepared, ITEMS)
    prepare_serializer(prepared, ITEMS)  # an upsert's serializers, a retried chunk: idempotent

    assert [outcome(prepared, item) for item in ITEMS] == [drf(item, False) for item in ITEMS]


class OwnPrecision(serializers.DecimalField):
    def validate_precision(self, value: Any) -> Any:
        Calls.log.append("own validate_precision")
        return super().validate_precision(value)


class EmptyValuesMixin(serializers.Field):
    """Comes between DecimalField and Field: DecimalField.validate_empty_values's super() is this one."""

    def validate_empty_values(self, data: Any) -> Any:
        Calls.log.append("mixin validate_empty_values")
        return super().validate_empty_values(data)


class MixedDecimal(serializers.DecimalField, EmptyValuesMixin):
    pass


class ShortStrings(serializers.DecimalField):
    MAX_STRING_LENGTH = 5


class AmountsSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=0)
    precise = OwnPrecision(max_digits=6, decimal_places=2, required=False)
    mixed = MixedDecimal(max_digits=6, decimal_places=2, required=False)
    short = ShortStrings(max_digits=9, decimal_places=2, required=False)
    local = serializers.DecimalField(max_digits=6, decimal_places=2, localize=True, required=False)


AMOUNTS: list[Any] = [
    {"amount": "12.5", "precise": "1.25", "mixed": "3", "short": "12.45", "local": "1.5"},
    {"amount": 7, "precise": 7, "mixed": 7, "short": 123456, "local": 7},
    {"amount": "-0", "precise": "0001.5", "mixed": "1.255", "short": "1.2", "local": "2.5"},
    {"amount": "-1", "precise": "12345.6", "mixed": " 2 ", "short": "1e2", "local": "x"},
    {"amount": "10000", "precise": "1.234", "mixed": "", "short": "", "local": ""},
]


def test_a_decimal_field_gets_drfs_answers_and_its_own_methods():
    prepared = AmountsSerializer()
    prepare_serializer(prepared, AMOUNTS)
    quick = {name: shortcuts._quick_run_validation(field).__name__ for name, field in prepared.fields.items()}
    # DRF's class: the direct path; a class with its own step, a localized field: DRF's run_validation
    assert quick == {
        "amount": "decimal_value",
        "precise": "run_validation",
        "mixed": "run_validation",
        "short": "run_validation",
        "local": "run_validation",
    }

    Calls.log = []
    expected = [outcome(AmountsSerializer(), item) for item in AMOUNTS]
    drf_calls = Calls.log
    Calls.log = []
    assert [outcome(prepared, item) for item in AMOUNTS] == expected
    assert Calls.log == drf_calls
    assert "own validate_precision" in drf_calls and "mixin validate_empty_values" in drf_calls
    assert expected[0] == (
        "valid",
        {
            "amount": Decimal("12.50"),
            "precise": Decimal("1.25"),
            "mixed": Decimal("3.00"),
            "short": Decimal("12.45"),
            "local": Decimal("1.50"),
        },
    )
    assert expected[3][1]["amount"] == [
        {"message": "Ensure this value is greater than or equal to 0.", "code": "min_value"}
    ]
    assert expected[4] == (
        "errors",
        {
            "amount": [
                {
                    "message": "Ensure that there are no more than 4 digits before the decimal point.",
                    "code": "max_whole_digits",
                }
            ],
            "precise": [
                {"message": "Ensure that there are no more than 2 decimal places.", "code": "max_decimal_places"}
            ],
            "mixed": [{"message": "A valid number is required.", "code": "invalid"}],
            "short": [{"message": "A valid number is required.", "code": "invalid"}],
            "local": [{"message": "A valid number is required.", "code": "invalid"}],
        },
    )
