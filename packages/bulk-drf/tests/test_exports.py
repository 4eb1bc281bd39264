"""The public surface of bulk-drf's root, pinned: a name added or removed is a decision, not an accident."""

from __future__ import annotations

import bulk_drf


def test_all_is_pinned() -> None:
    assert bulk_drf.__all__ == [
        "BatchResult",
        "BulkJobsMixin",
        "BulkOperationsMixin",
        "BulkViewSetMixin",
        "ItemError",
        "ItemSuccess",
        "__version__",
        "execute_batch",
    ]
    for name in bulk_drf.__all__:
        assert getattr(bulk_drf, name) is not None
