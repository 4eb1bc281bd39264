"""Exceptions raised by bulk_signals_core.

The tree::

    Exception
     └── BulkSignalsError                    base of everything raised by this package
          ├── InvalidReceiver (also TypeError) a receiver that cannot be connected
          ├── ReceiversFailed (also ExceptionGroup) ErrorStrategy.GROUP: every receiver failure of one send
          └── QueueFull                          a background emitter's queue had no room for an emission
"""

from __future__ import annotations

__all__ = ["BulkSignalsError", "InvalidReceiver", "QueueFull", "ReceiversFailed"]


class BulkSignalsError(Exception):
    """Base class of the errors raised by bulk_signals_core."""


class InvalidReceiver(BulkSignalsError, TypeError):
    """A receiver, or an argument of ``connect``, is unusable; the message names the receiver."""


class ReceiversFailed(ExceptionGroup, BulkSignalsError):
    """Raised by a ``GROUP`` send after every receiver has run; ``exceptions`` holds each failure."""


class QueueFull(BulkSignalsError):
    """A :class:`~bulk_signals_core.BackgroundEmitter` refused an emission: its queue stayed full
    (``WhenFull.RAISE`` at once, ``WhenFull.BLOCK`` after its timeout). Counted as ``rejected``."""
