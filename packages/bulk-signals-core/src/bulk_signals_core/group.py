"""``SignalGroup``: disable, enable or mute several signals together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from .signal import Signal

__all__ = ["SignalGroup"]


class SignalGroup:
    """A set of signals handled as one, e.g. to mute every model signal during a data migration."""

    def __init__(self, *signals: Signal[Any]) -> None:
        for signal in signals:
            if not isinstance(signal, Signal):
                raise TypeError(f"SignalGroup takes Signal objects, not {signal!r}")
        self.signals: tuple[Signal[Any], ...] = signals

    def __iter__(self) -> Iterator[Signal[Any]]:
        return iter(self.signals)

    def __len__(self) -> int:
        return len(self.signals)

    def __repr__(self) -> str:
        return f"<SignalGroup {[s.name for s in self.signals]!r}>"

    def disable(self) -> None:
        """Disable every signal of the group."""
        for signal in self.signals:
            signal.disable()

    def enable(self) -> None:
        """Enable every signal of the group."""
        for signal in self.signals:
            signal.enable()

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Mute every signal of the group inside the block."""
        with ExitStack() as stack:
            for signal in self.signals:
                stack.enter_context(signal.muted())
            yield
