"""Global switches: disable_all / enable_all / all_muted over every signal of the process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from bulk_signals_core import Signal, SignalGroup, all_muted, disable_all, enable_all, globally_enabled
from bulk_signals_core.testing import record


class Model:
    """A sender."""


@pytest.fixture(autouse=True)
def _switched_on() -> Iterator[None]:
    enable_all()
    yield
    enable_all()


def make_signal(calls: list[str], name: str = "s", sender: Any = None) -> Signal[int]:
    signal: Signal[int] = Signal(name)

    def receiver(sender: Any, payload: int) -> None:
        calls.append(name)

    signal.connect(receiver, weak=False, sender=sender)
    return signal


def test_disable_all_stops_every_signal_and_enable_all_restores_them() -> None:
    calls: list[str] = []
    plain = make_signal(calls, "plain")
    filtered = make_signal(calls, "filtered", sender=Model)
    disable_all()
    assert globally_enabled() is False
    assert plain.is_enabled is False
    assert plain.send(None, 1) == [] and filtered.send(Model, 1) == []
    assert plain.has_receivers() is False
    assert len(plain) == 1  # still connected
    enable_all()
    assert globally_enabled() is True and plain.is_enabled is True
    plain.send(None, 1)
    filtered.send(Model, 1)
    assert calls == ["plain", "filtered"]


def test_a_signal_created_while_disabled_starts_disabled() -> None:
    calls: list[str] = []
    disable_all()
    late = make_signal(calls, "late")
    late.send(None, 1)
    enable_all()
    late.send(None, 2)
    assert calls == ["late"]


def test_connect_and_disconnect_while_disabled_keep_it_disabled() -> None:
    calls: list[str] = []
    signal = make_signal(calls)
    disable_all()

    def other(sender: Any, payload: int) -> None:
        calls.append("other")

    signal.connect(other)
    signal.send(None, 1)
    signal.disconnect(other)
    signal.send(None, 1)
    enable_all()
    signal.send(None, 1)
    assert calls == ["s"]


def test_all_muted_nests_and_ends_on_error() -> None:
    calls: list[str] = []
    signal = make_signal(calls)
    with pytest.raises(KeyError), all_muted():
        with all_muted():
            signal.send(None, 1)
        signal.send(None, 1)  # the outer block still mutes
        assert globally_enabled() is False
        raise KeyError("boom")
    signal.send(None, 1)
    assert calls == ["s"]


def test_enable_all_neither_ends_all_muted_nor_enables_a_disabled_signal() -> None:
    calls: list[str] = []
    signal = make_signal(calls, "a")
    disabled = make_signal(calls, "b")
    disabled.disable()
    with all_muted():
        enable_all()
        signal.send(None, 1)
    signal.send(None, 1)
    disabled.send(None, 1)
    enable_all()
    disabled.send(None, 1)
    assert calls == ["a"]
    disabled.enable()
    disabled.send(None, 1)
    assert calls == ["a", "b"]


def test_group_and_signal_switches_combine_with_the_global_ones() -> None:
    calls: list[str] = []
    signals = [make_signal(calls, "a"), make_signal(calls, "b")]
    with SignalGroup(*signals).muted():
        with all_muted():
            signals[0].send(None, 1)
        signals[0].send(None, 1)  # the group still mutes
    disable_all()
    with signals[1].muted():
        pass
    signals[1].send(None, 1)  # still disabled globally
    enable_all()
    signals[1].send(None, 1)
    assert calls == ["b"]


def test_muted_sends_are_not_recorded() -> None:
    calls: list[str] = []
    signal = make_signal(calls)
    with record(signal) as recording:
        with all_muted():
            signal.send(None, 1)
        signal.send(None, 2)
    assert recording.payloads == [2]


def test_switching_from_threads_while_others_send_connect_and_disconnect() -> None:
    # Thread-safe: after every switch thread has finished, the switches are balanced, and every
    # signal (including ones created meanwhile) delivers again.
    calls: list[str] = []
    signals = [make_signal(calls, f"s{i}") for i in range(4)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def switcher() -> None:
        for _ in range(300):
            with all_muted():
                disable_all()
                enable_all()

    def churner() -> None:
        def extra(sender: Any, payload: int) -> None:
            pass

        while not stop.is_set():
            for signal in signals:
                signal.connect(extra)
                signal.send(None, 1)
                signal.disconnect(extra)
            signals.append(make_signal(calls, "new"))
            signals.pop()

    def guarded(target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in (switcher, switcher, churner)]
    for thread in threads:
        thread.start()
    for thread in threads[:2]:
        thread.join(timeout=60)
    stop.set()
    threads[2].join(timeout=60)
    assert errors == []
    assert globally_enabled()
    calls.clear()
    for signal in signals:
        signal.send(None, 1)
    assert calls == ["s0", "s1", "s2", "s3"]
