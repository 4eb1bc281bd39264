"""Django's own argument checks, run before any receiver of ours and before any query.

Contract of :func:`django_refuses`: it runs ``call`` -- one of Django's own write methods on a plain
``QuerySet`` (or a sample of the caller's objects) -- with every SQL statement on ``using`` stopped
before it reaches the database:

- if Django refuses the call (raises before its first statement), that exception propagates: Django's
  own type and message, for whichever Django version is installed, and nothing was sent;
- if Django gets as far as its first statement (``BEGIN``, a ``SELECT``, the write itself), the call
  is accepted: that statement was not sent, it and any transaction bookkeeping the attempt logged
  are removed from the connection's query log, and the connection's ``needs_rollback`` flag is what
  it was before.

So no check is a copy of one Django version's text: a precondition Django adds or rewords is ours
too. The price is one compilation of the statement Django would send first (a few microseconds for
``update()``; callers pass a one-object sample where Django would compile every object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections

__all__ = ["django_refuses"]


class _Accepted(BaseException):  # not an Exception: no `except Exception` in Django swallows it
    """Raised in place of the first statement Django sends: the call passed every check."""


def _stop(execute: Any, sql: Any, params: Any, many: Any, context: Any) -> Any:
    raise _Accepted


def django_refuses(call: Callable[[], Any], using: str) -> None:
    """Run ``call`` with the database closed; re-raise what Django raises before its first statement."""
    connection = connections[using]
    log = connection.queries_log
    logged = len(log)
    needs_rollback = connection.needs_rollback
    try:
        with connection.execute_wrapper(_stop):
            call()
    except _Accepted:
        # Nothing was sent: forget what the debug cursor logged of the attempt (the stopped statement,
        # a BEGIN/ROLLBACK pair of an atomic block that never ran) and any rollback mark it left.
        while len(log) > logged:
            log.pop()
        connection.needs_rollback = needs_rollback
