"""What a send does when a receiver raises."""

from __future__ import annotations

from enum import Enum

__all__ = ["ErrorStrategy"]


class ErrorStrategy(Enum):
    """How :meth:`Signal.send` treats an exception raised by a receiver.

    ``on_error(receiver_id, exc)`` is called for every failure under every strategy.
    """

    RAISE = "raise"
    """Stop at the first failing receiver and re-raise its exception (Django's ``send``)."""

    COLLECT = "collect"
    """Run every receiver; a failure comes back as that receiver's result (Django's ``send_robust``)."""

    LOG = "log"
    """Run every receiver; log each failure with the receiver's id (logger ``bulk_signals_core``)
    and return it as that receiver's result."""

    GROUP = "group"
    """Run every receiver, then raise :class:`~bulk_signals_core.exceptions.ReceiversFailed`
    (an ``ExceptionGroup``) holding every failure."""
