"""``when=`` conditions: which records a receiver sees.

A condition is checked per row with ``check(new, old)``: ``old`` is ``None`` for creates and ``new``
is ``None`` for deletes. On a create every field counts as changed (``HasChanged`` holds, ``ChangesFrom``
and ``WasEqual`` do not); on a delete nothing changes and ``IsEqual`` looks at the deleted row.
Conditions combine with ``&``, ``|`` and ``~``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ChangesFrom", "ChangesTo", "Condition", "HasChanged", "IsEqual", "WasEqual"]


def _value(record: Any, name: str) -> Any:
    # Compare foreign keys by their raw id (no query); `name` may be the field name or its attname.
    try:
        field = record._meta.get_field(name)
    except Exception as exc:  # FieldDoesNotExist, or not a model instance
        raise ValueError(f"condition field {name!r} does not exist on {type(record).__name__}") from exc
    return getattr(record, getattr(field, "attname", name))


def _expected(value: Any) -> Any:
    return value.pk if hasattr(value, "_meta") and hasattr(value, "pk") else value


class Condition:
    """Base class: subclasses implement :meth:`check`."""

    def check(self, new: Any, old: Any) -> bool:
        """Whether the row (``new`` pending/written, ``old`` as it was) matches."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return _All(self, other)

    def __or__(self, other: Condition) -> Condition:
        return _Any(self, other)

    def __invert__(self) -> Condition:
        return _Not(self)


class HasChanged(Condition):
    """The field's value differs between the old and the new row (always true on create)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def check(self, new: Any, old: Any) -> bool:
        if new is None:
            return False
        if old is None:
            return True
        return bool(_value(new, self.field) != _value(old, self.field))

    def __repr__(self) -> str:
        return f"HasChanged({self.field!r})"


class ChangesTo(Condition):
    """The field becomes ``value`` (it was different before, or the row is new)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value = field, _expected(value)

    def check(self, new: Any, old: Any) -> bool:
        if new is None or _value(new, self.field) != self.value:
            return False
        return old is None or bool(_value(old, self.field) != self.value)

    def __repr__(self) -> str:
        return f"ChangesTo({self.field!r}, {self.value!r})"


class ChangesFrom(Condition):
    """The field was ``value`` and is something else now."""

    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value = field, _expected(value)

    def check(self, new: Any, old: Any) -> bool:
        if new is None or old is None or _value(old, self.field) != self.value:
            return False
        return bool(_value(new, self.field) != self.value)

    def __repr__(self) -> str:
        return f"ChangesFrom({self.field!r}, {self.value!r})"


class IsEqual(Condition):
    """The field equals ``value`` in the new row (in the deleted row for deletes)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value = field, _expected(value)

    def check(self, new: Any, old: Any) -> bool:
        record = new if new is not None else old
        return bool(_value(record, self.field) == self.value)

    def __repr__(self) -> str:
        return f"IsEqual({self.field!r}, {self.value!r})"


class WasEqual(Condition):
    """The field equalled ``value`` in the old row (never true on create)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value = field, _expected(value)

    def check(self, new: Any, old: Any) -> bool:
        return old is not None and bool(_value(old, self.field) == self.value)

    def __repr__(self) -> str:
        return f"WasEqual({self.field!r}, {self.value!r})"


class _All(Condition):
    def __init__(self, *parts: Condition) -> None:
        self.parts = parts

    def check(self, new: Any, old: Any) -> bool:
        return all(part.check(new, old) for part in self.parts)

    def __repr__(self) -> str:
        return " & ".join(f"({p!r})" for p in self.parts)


class _Any(Condition):
    def __init__(self, *parts: Condition) -> None:
        self.parts = parts

    def check(self, new: Any, old: Any) -> bool:
        return any(part.check(new, old) for part in self.parts)

    def __repr__(self) -> str:
        return " | ".join(f"({p!r})" for p in self.parts)


class _Not(Condition):
    def __init__(self, part: Condition) -> None:
        self.part = part

    def check(self, new: Any, old: Any) -> bool:
        return not self.part.check(new, old)

    def __repr__(self) -> str:
        return f"~({self.part!r})"
