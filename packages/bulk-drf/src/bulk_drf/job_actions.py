"""``BulkJobActionsMixin``: the ``/bulk/`` routes a viewset gets from ``BulkOperationsMixin``.

STUB: the job-layer work fills this in (one-shot ``/things/bulk/`` and staged ``/things/bulk/jobs/``).
"""

from __future__ import annotations


class BulkJobActionsMixin:
    """Adds the background-job routes (``bulk/`` and ``bulk/jobs/``) to a viewset."""
