"""Sending an event, and connecting receivers so that MTI children reach their parents' receivers.

The core filters senders by identity and an event's sender is always its concrete model. So the nine
signals are :class:`ModelSignal`\\ s: a receiver connected for ``Place`` -- through the decorators,
``signal.connect(r, sender=Place)`` or Django's ``@receiver(signal, sender=Place)`` -- is connected for
``Place`` *and* for every model inheriting from it (``Restaurant(Place)``, proxies), including models
defined later (Django's ``class_prepared``). One send then reaches each receiver once, in priority order
across parent and child receivers, ``ANY`` receivers once, and a model nobody listens to stays at
``has_receivers() is False``: no extra query.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import MethodType
from typing import Any

from bulk_signals_core import ANY, Priority, Signal
from bulk_signals_core.receivers import describe
from django.db.models.signals import class_prepared

from . import telemetry
from .bypass import is_bypassed
from .events import BulkEvent

__all__ = ["ModelSignal", "connect_for_model", "emit", "receiver_count", "wants"]


@dataclass(frozen=True)
class _Connection:
    signal: ModelSignal
    receiver: Callable[[], Any]  # a (weak or strong) reference to the receiver
    model: type
    priority: int
    id: str | None
    weak: bool
    dispatch_uid: object


_CONNECTIONS: list[_Connection] = []
_LOCK = threading.RLock()


def wants(model: type, *signals: Signal[BulkEvent]) -> bool:
    """Whether any of ``signals`` would reach a receiver for ``model`` (and signals are not bypassed).

    This is the whole cost of a write when nobody listens: no row is loaded, no event is built.
    """
    if is_bypassed(model):
        return False
    return any(signal.has_receivers(model) for signal in signals)


def emit(signal: Signal[BulkEvent], event: BulkEvent) -> None:
    """Send ``event`` with ``event.model`` as the sender; a receiver's exception propagates."""
    if telemetry.SPANS:  # BULK_SIGNALS_OTEL_SPANS: the send in a span (off by default)
        return telemetry.dispatch(signal, event)
    signal.send(event.model, event)


def _is_model(sender: Any) -> bool:
    return isinstance(sender, type) and hasattr(sender, "_meta")


def _concrete_subclasses(model: type) -> list[type]:
    found: list[type] = []
    for sub in model.__subclasses__():
        meta = getattr(sub, "_meta", None)
        if meta is not None and not meta.abstract:
            found.append(sub)
        found.extend(_concrete_subclasses(sub))
    return list(dict.fromkeys(found))


def _child_id(ident: str | None, child: type) -> str | None:
    # Ids are unique per signal: the child's connection gets its own.
    return None if ident is None else f"{ident}@{child.__module__}.{child.__qualname__}"


def _ref(receiver: Callable[..., Any], weak: bool) -> Callable[[], Any]:
    if not weak:
        return lambda: receiver
    if isinstance(receiver, MethodType):
        return weakref.WeakMethod(receiver)
    try:
        return weakref.ref(receiver)
    except TypeError:  # not weak-referenceable: the core holds it strongly too
        return lambda: receiver


ORIGIN = "_bulk_signals_origin"
"""Attribute of a receiver the decorators wrap (for ``when=``/``on_commit=``): the user's function, by
which ``disconnect`` finds the wrapper."""


def _generated_id(conn: _Connection) -> str | None:
    target = conn.receiver()
    return None if conn.id is not None or target is None else describe(target)


def _matches(conn: _Connection, receiver: Any, sender: Any, ident: str | None, uid: object) -> bool:
    # Whether disconnect(receiver, sender=, id=, dispatch_uid=) names this model connection.
    if ident is not None:
        return conn.id == ident if conn.id is not None else _generated_id(conn) == ident
    if uid is not None:
        return conn.dispatch_uid == uid and conn.model is sender
    if conn.model is not sender or receiver is None:
        return False
    target = conn.receiver()
    return target == receiver or (target is not None and getattr(target, ORIGIN, None) is receiver)


class ModelSignal(Signal[BulkEvent]):
    """A core :class:`~bulk_signals_core.Signal` whose ``connect(..., sender=Model)`` also connects the
    receiver for every model inheriting from ``Model`` (multi-table children and proxies, now and later),
    and whose ``disconnect`` undoes that. Sends are the core's, unchanged."""

    def connect(
        self,
        receiver: Callable[..., Any] | None = None,
        *,
        sender: Any = ANY,
        priority: int = Priority.NORMAL,
        id: str | None = None,
        weak: bool = True,
        dispatch_uid: object = None,
    ) -> Any:
        """The core's ``connect``; with a model class as ``sender``, also for its subclasses."""
        if receiver is None or not _is_model(sender):
            return super().connect(
                receiver, sender=sender, priority=priority, id=id, weak=weak, dispatch_uid=dispatch_uid
            )
        with _LOCK:
            before = len(self)
            super().connect(receiver, sender=sender, priority=priority, id=id, weak=weak, dispatch_uid=dispatch_uid)
            if len(self) == before:  # the same receiver, id or dispatch_uid again: adds nothing
                return receiver
            conn = _Connection(self, _ref(receiver, weak), sender, priority, id, weak, dispatch_uid)
            _CONNECTIONS.append(conn)
            for sub in _concrete_subclasses(sender):
                self._connect_child(conn, receiver, sub)
        return receiver

    def _connect_child(self, conn: _Connection, receiver: Callable[..., Any], child: type) -> None:
        super().connect(
            receiver,
            sender=child,
            priority=conn.priority,
            id=_child_id(conn.id, child),
            weak=conn.weak,
            dispatch_uid=conn.dispatch_uid,
        )

    def disconnect(
        self,
        receiver: Callable[..., Any] | None = None,
        *,
        sender: Any = ANY,
        id: str | None = None,
        dispatch_uid: object = None,
    ) -> bool:
        """The core's ``disconnect``; a receiver connected for a model leaves its subclasses too."""
        with _LOCK:
            gone = [c for c in _CONNECTIONS if c.signal is self and _matches(c, receiver, sender, id, dispatch_uid)]
            if not gone:
                return super().disconnect(receiver, sender=sender, id=id, dispatch_uid=dispatch_uid)
            if id is not None and len({c.receiver() for c in gone if c.id is None}) > 1:
                raise ValueError(
                    f"{id!r} is the generated id of {len({c.receiver() for c in gone})} different receivers on "
                    f"{self.name}; disconnect them by function, or connect them with explicit ids"
                )
            done = False
            for conn in gone:
                _CONNECTIONS.remove(conn)
                for model in (conn.model, *_concrete_subclasses(conn.model)):
                    done = self._disconnect_model(conn, model) or done
            return done

    def _disconnect_model(self, conn: _Connection, model: type) -> bool:
        # One model's slot of a model connection (the connected model's, or a child's).
        if conn.id is not None:
            return super().disconnect(id=conn.id if model is conn.model else _child_id(conn.id, model))
        if conn.dispatch_uid is not None:
            return super().disconnect(sender=model, dispatch_uid=conn.dispatch_uid)
        target = conn.receiver()
        return target is not None and super().disconnect(target, sender=model)

    def disconnect_all(self) -> None:
        """Disconnect every receiver (and forget the model connections of this signal)."""
        with _LOCK:
            super().disconnect_all()
            forget(self)


def connect_for_model(
    signal: Signal[BulkEvent], receiver: Callable[..., Any], model: type, priority: int, id: str | None
) -> None:
    """Connect ``receiver`` (held strongly) for ``model`` and for every model inheriting from it, now and later."""
    signal.connect(receiver, sender=model, priority=priority, id=id, weak=False)


def _on_class_prepared(sender: type, **kwargs: Any) -> None:
    with _LOCK:
        for conn in list(_CONNECTIONS):
            if sender is not conn.model and issubclass(sender, conn.model):
                receiver = conn.receiver()
                if receiver is None:  # a weak receiver that died
                    _CONNECTIONS.remove(conn)
                else:
                    conn.signal._connect_child(conn, receiver, sender)


class_prepared.connect(_on_class_prepared, dispatch_uid="bulk_signals_django.dispatch")


def forget(signal: Signal[BulkEvent] | None = None) -> None:
    """Drop the bookkeeping of model connections (of one signal), after ``disconnect_all()``."""
    with _LOCK:
        _CONNECTIONS[:] = [c for c in _CONNECTIONS if signal is not None and c.signal is not signal]


def receiver_count(signal: Signal[BulkEvent], model: type) -> int:
    """How many live receivers connected for a model ``model`` gets on ``signal`` (its own and its parents')."""
    with _LOCK:
        return sum(
            1 for c in _CONNECTIONS if c.signal is signal and issubclass(model, c.model) and c.receiver() is not None
        )
