"""Thread safety and snapshot semantics: changing receivers while sends run."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from typing import Any

from bulk_signals_core import Priority, Signal


class Model:
    """A sender."""


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    """Run each target in its own thread; return what they raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(previous)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_sends_see_a_consistent_snapshot_while_other_threads_connect_and_disconnect() -> None:
    # A writer moves through the states {}, {a}, {a, b} and back, always keeping "b only if a".
    # A send seeing b without a would have seen half of a change.
    signal: Signal[int] = Signal("s")
    stop = threading.Event()
    seen_states: set[tuple[str, ...]] = set()

    def a(sender: Any, payload: list[str]) -> None:
        payload.append("a")

    def b(sender: Any, payload: list[str]) -> None:
        payload.append("b")

    def writer() -> None:
        for _ in range(20_000):
            signal.connect(a, priority=Priority.HIGH)
            signal.connect(b, priority=Priority.LOW)
            signal.disconnect(b)
            signal.disconnect(a)
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            calls: list[str] = []
            results = signal.send(Model, calls)  # type: ignore[arg-type]
            assert len(results) == len(calls)
            seen_states.add(tuple(calls))

    errors = run_threads([writer, reader, reader])
    assert errors == []
    assert seen_states <= {(), ("a",), ("a", "b")}
    assert len(seen_states) >= 2  # the readers really ran while the writer changed things


def test_concurrent_connects_lose_no_receiver() -> None:
    signal: Signal[int] = Signal("s")
    per_thread = 300
    receivers: list[list[Callable[..., None]]] = []
    for _ in range(4):
        batch = []
        for _ in range(per_thread):

            def receiver(sender: Any, payload: int) -> None: ...

            batch.append(receiver)
        receivers.append(batch)

    def connect_all(batch: list[Callable[..., None]]) -> Callable[[], None]:
        def run() -> None:
            for receiver in batch:
                signal.connect(receiver)
                signal.send(Model, 1)

        return run

    errors = run_threads([connect_all(batch) for batch in receivers])
    assert errors == []
    assert len(signal) == 4 * per_thread
    assert len(signal.send(Model, 1)) == 4 * per_thread


def test_short_lived_senders_and_receivers_across_threads_raise_nothing() -> None:
    # blinker raises "dictionary changed size during iteration" here; PyDispatcher IndexError.
    signal: Signal[int] = Signal("s")

    def churn() -> None:
        for _ in range(2000):
            sender = Model()

            def receiver(sender: Any, payload: int) -> None: ...

            signal.connect(receiver, sender=sender)
            signal.send(sender, 1)
            signal.send(Model, 1)
            del sender, receiver
        gc.collect()

    errors = run_threads([churn, churn, churn])
    assert errors == []
    gc.collect()
    assert len(signal) == 0


def test_disconnect_all_during_a_send_still_calls_the_snapshot() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[str] = []
    receivers = []
    for name in "abcde":

        def receiver(sender: Any, payload: int, name: str = name) -> None:
            calls.append(name)
            if name == "a":
                signal.disconnect_all()

        receivers.append(receiver)
        signal.connect(receiver)
    signal.send(Model, 1)
    assert calls == list("abcde")
    calls.clear()
    signal.send(Model, 2)
    assert calls == []


def test_disconnecting_the_next_receiver_during_a_send_does_not_skip_it_in_that_send() -> None:
    # PyDispatcher issue 8: disconnecting inside a receiver skipped the following receiver.
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    def first(sender: Any, payload: int) -> None:
        calls.append("first")
        signal.disconnect(first)

    def second(sender: Any, payload: int) -> None:
        calls.append("second")

    signal.connect(first)
    signal.connect(second)
    signal.send(Model, 1)
    signal.send(Model, 2)
    assert calls == ["first", "second", "second"]


def test_a_receiver_connected_during_a_send_runs_from_the_next_send() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    def late(sender: Any, payload: int) -> None:
        calls.append("late")

    def connector(sender: Any, payload: int) -> None:
        calls.append("connector")
        signal.connect(late)

    signal.connect(connector)
    signal.send(Model, 1)
    assert calls == ["connector"]
    signal.send(Model, 2)
    assert calls == ["connector", "connector", "late"]


def test_a_receiver_connected_for_the_sender_during_a_filtered_send_runs_from_the_next_send() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    def late(sender: Any, payload: int) -> None:
        calls.append("late")

    def connector(sender: Any, payload: int) -> None:
        calls.append("connector")
        signal.connect(late, sender=Model)

    signal.connect(connector, sender=Model)
    signal.send(Model, 1)
    signal.send(Model, 2)
    assert calls == ["connector", "connector", "late"]


def test_a_send_from_another_thread_blocked_in_a_receiver_does_not_block_connect() -> None:
    # Receivers run outside the lock: a slow receiver never holds up other threads' connects.
    signal: Signal[int] = Signal("s")
    entered, release = threading.Event(), threading.Event()

    def slow(sender: Any, payload: int) -> None:
        entered.set()
        release.wait(10)

    def other(sender: Any, payload: int) -> None: ...

    signal.connect(slow)
    sender_thread = threading.Thread(target=signal.send, args=(Model, 1))
    sender_thread.start()
    try:
        assert entered.wait(10)
        signal.connect(other)  # would deadlock if send held the lock
        assert len(signal) == 2
    finally:
        release.set()
        sender_thread.join(10)


class _SlowPriority(int):
    """A priority whose comparisons block while ``gate`` is closed: holds a rebuild mid-sort."""

    entered = threading.Event()
    gate = threading.Event()

    def __lt__(self, other: object) -> bool:
        type(self).entered.set()
        type(self).gate.wait(10)
        return int(self) < int(other)  # type: ignore[call-overload]


def test_queries_during_another_threads_rebuild_do_not_see_the_previous_snapshot() -> None:
    # A rebuild marked the signal fresh before publishing its new slots: a lock-free query in that
    # window read the old slots and missed a receiver whose connect had already returned.
    signal: Signal[int] = Signal("s")

    def a(sender: Any, payload: int) -> None: ...

    def b(sender: Any, payload: int) -> None: ...

    _SlowPriority.entered.clear()
    _SlowPriority.gate.clear()
    signal.connect(a, priority=_SlowPriority(1))
    signal.send(Model, 1)  # built: one receiver
    signal.connect(b, priority=_SlowPriority(2))  # stale: the next send rebuilds (and sorts)
    sender_thread = threading.Thread(target=signal.send, args=(Model, 1))
    sender_thread.start()
    seen: dict[str, Any] = {}
    try:
        assert _SlowPriority.entered.wait(10)  # the sender thread is inside the rebuild, holding the lock
        query_thread = threading.Thread(
            target=lambda: seen.update(len=len(signal), ids=signal.receiver_ids(), has=signal.has_receivers())
        )
        query_thread.start()
        query_thread.join(0.2)  # with the defect it returns at once, with the old snapshot
    finally:
        _SlowPriority.gate.set()
        sender_thread.join(10)
        query_thread.join(10)
    assert seen["len"] == 2
    assert len(seen["ids"]) == 2


def test_a_disconnect_during_a_rebuild_in_the_same_thread_is_not_lost() -> None:
    # A __del__ (or weakref callback) run by garbage collection in the middle of a rebuild may
    # disconnect a receiver: the lock is re-entrant, so it goes through, and the rebuild must not
    # then publish a plan that still calls it.
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    def doomed(sender: Any, payload: int) -> None:
        calls.append("doomed")

    class DisconnectingPriority(int):
        fired = False

        def __lt__(self, other: object) -> bool:
            if not DisconnectingPriority.fired:
                DisconnectingPriority.fired = True
                assert signal.disconnect(doomed) is True  # what a __del__ run by GC here could do
            return int(self) < int(other)  # type: ignore[call-overload]

    def a(sender: Any, payload: int) -> None:
        calls.append("a")

    signal.connect(doomed)
    signal.connect(a, priority=DisconnectingPriority(1))
    signal.send(Model, 1)  # rebuilds; the sort disconnects `doomed` half-way
    assert DisconnectingPriority.fired
    calls.clear()
    signal.send(Model, 2)
    assert calls == ["a"]
    assert len(signal) == 1


def test_a_send_nested_in_a_rebuild_neither_recurses_nor_caches_a_stale_plan() -> None:
    # The same, with the __del__ also sending and asking for len(): no rebuild inside the rebuild,
    # and the plan it used is not cached for later sends.
    signal: Signal[int] = Signal("s")
    calls: list[str] = []
    nested: list[Any] = []

    def doomed(sender: Any, payload: int) -> None:
        calls.append("doomed")

    class SendingPriority(int):
        fired = False

        def __lt__(self, other: object) -> bool:
            if not SendingPriority.fired:
                SendingPriority.fired = True
                signal.disconnect(doomed)
                nested.append(len(signal))
                nested.append(len(signal.send(Model, 0)))
            return int(self) < int(other)  # type: ignore[call-overload]

    def a(sender: Any, payload: int) -> None:
        calls.append("a")

    signal.connect(doomed)
    signal.connect(a, priority=SendingPriority(1), sender=Model)
    signal.send(Model, 1)
    assert SendingPriority.fired
    assert len(nested) == 2  # answered from the snapshot being replaced, without recursing
    calls.clear()
    signal.send(Model, 2)
    assert calls == ["a"]
    assert len(signal) == 1
