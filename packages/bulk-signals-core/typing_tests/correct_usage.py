"""Correct uses of the public API: `mypy --strict` must accept this file without errors."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bulk_signals_core import ANY, ErrorStrategy, Priority, Signal, SignalGroup
from bulk_signals_core.testing import Recording, record


@dataclass(frozen=True)
class OrderPlaced:
    order_id: int
    total: int


class Shop:
    pass


def report(receiver_id: str, exc: BaseException) -> None:
    print(receiver_id, exc)


order_placed: Signal[OrderPlaced] = Signal("order_placed", errors=ErrorStrategy.COLLECT, on_error=report)


@order_placed.connect
def audit(sender: object, payload: OrderPlaced) -> None:
    print(payload.order_id)


@order_placed.connect(sender=Shop, priority=Priority.HIGH, id="billing.charge")
def charge(sender: Shop, payload: OrderPlaced) -> int:
    return payload.total


async def notify(sender: Any, payload: OrderPlaced) -> str:
    return f"order {payload.order_id}"


def legacy(sender: Any, **kwargs: Any) -> None:  # Django-style receivers are accepted
    print(kwargs)


def legacy_named(sender: Any, payload: OrderPlaced | None = None, **kwargs: Any) -> None:
    print(payload, kwargs)


order_placed.connect(legacy_named)
legacy_result: None = order_placed.connect(legacy)(Shop(), signal=order_placed, payload=OrderPlaced(1, 2))
order_placed.connect(notify, priority=60)
order_placed.connect(legacy, sender=ANY, dispatch_uid="legacy", weak=False)
returned = order_placed.connect(audit)
total: int = charge(Shop(), OrderPlaced(1, 2))  # the decorated function keeps its signature

results: list[tuple[Any, Any]] = order_placed.send(Shop(), OrderPlaced(1, 999))
order_placed.send(Shop(), OrderPlaced(1, 999), errors=ErrorStrategy.RAISE)


async def main() -> None:
    await order_placed.send_async(Shop(), OrderPlaced(2, 5), timeout=2.0)


asyncio.run(main())
removed: bool = order_placed.disconnect(audit) or order_placed.disconnect(id="billing.charge")
ids: list[str] = order_placed.receiver_ids()
count: int = len(order_placed)
present: bool = order_placed.has_receivers(Shop)
with order_placed.muted(), SignalGroup(order_placed).muted():
    pass
with record(order_placed) as recording:
    order_placed.send(Shop(), OrderPlaced(3, 1))
same: Recording[OrderPlaced] = recording
payloads: list[OrderPlaced] = recording.payloads
