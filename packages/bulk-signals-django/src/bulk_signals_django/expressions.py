"""Which ``QuerySet.update()`` values the database computes from the updated row alone.

For those (``F`` of the row's own columns, ``Value``, arithmetic, ``Case/When`` over the row's own
columns), the pending value the SELECT before the UPDATE computes is the value the UPDATE writes, as
long as the rows are locked between the two (``SELECT ... FOR UPDATE``, or SQLite's single writer) and
the database coerces the SELECT's result as it coerces the assignment (a ``CAST`` to the column type on
PostgreSQL). So no SELECT after the UPDATE is needed. Anything else (``Subquery``, ``Now()``, functions,
joins, annotations) is re-read.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, ExpressionWrapper, F, Field, Q, Value, When
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import CombinedExpression

__all__ = ["COERCING_VENDORS", "reads_own_row"]

# Backends where the SELECT's value equals the written one: SQLite stores what the expression yields
# (its column affinity converts losslessly only; but Django rounds decimals read from a column, not from
# an expression: DecimalField targets are re-read there); PostgreSQL gets a CAST to the column type (the
# assignment's rounding).
COERCING_VENDORS = frozenset({"sqlite", "postgresql"})
_NODES = (F, Value, CombinedExpression, Case, When, ExpressionWrapper, Q)


def _own_field(table_model: type, name: str) -> Field[Any, Any] | None:
    opts = table_model._meta
    try:
        field = opts.pk if name == "pk" else opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False) or field.many_to_many or field.model is not table_model:
        return None
    return field  # type: ignore[return-value]


def _lookup_ok(table_model: type, key: str) -> bool:
    name, *rest = key.split(LOOKUP_SEP)
    field = _own_field(table_model, name)
    if field is None or len(rest) > 1:
        return False
    return not rest or field.get_lookup(rest[0]) is not None


def _constant(value: Any) -> bool:
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_constant(v) for v in value)
    return not hasattr(value, "resolve_expression")


def reads_own_row(table_model: type, value: Any) -> bool:
    """Whether ``value`` is a constant or an expression over columns of ``table_model``'s own table only."""
    if _constant(value):
        return True
    if not isinstance(value, _NODES):
        return False
    if isinstance(value, F):
        return type(value) is F and LOOKUP_SEP not in value.name and _own_field(table_model, value.name) is not None
    if isinstance(value, Q):
        for child in value.children:
            if isinstance(child, tuple):
                key, operand = child
                if not _lookup_ok(table_model, key) or not reads_own_row(table_model, operand):
                    return False
            elif not reads_own_row(table_model, child):
                return False
        return True
    if isinstance(value, When) and not reads_own_row(table_model, value.condition):
        return False
    return all(reads_own_row(table_model, source) for source in value.get_source_expressions() if source is not None)
