"""Values no database can store, found before they reach one.

A lone surrogate (``"\\ud800"``, which JSON allows as an escape) cannot be encoded to UTF-8: SQLite's and
PostgreSQL's drivers raise. PostgreSQL refuses NUL (``"\\u0000"``) in text and in ``jsonb``, and ``jsonb``
refuses ``Infinity``/``NaN`` (a JSON ``1e400`` parses as ``inf``). Such a value, anywhere in a record a
job stores or in the JSON a serializer hands to the database, is refused up front with a 400 naming the
record and the key, on every backend alike, instead of a 500 from the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .exceptions import BulkValidationError

__all__ = ["check_records", "printable", "unstorable", "unstorable_text"]

_MAX_REPORTED = 100  # a million bad records need not produce a million errors

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def printable(value: Any) -> str:
    """``value`` as text safe to echo in an error (which may itself be stored): escapes for anything else."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


def unstorable_text(text: str) -> str | None:
    """Why ``text`` cannot be stored (NUL or a lone surrogate), or None."""
    if text.isascii():
        return None if "\x00" not in text else "contains a NUL character (\\u0000), which databases cannot store"
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character (\\u0000), which databases cannot store"
    return f"contains a lone surrogate (\\u{ord(char):04x}), which is not valid Unicode text"


def unstorable(value: Any, *, floats: bool = True) -> tuple[str, str] | None:
    """``(path, reason)`` of the first value inside ``value`` that cannot be stored, or None.

    Walks dicts (keys and values) and lists without recursion (no depth limit to hit). ``path`` is
    the dotted key/index path below ``value`` (``""`` for ``value`` itself). With ``floats``, an
    infinite or NaN float is refused too (JSON columns cannot hold it).
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, current = stack.pop()
        kind = type(current)
        if kind is str:
            reason = unstorable_text(current)
            if reason is not None:
                return path, reason
        elif kind is float:
            if floats and not math.isfinite(current):
                return path, f"is {current}, which JSON cannot hold (a number too large, or not a number)"
        elif isinstance(current, dict):
            items: Iterable[tuple[Any, Any]] = current.items()
            pending = []
            for key, item in items:
                where = f"{path}.{printable(key)}" if path else printable(key)
                if isinstance(key, str):
                    reason = unstorable_text(key)
                    if reason is not None:
                        return where, f"(a key) {reason}"
                pending.append((where, item))
            stack.extend(reversed(pending))  # depth first, in the record's order
        elif isinstance(current, list | tuple):
            stack.extend(
                reversed([(f"{path}.{index}" if path else str(index), item) for index, item in enumerate(current)])
            )
    return None


def check_records(records: Sequence[Any], first_index: int = 0) -> None:
    """``BulkValidationError`` (400) listing the records holding a value no database can store.

    Each error is keyed by the record's top-level key (``non_field_errors`` when the record itself is
    the bad value) and names the path below it; indexes start at ``first_index``.
    """
    errors: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        problem = unstorable(record)
        if problem is None:
            continue
        path, reason = problem
        key, _, below = path.partition(".")
        where = f" (at {below})" if below else ""
        message = f"This value{where} {reason}." if key else f"This record {reason}."
        errors.append(
            {
                "index": first_index + index,
                "errors": {key or "non_field_errors": [{"message": message, "code": "invalid"}]},
            }
        )
        if len(errors) >= _MAX_REPORTED:
            break
    if errors:
        raise BulkValidationError(errors)
