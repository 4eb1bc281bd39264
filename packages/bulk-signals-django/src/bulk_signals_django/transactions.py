"""The transaction a signalled write runs in: Django's own semantics, no savepoint of ours.

Contract:

- :func:`write_transaction` is ``transaction.atomic(using=..., savepoint=False)``, as Django's own
  ``bulk_create``/``bulk_update``/collector use: outside a transaction it is one (``BEGIN`` ...
  ``COMMIT``); inside one it adds no statement, and an error marks the enclosing block for rollback
  exactly as Django's own bulk writes do.
- One exception to that: an error raised by a **validate** receiver (:func:`validate`). Validation
  runs before anything of ours is written, and callers catch ``ValidationError`` the way they catch
  ``full_clean()``'s, which Django runs outside any write. Marking the enclosing block there would
  make a caught validation error silently roll back the caller's earlier writes when the block ends
  (``atomic`` rolls back a marked block without raising). So such an error leaves the block as it
  was; a ``DatabaseError`` (the database's transaction may be broken) marks it as usual. The same holds
  for the delete collector's ``ProtectedError``/``RestrictedError`` (:func:`before_writing`), which
  Django raises before its own transaction starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bulk_signals_core import Signal
from django.db import DatabaseError, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from .dispatch import emit
from .events import BulkEvent

__all__ = ["before_writing", "validate", "write_transaction"]


class _Refused(Exception):
    """Carries a validate receiver's error out of the transaction block without marking it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


@contextmanager
def write_transaction(using: str) -> Iterator[None]:
    """``atomic(using=using, savepoint=False)``; a validate receiver's error leaves it unmarked."""
    # Outermost, the block is ours alone: a refusal rolls it back (whatever validation touched goes too).
    # Inside the caller's block, a refusal leaves that block unmarked.
    enclosed = transaction.get_connection(using).in_atomic_block
    refused: BaseException | None = None
    try:
        with transaction.atomic(using=using, savepoint=False):
            try:
                yield
            except _Refused as exc:
                if not enclosed:
                    raise
                refused = exc.error
    except _Refused as exc:
        refused = exc.error
    if refused is not None:
        raise refused


@contextmanager
def before_writing() -> Iterator[None]:
    """Inside :func:`write_transaction`, code that runs before anything is written and whose errors Django
    raises outside any transaction (its delete collector's ``ProtectedError``/``RestrictedError``): such an
    error leaves the enclosing block unmarked, as Django leaves it; a ``DatabaseError`` marks it as usual."""
    try:
        yield
    except (ProtectedError, RestrictedError) as error:  # IntegrityErrors of Python's, not the database's
        raise _Refused(error) from None
    except DatabaseError:
        raise
    except Exception as error:
        raise _Refused(error) from None


def validate(signal: Signal[BulkEvent], event: BulkEvent) -> None:
    """Send a validate signal inside :func:`write_transaction` (its receivers' errors: see :func:`before_writing`)."""
    with before_writing():
        emit(signal, event)
