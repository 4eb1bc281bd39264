"""Sending an event to the receivers of its model and of the model's MTI parents.

A receiver connected with ``sender=Place`` also gets the events of ``Restaurant(Place)``. The core
filters senders by identity, so for a model with concrete parents we merge the receivers of every
model in the chain (each receiver once, in priority order) and call them with the concrete model as
the sender. Models without parents take the core's own ``send``.
"""

from __future__ import annotations

from typing import Any

from bulk_signals_core import Signal
from django.db.models.base import ModelBase

from .bypass import is_bypassed
from .events import BulkEvent

__all__ = ["emit", "receiver_count", "sender_chain", "wants"]

_CHAINS: dict[type, tuple[type, ...]] = {}


def sender_chain(model: type) -> tuple[type, ...]:
    """The model and the non-abstract models it inherits from (MTI parents, a proxy's concrete model)."""
    chain = _CHAINS.get(model)
    if chain is None:
        chain = tuple(
            klass
            for klass in model.__mro__
            if isinstance(klass, ModelBase) and hasattr(klass, "_meta") and not klass._meta.abstract
        )
        _CHAINS[model] = chain
    return chain


def wants(model: type, *signals: Signal[BulkEvent]) -> bool:
    """Whether any of ``signals`` would reach a receiver for ``model`` (and signals are not bypassed).

    This is the whole cost of a write when nobody listens: no row is loaded, no event is built.
    """
    if is_bypassed(model):
        return False
    chain = sender_chain(model)
    return any(signal.has_receivers(sender) for signal in signals for sender in chain)


def _merged_plan(signal: Signal[BulkEvent], chain: tuple[type, ...]) -> list[Any]:
    seen: set[int] = set()
    merged = []
    for sender in chain:
        for step in signal._plan_for(sender):  # the core's per-sender plan: (ref, kind, record)
            if id(step[2]) not in seen:
                seen.add(id(step[2]))
                merged.append(step)
    merged.sort(key=lambda step: step[2].sort_key())
    return merged


def emit(signal: Signal[BulkEvent], event: BulkEvent) -> None:
    """Send ``event`` with ``event.model`` as the sender; a receiver's exception propagates."""
    model = event.model
    chain = sender_chain(model)
    if len(chain) == 1 or not hasattr(signal, "_plan_for"):
        for sender in chain[:1] if len(chain) == 1 else chain:
            signal.send(sender, event)
        return
    for ref, kind, record in _merged_plan(signal, chain):
        receiver = ref()
        if receiver is None:
            continue
        try:
            signal._call(receiver, kind, model, event)
        except Exception as exc:
            if signal._on_error is not None:
                signal._on_error(record.id, exc)
            raise


def receiver_count(signal: Signal[BulkEvent], model: type) -> int:
    """How many receivers a send for ``model`` would call (its own, its parents' and ``ANY`` ones)."""
    chain = sender_chain(model)
    if not hasattr(signal, "_plan_for"):
        return int(any(signal.has_receivers(sender) for sender in chain))
    return sum(1 for ref, _, _ in _merged_plan(signal, chain) if ref() is not None)
