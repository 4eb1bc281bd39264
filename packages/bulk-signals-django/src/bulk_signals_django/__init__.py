"""bulk-signals-django: before/after/validate signals on every Django ORM write path.

Names are exported lazily (PEP 562) so that ``import bulk_signals_django`` works before the app
registry is ready (settings modules, ``apps.py``); the model mixin is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .bypass import bypass_signals
    from .conditions import ChangesFrom, ChangesTo, Condition, HasChanged, IsEqual, WasEqual
    from .events import BulkEvent, Operation, Source
    from .managers import BulkSignalManager
    from .models import BulkSignalModelMixin
    from .queryset import BulkSignalQuerySet

_EXPORTS = {
    "BulkEvent": "events",
    "Operation": "events",
    "Source": "events",
    "Condition": "conditions",
    "HasChanged": "conditions",
    "ChangesTo": "conditions",
    "ChangesFrom": "conditions",
    "IsEqual": "conditions",
    "WasEqual": "conditions",
    "bypass_signals": "bypass",
    "BulkSignalQuerySet": "queryset",
    "BulkSignalManager": "managers",
    "BulkSignalModelMixin": "models",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bulk_signals_django' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
