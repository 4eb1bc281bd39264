"""Turning the signals off for a block of code, per thread and per asyncio task (a ``ContextVar``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import cast

__all__ = ["bypass_signals", "is_bypassed"]

_ALL = object()
# None: nothing bypassed; _ALL: every model; a frozenset: those models and their subclasses.
_BYPASSED: ContextVar[object] = ContextVar("bulk_signals_bypassed", default=None)


@contextmanager
def bypass_signals(*models: type) -> Iterator[None]:
    """Send no bulk signal inside the block: for every model, or only for ``models`` (and their MTI children).

    The state lives in a ``ContextVar``: other threads and other asyncio tasks are not affected, and
    ``sync_to_async`` carries it into the worker thread of the async ORM methods.
    """
    current = _BYPASSED.get()
    if not models or current is _ALL:
        value: object = _ALL
    else:
        value = frozenset(models) | (current if isinstance(current, frozenset) else frozenset())
    token = _BYPASSED.set(value)
    try:
        yield
    finally:
        _BYPASSED.reset(token)


def is_bypassed(model: type) -> bool:
    """Whether signals for ``model`` are switched off in the current context."""
    value = _BYPASSED.get()
    if value is None:
        return False
    if value is _ALL:
        return True
    return any(issubclass(model, bypassed) for bypassed in cast("frozenset[type]", value))  # neither None nor _ALL
