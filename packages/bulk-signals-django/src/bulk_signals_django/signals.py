"""The nine signals, each a core ``Signal[BulkEvent]``; the sender is the model class.

Each is a :class:`~bulk_signals_django.dispatch.ModelSignal`: a receiver connected for a model (by any
means) also receives the events of the models inheriting from it, with the concrete class as sender.

Django-style receivers work too: ``@receiver(bulk_post_update, sender=Account)`` on
``def handler(sender, **kwargs)`` gets the event as ``kwargs["event"]``.
"""

from __future__ import annotations

from bulk_signals_core import Signal

from .dispatch import ModelSignal
from .events import BulkEvent

__all__ = [
    "bulk_post_create",
    "bulk_post_delete",
    "bulk_post_update",
    "bulk_pre_create",
    "bulk_pre_delete",
    "bulk_pre_update",
    "bulk_validate_create",
    "bulk_validate_delete",
    "bulk_validate_update",
]

bulk_validate_create: Signal[BulkEvent] = ModelSignal("bulk_validate_create", payload_name="event")
bulk_validate_update: Signal[BulkEvent] = ModelSignal("bulk_validate_update", payload_name="event")
bulk_validate_delete: Signal[BulkEvent] = ModelSignal("bulk_validate_delete", payload_name="event")
bulk_pre_create: Signal[BulkEvent] = ModelSignal("bulk_pre_create", payload_name="event")
bulk_pre_update: Signal[BulkEvent] = ModelSignal("bulk_pre_update", payload_name="event")
bulk_pre_delete: Signal[BulkEvent] = ModelSignal("bulk_pre_delete", payload_name="event")
bulk_post_create: Signal[BulkEvent] = ModelSignal("bulk_post_create", payload_name="event")
bulk_post_update: Signal[BulkEvent] = ModelSignal("bulk_post_update", payload_name="event")
bulk_post_delete: Signal[BulkEvent] = ModelSignal("bulk_post_delete", payload_name="event")

ALL_SIGNALS = (
    bulk_validate_create,
    bulk_validate_update,
    bulk_validate_delete,
    bulk_pre_create,
    bulk_pre_update,
    bulk_pre_delete,
    bulk_post_create,
    bulk_post_update,
    bulk_post_delete,
)
CREATE_SIGNALS = (bulk_validate_create, bulk_pre_create, bulk_post_create)
UPDATE_SIGNALS = (bulk_validate_update, bulk_pre_update, bulk_post_update)
DELETE_SIGNALS = (bulk_validate_delete, bulk_pre_delete, bulk_post_delete)
