"""Helpers for users' tests: record what a signal sent."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .signal import Signal

__all__ = ["Recording", "record"]

T = TypeVar("T")
_ids = itertools.count()


@dataclass
class Recording(Generic[T]):
    """The emissions seen inside a :func:`record` block, in order."""

    signal: Signal[T]
    calls: list[tuple[Any, T]] = field(default_factory=list)

    @property
    def senders(self) -> list[Any]:
        """The sender of each emission."""
        return [sender for sender, _ in self.calls]

    @property
    def payloads(self) -> list[T]:
        """The payload of each emission."""
        return [payload for _, payload in self.calls]

    def __len__(self) -> int:
        return len(self.calls)

    def assert_sent(self, times: int | None = None) -> None:
        """Fail unless the signal was sent (exactly ``times`` times, when given)."""
        if times is None and not self.calls:
            raise AssertionError(f"signal {self.signal.name!r} was not sent")
        if times is not None and len(self.calls) != times:
            raise AssertionError(f"signal {self.signal.name!r} was sent {len(self.calls)} time(s), not {times}")

    def assert_not_sent(self) -> None:
        """Fail if the signal was sent."""
        self.assert_sent(0)


@contextmanager
def record(signal: Signal[T], *, sender: Any = None) -> Iterator[Recording[T]]:
    """Record ``(sender, payload)`` for each emission of ``signal`` inside the block.

    The recorder runs before every other receiver, so an emission is recorded even when a receiver
    raises. Muted or disabled sends are not emissions and are not recorded. With ``sender=``, only
    that sender's emissions are recorded.
    """
    recording: Recording[T] = Recording(signal)

    def recorder(sent_by: Any, payload: T) -> None:
        recording.calls.append((sent_by, payload))

    receiver_id = f"bulk_signals_core.testing.record#{next(_ids)}"
    kwargs: dict[str, Any] = {} if sender is None else {"sender": sender}
    signal.connect(recorder, priority=-(2**62), id=receiver_id, weak=False, **kwargs)
    try:
        yield recording
    finally:
        signal.disconnect(id=receiver_id)
