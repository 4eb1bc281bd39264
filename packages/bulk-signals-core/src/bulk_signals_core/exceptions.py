"""Exceptions raised by bulk_signals_core.

The tree::

    Exception
     └── BulkSignalsError                    base of everything raised by this package
          ├── InvalidReceiver (also TypeError) a receiver that cannot be connected
          └── ReceiversFailed (also ExceptionGroup) ErrorStrategy.GROUP: every receiver failure of one send
"""

from __future__ import annotations

__all__ = ["BulkSignalsError", "InvalidReceiver", "ReceiversFailed"]


class BulkSignalsError(Exception):
    """Base class of the errors raised by bulk_signals_core."""


class InvalidReceiver(BulkSignalsError, TypeError):
    """A receiver, or an argument of ``connect``, is unusable; the message names the receiver."""


class ReceiversFailed(ExceptionGroup, BulkSignalsError):
    """Raised by a ``GROUP`` send after every receiver has run; ``exceptions`` holds each failure."""
