"""Sending an event, and connecting receivers so that MTI children reach their parents' receivers.

The core filters senders by identity and an event's sender is always its concrete model. So a
receiver connected through :mod:`bulk_signals_django.decorators` for ``Place`` is connected for
``Place`` *and* for every model inheriting from it (``Restaurant(Place)``, proxies), including models
defined later (Django's ``class_prepared``). One send then reaches each receiver once, in priority
order, and a model nobody listens to stays at ``has_receivers() is False``: no extra query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bulk_signals_core import Signal
from django.db.models.signals import class_prepared

from .bypass import is_bypassed
from .events import BulkEvent

__all__ = ["connect_for_model", "emit", "receiver_count", "wants"]


@dataclass(frozen=True)
class _Connection:
    signal: Signal[BulkEvent]
    receiver: Callable[..., Any]
    model: type
    priority: int
    id: str | None


_CONNECTIONS: list[_Connection] = []
_COUNTS: dict[tuple[int, type], int] = {}


def wants(model: type, *signals: Signal[BulkEvent]) -> bool:
    """Whether any of ``signals`` would reach a receiver for ``model`` (and signals are not bypassed).

    This is the whole cost of a write when nobody listens: no row is loaded, no event is built.
    """
    if is_bypassed(model):
        return False
    return any(signal.has_receivers(model) for signal in signals)


def emit(signal: Signal[BulkEvent], event: BulkEvent) -> None:
    """Send ``event`` with ``event.model`` as the sender; a receiver's exception propagates."""
    signal.send(event.model, event)


def _concrete_subclasses(model: type) -> list[type]:
    found: list[type] = []
    for sub in model.__subclasses__():
        meta = getattr(sub, "_meta", None)
        if meta is not None and not meta.abstract:
            found.append(sub)
        found.extend(_concrete_subclasses(sub))
    return list(dict.fromkeys(found))


def _connect(conn: _Connection, sender: type) -> None:
    ident = conn.id
    if ident is not None and sender is not conn.model:  # ids are unique per signal: suffix the child
        ident = f"{ident}@{sender.__module__}.{sender.__qualname__}"
    conn.signal.connect(conn.receiver, sender=sender, priority=conn.priority, id=ident, weak=False)
    key = (id(conn.signal), sender)
    _COUNTS[key] = _COUNTS.get(key, 0) + 1


def connect_for_model(
    signal: Signal[BulkEvent], receiver: Callable[..., Any], model: type, priority: int, id: str | None
) -> None:
    """Connect ``receiver`` for ``model`` and for every model inheriting from it, now and later."""
    conn = _Connection(signal, receiver, model, priority, id)
    _CONNECTIONS.append(conn)
    _connect(conn, model)
    for sub in _concrete_subclasses(model):
        _connect(conn, sub)


def _on_class_prepared(sender: type, **kwargs: Any) -> None:
    for conn in _CONNECTIONS:
        if sender is not conn.model and issubclass(sender, conn.model):
            _connect(conn, sender)


class_prepared.connect(_on_class_prepared, dispatch_uid="bulk_signals_django.dispatch")


def forget(signal: Signal[BulkEvent] | None = None) -> None:
    """Drop the bookkeeping of decorator connections (of one signal), after ``disconnect_all()``."""
    _CONNECTIONS[:] = [c for c in _CONNECTIONS if signal is not None and c.signal is not signal]
    for key in [k for k in _COUNTS if signal is None or k[0] == id(signal)]:
        del _COUNTS[key]


def receiver_count(signal: Signal[BulkEvent], model: type) -> int:
    """How many decorator receivers ``model`` has on ``signal`` (its own and its parents')."""
    return _COUNTS.get((id(signal), model), 0)
