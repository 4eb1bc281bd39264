"""A printed walkthrough of bulk-signals-core: priorities, senders, async receivers, errors, muting.

Standard library and bulk_signals_core only. ``make demo`` runs it first; alone:
``.venv/bin/hatch run integration:python tests-integration/demo/core_walkthrough.py``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from typing import Any

from bulk_signals_core import ErrorStrategy, Priority, ReceiversFailed, Signal, SignalGroup
from bulk_signals_core.testing import record


@dataclass(frozen=True)
class OrderPlaced:
    order_id: int
    total: int


class Shop:
    """A sender: receivers can listen to one shop or to all of them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Shop({self.name!r})"


def title(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 70 - len(text)))


def priorities() -> None:
    title("1. Priorities: lower runs first, ties in connection order")
    placed: Signal[OrderPlaced] = Signal("order_placed")

    @placed.connect  # NORMAL (50)
    def audit(sender: Any, payload: OrderPlaced) -> None:
        print(f"  audit      (NORMAL)  order {payload.order_id}")

    @placed.connect(priority=Priority.HIGH, id="billing.charge")
    def charge(sender: Any, payload: OrderPlaced) -> str:
        print(f"  charge     (HIGH)    {payload.total} cents")
        return "charged"

    @placed.connect(priority=Priority.LOWEST)
    def newsletter(sender: Any, payload: OrderPlaced) -> None:
        print("  newsletter (LOWEST)  last, always")

    @placed.connect  # NORMAL again: runs after audit, its elder
    def stats(sender: Any, payload: OrderPlaced) -> None:
        print("  stats      (NORMAL)  after audit: same priority, connected later")

    results = placed.send(Shop("paris"), OrderPlaced(1, 999))
    print(f"  send() returned {len(results)} (receiver, result) pairs; charge returned {results[0][1]!r}")
    print(f"  receiver_ids(): {placed.receiver_ids()}")


def senders() -> None:
    title("2. Sender filtering: by identity; ANY (the default) sees every sender")
    placed: Signal[OrderPlaced] = Signal("order_placed")
    paris, lyon = Shop("paris"), Shop("lyon")

    @placed.connect(sender=paris)
    def paris_only(sender: Shop, payload: OrderPlaced) -> None:
        print(f"  paris_only   got order {payload.order_id} from {sender}")

    @placed.connect
    def every_shop(sender: Shop, payload: OrderPlaced) -> None:
        print(f"  every_shop   got order {payload.order_id} from {sender}")

    placed.send(paris, OrderPlaced(2, 10))
    placed.send(lyon, OrderPlaced(3, 20))
    print(f"  has_receivers(lyon) = {placed.has_receivers(lyon)}, len(signal) = {len(placed)}")


def async_receivers() -> None:
    title("3. Async receivers: awaited by send_async(), run to completion by send()")
    placed: Signal[OrderPlaced] = Signal("order_placed")

    @placed.connect(priority=Priority.HIGH)
    async def email(sender: Any, payload: OrderPlaced) -> str:
        await asyncio.sleep(0.01)
        print(f"  email (async) sent for order {payload.order_id}")
        return "emailed"

    @placed.connect
    def log_it(sender: Any, payload: OrderPlaced) -> None:
        print(f"  log_it (sync) after the email, in priority order: order {payload.order_id}")

    @placed.connect(priority=Priority.LOW)
    async def slow_partner_api(sender: Any, payload: OrderPlaced) -> None:
        await asyncio.sleep(5)

    async def main() -> None:
        results = await placed.send_async(Shop("paris"), OrderPlaced(4, 5), timeout=0.1, errors=ErrorStrategy.COLLECT)
        outcome = results[-1][1]
        print(f"  slow_partner_api timed out after 0.1 s: {type(outcome).__name__} (collected, the others ran)")

    asyncio.run(main())
    placed.disconnect(slow_partner_api)
    [(_, emailed), _] = placed.send(Shop("paris"), OrderPlaced(5, 5))
    print(f"  plain send() ran the async receiver to completion too: {emailed!r}")


class OneLine(logging.Formatter):
    """The log line without its traceback, to keep the walkthrough short."""

    def format(self, record: logging.LogRecord) -> str:
        error = record.exc_info[1] if record.exc_info else None
        return f"  LOG     {record.name}: {record.getMessage()} ({error!r})"


def error_strategies() -> None:
    title("4. Error strategies: RAISE, COLLECT, LOG, GROUP, and on_error for every failure")
    failures: list[str] = []
    placed: Signal[OrderPlaced] = Signal("order_placed", on_error=lambda rid, exc: failures.append(rid))

    @placed.connect(id="stock.reserve")
    def reserve(sender: Any, payload: OrderPlaced) -> None:
        raise RuntimeError("out of stock")

    @placed.connect(id="billing.charge")
    def charge(sender: Any, payload: OrderPlaced) -> str:
        return "charged"

    @placed.connect(id="fraud.check")
    def fraud(sender: Any, payload: OrderPlaced) -> None:
        raise ValueError("suspicious")

    order = OrderPlaced(6, 50)
    try:
        placed.send(Shop("paris"), order)  # RAISE is the default
    except RuntimeError as exc:
        print(f"  RAISE   stopped at the first failure: {exc!r}")
    results = placed.send(Shop("paris"), order, errors=ErrorStrategy.COLLECT)
    print(f"  COLLECT ran all three: {[r if isinstance(r, str) else type(r).__name__ for _, r in results]}")
    logger = logging.getLogger("bulk_signals_core")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(OneLine())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        placed.send(Shop("paris"), order, errors=ErrorStrategy.LOG)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    try:
        placed.send(Shop("paris"), order, errors=ErrorStrategy.GROUP)
    except ReceiversFailed as group:
        print(f"  GROUP   raised an ExceptionGroup: {[type(e).__name__ for e in group.exceptions]}")
    print(f"  on_error saw every failure of the four sends: {failures}")


def muting() -> None:
    title("5. Muting: one signal, a group, nested blocks; testing.record")
    created: Signal[OrderPlaced] = Signal("created")
    deleted: Signal[OrderPlaced] = Signal("deleted")
    calls: list[str] = []

    @created.connect
    def on_created(sender: Any, payload: OrderPlaced) -> None:
        calls.append("created")

    @deleted.connect
    def on_deleted(sender: Any, payload: OrderPlaced) -> None:
        calls.append("deleted")

    order = OrderPlaced(7, 1)
    with created.muted():
        created.send(None, order)
    print(f"  inside created.muted(): {calls or 'nothing delivered'}")
    with SignalGroup(created, deleted).muted():
        created.send(None, order)
        deleted.send(None, order)
    print(f"  inside SignalGroup(created, deleted).muted(): {calls or 'nothing delivered'}")
    created.send(None, order)
    print(f"  after the blocks: {calls}")
    with record(created) as recording:
        created.send(Shop("lyon"), order)
    print(f"  testing.record saw {len(recording)} emission(s): {recording.calls}")


def main() -> None:
    print("bulk-signals-core walkthrough (standard library only)")
    priorities()
    senders()
    async_receivers()
    error_strategies()
    muting()


if __name__ == "__main__":
    main()
