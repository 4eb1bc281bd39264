"""The public surface of bulk-signals-django's root, pinned: a name added or removed is a decision."""

from __future__ import annotations

import bulk_signals_django


def test_all_is_pinned() -> None:
    assert bulk_signals_django.__all__ == [
        "BulkEvent",
        "BulkSignalManager",
        "BulkSignalModelMixin",
        "BulkSignalQuerySet",
        "ChangesFrom",
        "ChangesTo",
        "Condition",
        "HasChanged",
        "IsEqual",
        "Operation",
        "Source",
        "WasEqual",
        "__version__",
        "bypass_signals",
    ]
    for name in bulk_signals_django.__all__:
        assert getattr(bulk_signals_django, name) is not None
