"""The id syntax of the bulk API: what a client may send where a row's primary key is expected.

Django's ``Field.to_python`` is lenient in ways that are wrong for an id: ``int(2.9)`` is 2 (a float id
reaches another row), ``int("\\u0661")`` (an Arabic-Indic one) is 1, ``int("1_0")`` is 10, ``int("+1")``
is 1, ``int(1e400)`` raises ``OverflowError``, and an integer past the column's range fails in the
database. ``parse_id`` accepts, per type of primary key:

- integer pks (``AutoField``, ``BigAutoField``, ``IntegerField``, ...): a JSON integer (not a boolean,
  not a float, not even ``2.0``) or a string of ASCII digits with an optional leading ``-``; within the
  column's range on the database.
- ``UUIDField`` pks: a string of 32 hexadecimal digits, with or without the four dashes of the
  canonical form (no braces, no ``urn:uuid:``).
- text pks (``CharField``, ``SlugField``, ...): a non-empty string (or a JSON integer, as its decimal
  text) without NUL or lone surrogate characters, within ``max_length``.
- any other pk type: a string or integer its field accepts.

A foreign key (or one-to-one) pk follows the type of the pk it points to. Everything else raises
``InvalidId`` with a message naming the value and the rule.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, models, router

__all__ = ["INTEGER_TYPES", "InvalidId", "id_parser", "id_rule", "parse_id"]

INTEGER_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
TEXT_TYPES = frozenset({"CharField", "SlugField", "TextField", "EmailField", "URLField", "FilePathField"})

_INTEGER = re.compile(r"-?[0-9]+\Z")  # [0-9]: ASCII digits only (``\d`` would take any script's digits)
_UUID = re.compile(r"(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\Z")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL refuses it), lone surrogates (not UTF-8)
_MAX_TEXT = 1000  # digits or characters considered at all; longer values are refused before any work


class InvalidId(ValueError):
    """A value that is not an id of the pk field; ``code`` is ``invalid`` or ``out_of_range``."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _target(pk_field: models.Field[Any, Any]) -> models.Field[Any, Any]:
    field = pk_field
    target: models.Field[Any, Any] | None = getattr(field, "target_field", None) if field.is_relation else None
    while target is not None:  # a foreign key (or one-to-one) pk: the type of the pk it points to
        field = target
        target = getattr(field, "target_field", None) if field.is_relation else None
    return field


def id_rule(pk_field: models.Field[Any, Any]) -> str:
    """What an id of ``pk_field`` looks like, in words (for error messages and docs)."""
    internal = _target(pk_field).get_internal_type()
    if internal in INTEGER_TYPES:
        return "an integer: a JSON integer or ASCII digits"
    if internal == "UUIDField":
        return "a UUID: 32 hexadecimal digits, dashes optional"
    return "a string"


def _shown(raw: Any) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    text = text.encode("unicode_escape").decode("ascii") if not text.isascii() or not text.isprintable() else text
    return text if len(text) <= 40 else text[:37] + "..."


def parse_id(pk_field: models.Field[Any, Any], raw: Any) -> Any:
    """``raw`` as a value of ``pk_field`` (see the module docstring); ``InvalidId`` otherwise."""
    return id_parser(pk_field)(raw)


@cache
def id_parser(pk_field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """``parse_id`` for one pk field, with the field's type and range worked out once (a batch parses
    a thousand ids: the router, the connection and the range are not looked up for each)."""
    field = _target(pk_field)
    internal = field.get_internal_type()
    rule = id_rule(pk_field)
    if internal in INTEGER_TYPES:
        low, high = _range(field, internal)
        match = _INTEGER.match

        def integer(raw: Any) -> int:
            if type(raw) is int:
                value = raw
            elif type(raw) is str and len(raw) <= _MAX_TEXT and match(raw) is not None:
                value = int(raw)
            else:
                raise InvalidId(f"'{_shown(raw)}' is not a valid id ({rule}).")
            if value < low or value > high:
                raise InvalidId(f"'{_shown(raw)}' is out of the range of ids ({low} to {high}).", "out_of_range")
            return value

        return integer

    def other(raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)) or (isinstance(raw, str) and len(raw) > _MAX_TEXT):
            raise InvalidId(f"'{_shown(raw)}' is not a valid id ({rule}).")
        if internal == "UUIDField":
            if not isinstance(raw, str) or _UUID.match(raw) is None:
                raise InvalidId(f"'{_shown(raw)}' is not a valid id ({rule}).")
            return uuid.UUID(raw)
        text = raw if isinstance(raw, str) else str(raw)
        if not text or _UNSTORABLE.search(text) is not None:
            raise InvalidId(
                f"'{_shown(raw)}' is not a valid id: an id is a non-empty string without NUL or lone surrogates."
            )
        if internal in TEXT_TYPES:
            max_length = getattr(field, "max_length", None)
            if max_length is not None and len(text) > max_length:
                raise InvalidId(f"'{_shown(raw)}' is not a valid id: ids are at most {max_length} characters.")
            return text
        try:
            return field.to_python(text)
        except (DjangoValidationError, TypeError, ValueError, OverflowError, ArithmeticError):
            raise InvalidId(f"'{_shown(raw)}' is not a valid id.") from None

    return other


def _range(field: models.Field[Any, Any], internal: str) -> tuple[int, int]:
    """The column's range on its database; at most the signed 64 bits every backend's driver can bind."""
    connection = connections[router.db_for_read(field.model)] if getattr(field, "model", None) else None
    low, high = connection.ops.integer_field_range(internal) if connection is not None else (None, None)
    low = -(2**63) if low is None else max(low, -(2**63))
    high = 2**63 - 1 if high is None else min(high, 2**63 - 1)
    return low, high
