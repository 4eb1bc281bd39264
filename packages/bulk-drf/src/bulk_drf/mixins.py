"""The viewset mixins, where 0.1 documented them (``from bulk_drf.mixins import BulkOperationsMixin``).

``BulkOperationsMixin`` (arrays, ``?ids=``) lives in ``bulk_drf.sync``, ``BulkJobsMixin`` (``/bulk/``) in
``bulk_drf.jobs``; ``BulkViewSetMixin`` is both. All three are exported by ``bulk_drf`` too.
"""

from __future__ import annotations

from .jobs.mixins import BulkJobsMixin, BulkViewSetMixin
from .sync.mixins import BulkOperationsMixin

__all__ = ["BulkJobsMixin", "BulkOperationsMixin", "BulkViewSetMixin"]
