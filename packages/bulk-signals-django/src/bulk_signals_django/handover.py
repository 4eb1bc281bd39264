"""Rows a caller has already read, handed to the next ``bulk_update()`` as its old rows.

``bulk_update()`` with receivers reads the old rows of the objects it writes (one SELECT by primary key) to pair
them with the new ones. A caller that has just read those rows itself, in the same transaction and under a row
lock (bulk-drf's update: ``SELECT ... FOR UPDATE`` of the rows to change), hands them over with :func:`rows_read`
and that SELECT is not made. The upsert's counterpart is :func:`bulk_signals_django.upsert.rows_known`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models

__all__ = ["forget_rows_read", "rows_read", "take_rows_read"]


@dataclass(frozen=True)
class _Read:
    model: type[models.Model]
    using: str
    rows: Sequence[Any]


_READ: ContextVar[_Read | None] = ContextVar("bulk_signals_django_rows_read", default=None)


@contextmanager
def rows_read(model: type[models.Model], using: str, rows: Sequence[Any]) -> Iterator[None]:
    """Within the block, the next ``bulk_update()`` of ``model`` on ``using`` with receivers takes ``rows`` as the
    stored rows of their primary keys instead of selecting them again.

    The caller's promise: in the current transaction it read ``rows`` whole (every concrete field, as the base
    manager reads them) under a lock that keeps other writers off them until the transaction ends
    (``SELECT ... FOR UPDATE``), and they are unchanged (they become the event's ``old_records``). Objects whose
    primary key is not among them are read as usual. Used once: a ``bulk_update()`` inside the block after the
    first (a receiver's) reads as usual.
    """
    token = _READ.set(_Read(model, using, rows))
    try:
        yield
    finally:
        _READ.reset(token)


def take_rows_read(model: type[models.Model], using: str) -> Sequence[Any] | None:
    """The rows handed to this ``bulk_update()`` of ``model`` on ``using`` (see :func:`rows_read`), once; else None."""
    read = _READ.get()
    if read is None or read.model is not model or read.using != using:
        return None
    _READ.set(None)
    return read.rows


def forget_rows_read(model: type[models.Model]) -> None:
    """Drop a :func:`rows_read` hand-over for ``model``: a ``bulk_update()`` that reads no old rows (no receivers,
    ``bypass_signals``) still is "the next ``bulk_update()``" the hand-over was for."""
    read = _READ.get()
    if read is not None and read.model is model:
        _READ.set(None)
