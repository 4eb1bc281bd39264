"""Decorators connecting a receiver to one signal for one model (and its MTI children).

Each is ``(model, *, when=None, priority=Priority.NORMAL, on_commit=False, id=None)`` and returns
the function unchanged::

    @after_update(Account, when=HasChanged("balance"), on_commit=True)
    def audit(sender, event): ...
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from bulk_signals_core import Priority, Signal
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from . import signals
from .conditions import Condition
from .conf import settings
from .dispatch import ORIGIN, connect_for_model, receiver_count
from .events import BulkEvent

__all__ = [
    "MultipleReceiversWarning",
    "after_create",
    "after_delete",
    "after_update",
    "before_create",
    "before_delete",
    "before_update",
    "validate_create",
    "validate_delete",
    "validate_update",
]

F = TypeVar("F", bound=Callable[..., Any])


class MultipleReceiversWarning(UserWarning):
    """A model got more than one receiver on one signal (``BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS``)."""


def _wrap(func: Callable[..., Any], when: Condition | None, on_commit: bool) -> Callable[..., Any]:
    # Without when= or on_commit=, the function itself is connected (as Django's @receiver does), so
    # signal.disconnect(func, sender=Model) finds it. Otherwise a wrapper applies `when` (the receiver
    # sees only matching rows and is skipped when none match) and defers to transaction.on_commit. It
    # keeps the function's name (the receiver's id in errors and logs) and names the function under
    # ORIGIN, by which disconnect(func, ...) finds the wrapper.
    if when is None and not on_commit:
        return func

    def prepare(event: BulkEvent) -> BulkEvent | None:
        if when is not None:
            event = event.matching(when)
            if not len(event):
                return None
        return event

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(func) and not on_commit:

        @functools.wraps(func)
        async def async_receiver(sender: Any, event: BulkEvent) -> Any:
            filtered = prepare(event)
            if filtered is None:
                return None
            return await func(sender, filtered)

        wrapper = async_receiver
    else:
        # on_commit=True registers from synchronous code, for an `async def` too: Django's on_commit
        # cannot be called inside a running event loop (SynchronousOnlyOperation). The coroutine runs
        # after the commit, in the thread that committed.
        call = async_to_sync(func) if inspect.iscoroutinefunction(func) else func

        @functools.wraps(func)
        def receiver(sender: Any, event: BulkEvent) -> Any:
            filtered = prepare(event)
            if filtered is None:
                return None
            if on_commit:
                transaction.on_commit(lambda: call(sender, filtered), using=filtered.using)
                return None
            return call(sender, filtered)

        wrapper = receiver
    setattr(wrapper, ORIGIN, func)
    return wrapper


def _warn_if_crowded(signal: Signal[BulkEvent], model: type) -> None:
    try:
        enabled = settings.WARN_MULTIPLE_RECEIVERS
    except ImproperlyConfigured:  # settings not configured yet: nothing to read
        return
    if not enabled:
        return
    count = receiver_count(signal, model)
    if count > 1:
        warnings.warn(
            f"{model.__name__} has {count} receivers on {signal.name}; set "
            "BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS = False to silence this",
            MultipleReceiversWarning,
            stacklevel=4,
        )


def _decorator(signal: Signal[BulkEvent]) -> Callable[..., Callable[[F], F]]:
    def decorator(
        model: type,
        *,
        when: Condition | None = None,
        priority: int = Priority.NORMAL,
        on_commit: bool = False,
        id: str | None = None,
    ) -> Callable[[F], F]:
        if not isinstance(model, type):
            raise TypeError(f"{signal.name} decorator needs a model class first, not {model!r}")
        if when is not None and not isinstance(when, Condition):
            raise TypeError(f"when= must be a Condition such as HasChanged('field'), not {when!r}")

        def connect(func: F) -> F:
            connect_for_model(signal, _wrap(func, when, on_commit), model, priority, id)
            _warn_if_crowded(signal, model)
            return func

        return connect

    decorator.__name__ = signal.name.replace("bulk_pre", "before").replace("bulk_post", "after").replace("bulk_", "")
    decorator.__doc__ = f"Connect the decorated ``(sender, event)`` function to ``{signal.name}`` for ``model``."
    return decorator


before_create = _decorator(signals.bulk_pre_create)
after_create = _decorator(signals.bulk_post_create)
before_update = _decorator(signals.bulk_pre_update)
after_update = _decorator(signals.bulk_post_update)
before_delete = _decorator(signals.bulk_pre_delete)
after_delete = _decorator(signals.bulk_post_delete)
validate_create = _decorator(signals.bulk_validate_create)
validate_update = _decorator(signals.bulk_validate_update)
validate_delete = _decorator(signals.bulk_validate_delete)
