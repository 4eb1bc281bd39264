"""SignalGroup: disable, enable and mute several signals together."""

from __future__ import annotations

from typing import Any

import pytest
from bulk_signals_core import Signal, SignalGroup


class Model:
    """A sender."""


def build() -> tuple[SignalGroup, list[Signal[int]], list[str], list[Any]]:
    calls: list[str] = []
    signals: list[Signal[int]] = [Signal("created"), Signal("deleted")]
    keep = []
    for signal in signals:

        def receiver(sender: Any, payload: int, name: str = signal.name) -> None:
            calls.append(name)

        signal.connect(receiver)
        keep.append(receiver)
    return SignalGroup(*signals), signals, calls, keep


def send_all(signals: list[Signal[int]]) -> None:
    for signal in signals:
        signal.send(Model, 1)


def test_disable_and_enable_every_signal_of_the_group() -> None:
    group, signals, calls, _keep = build()
    group.disable()
    send_all(signals)
    assert calls == []
    assert [s.is_enabled for s in signals] == [False, False]
    group.enable()
    send_all(signals)
    assert calls == ["created", "deleted"]


def test_muted_mutes_every_signal_inside_the_block_only() -> None:
    group, signals, calls, _keep = build()
    with group.muted():
        send_all(signals)
    send_all(signals)
    assert calls == ["created", "deleted"]


def test_group_muted_nests_with_a_signals_own_muted() -> None:
    group, signals, calls, _keep = build()
    with signals[0].muted():
        with group.muted():
            send_all(signals)
        send_all(signals)  # the signal's own block still mutes "created"
    assert calls == ["deleted"]


def test_group_muted_restores_on_error() -> None:
    group, signals, calls, _keep = build()
    with pytest.raises(RuntimeError), group.muted():
        raise RuntimeError("boom")
    send_all(signals)
    assert calls == ["created", "deleted"]


def test_a_group_iterates_counts_and_names_its_signals() -> None:
    group, signals, _, _keep = build()
    assert list(group) == signals
    assert len(group) == 2
    assert repr(group) == "<SignalGroup ['created', 'deleted']>"


def test_a_group_only_takes_signals() -> None:
    with pytest.raises(TypeError, match="SignalGroup takes Signal objects, not 'created'"):
        SignalGroup(Signal("ok"), "created")  # type: ignore[arg-type]
