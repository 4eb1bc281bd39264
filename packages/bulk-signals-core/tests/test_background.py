"""BackgroundEmitter: emissions queued, then delivered on worker threads like a send."""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from bulk_signals_core import (
    BackgroundEmitter,
    BackgroundStats,
    ErrorStrategy,
    Priority,
    QueueFull,
    Signal,
    WhenFull,
    all_muted,
)
from bulk_signals_core.background import _stop_at_exit
from bulk_signals_core.testing import record


class Model:
    """A sender."""


class Other:
    """Another sender."""


def collecting(signal: Signal[Any], calls: list[Any], name: str, **kwargs: Any) -> Any:
    def receiver(sender: Any, payload: Any) -> None:
        calls.append((name, payload))

    signal.connect(receiver, weak=False, **kwargs)
    return receiver


def test_emit_returns_at_once_and_workers_deliver_in_priority_order_with_sender_filtering() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[Any] = []
    collecting(signal, calls, "low", priority=Priority.LOW)
    collecting(signal, calls, "high", priority=Priority.HIGH)
    collecting(signal, calls, "other", sender=Other)
    with BackgroundEmitter(signal, workers=1) as emitter:
        assert emitter.running
        assert emitter.emit(Model, 1) is True
        assert emitter.emit(Other, 2) is True
        assert emitter.join(timeout=10)
    assert not emitter.running
    assert calls == [("high", 1), ("low", 1), ("high", 2), ("other", 2), ("low", 2)]
    assert emitter.stats == BackgroundStats(queued=2, delivered=2, failed=0, dropped=0, rejected=0, pending=0)


def test_django_style_and_async_receivers_run_and_async_ones_on_the_emitters_loop() -> None:
    signal: Signal[int] = Signal("s", payload_name="value")
    seen: list[Any] = []
    threads: set[str] = set()

    def django_style(sender: Any, **kwargs: Any) -> None:
        seen.append(("django", kwargs["value"]))

    async def coroutine(sender: Any, payload: int) -> None:
        await asyncio.sleep(0)
        threads.add(threading.current_thread().name)
        seen.append(("async", payload))

    async def async_django_style(sender: Any, **kwargs: Any) -> None:
        seen.append(("async-django", kwargs["value"]))

    signal.connect(django_style)
    signal.connect(coroutine)
    signal.connect(async_django_style)
    with BackgroundEmitter(signal, workers=1) as emitter:
        emitter.emit(Model, 7)
        emitter.join()
    assert seen == [("django", 7), ("async", 7), ("async-django", 7)]
    assert threads == {"bulk-signals-s-loop"}


def test_nothing_is_queued_when_nobody_listens_or_the_signal_is_muted() -> None:
    signal: Signal[int] = Signal("s")
    with BackgroundEmitter(signal) as emitter:
        assert emitter.emit(Model, 1) is False  # no receiver
        calls: list[Any] = []
        collecting(signal, calls, "r")
        with all_muted():
            assert emitter.emit(Model, 2) is False
        with signal.muted():
            assert emitter.emit(Model, 3) is False
        assert emitter.emit(Model, 4) is True
    assert calls == [("r", 4)]
    assert emitter.stats.queued == 1


@pytest.mark.parametrize("strategy", list(ErrorStrategy))
def test_failures_go_to_on_error_are_counted_and_follow_the_strategy(strategy: ErrorStrategy) -> None:
    reported: list[tuple[str, str]] = []
    signal: Signal[int] = Signal("s", errors=strategy, on_error=lambda rid, exc: reported.append((rid, str(exc))))
    calls: list[Any] = []

    def boom(sender: Any, payload: int) -> None:
        raise ValueError(f"boom {payload}")

    signal.connect(boom, priority=Priority.HIGH, id="boom")
    collecting(signal, calls, "after")
    with BackgroundEmitter(signal, workers=2) as emitter:
        emitter.emit(Model, 1)
        emitter.emit(Model, 2)
    assert sorted(reported) == [("boom", "boom 1"), ("boom", "boom 2")]
    # As send(): RAISE stops at the failing receiver, the other strategies run the rest.
    assert len(calls) == (0 if strategy is ErrorStrategy.RAISE else 2)
    assert emitter.stats.failed == 2 and emitter.stats.delivered == 0


def test_failures_without_on_error_are_logged_and_a_failing_on_error_too(caplog: pytest.LogCaptureFixture) -> None:
    signal: Signal[int] = Signal("s")

    def boom(sender: Any, payload: int) -> None:
        raise ValueError("boom")

    signal.connect(boom, id="boom")
    with caplog.at_level(logging.ERROR, logger="bulk_signals_core"):
        with BackgroundEmitter(signal) as emitter:
            emitter.emit(Model, 1)
        failing: Signal[int] = Signal("t", on_error=lambda rid, exc: 1 / 0)
        failing.connect(boom, id="boom")
        with BackgroundEmitter(failing) as emitter:
            emitter.emit(Model, 1)
    messages = [r.getMessage() for r in caplog.records]
    assert "receiver boom of signal 's' failed in the background" in messages
    assert "on_error of signal 't' failed for receiver boom" in messages


def test_log_strategy_logs_even_with_on_error(caplog: pytest.LogCaptureFixture) -> None:
    reported: list[str] = []
    signal: Signal[int] = Signal("s", errors=ErrorStrategy.LOG, on_error=lambda rid, exc: reported.append(rid))

    def boom(sender: Any, payload: int) -> None:
        raise ValueError("boom")

    signal.connect(boom, id="boom")
    with caplog.at_level(logging.ERROR, logger="bulk_signals_core"), BackgroundEmitter(signal) as emitter:
        emitter.emit(Model, 1)
    assert reported == ["boom"]
    assert [r.getMessage() for r in caplog.records] == ["receiver boom of signal 's' failed in the background"]


def test_emits_from_many_threads_while_others_connect_and_disconnect_lose_nothing() -> None:
    signal: Signal[int] = Signal("s")
    counted: list[int] = []
    lock = threading.Lock()

    def counter(sender: Any, payload: int) -> None:
        with lock:
            counted.append(payload)

    signal.connect(counter, weak=False, priority=Priority.HIGHEST)
    stop = threading.Event()

    def churn() -> None:
        def extra(sender: Any, payload: int) -> None:
            pass

        while not stop.is_set():
            signal.connect(extra)
            signal.disconnect(extra)

    per_thread = 2_000
    with BackgroundEmitter(signal, workers=4, maxsize=64) as emitter:  # small: producers block often
        churner = threading.Thread(target=churn)
        churner.start()
        producers = [
            threading.Thread(target=lambda base=base: [emitter.emit(Model, base + i) for i in range(per_thread)])
            for base in range(0, 4 * per_thread, per_thread)
        ]
        for thread in producers:
            thread.start()
        for thread in producers:
            thread.join()
        assert emitter.join(timeout=30)
        stop.set()
        churner.join()
    assert sorted(counted) == list(range(4 * per_thread))
    assert emitter.stats == BackgroundStats(4 * per_thread, 4 * per_thread, 0, 0, 0, 0)


def blocking_emitter(policy: WhenFull, **kwargs: Any) -> tuple[BackgroundEmitter[int], threading.Event, list[int]]:
    """A started one-worker emitter whose receiver blocks until the event is set (maxsize 3)."""
    signal: Signal[int] = Signal("s")
    release = threading.Event()
    started = threading.Event()
    done: list[int] = []

    def slow(sender: Any, payload: int) -> None:
        started.set()
        release.wait(30)
        done.append(payload)

    signal.connect(slow, weak=False)
    emitter = BackgroundEmitter(signal, workers=1, maxsize=3, when_full=policy, **kwargs).start()
    emitter.emit(Model, 0)
    assert started.wait(10)  # the worker is busy with 0: the queue is empty
    return emitter, release, done


def test_full_queue_drop_oldest_counts_exactly_what_it_dropped() -> None:
    emitter, release, done = blocking_emitter(WhenFull.DROP_OLDEST)
    for i in range(1, 11):
        assert emitter.emit(Model, i)
    release.set()
    assert emitter.stop(timeout=10)
    assert done == [0, 8, 9, 10]  # 1..7 dropped, the newest kept
    assert emitter.stats == BackgroundStats(queued=11, delivered=4, failed=0, dropped=7, rejected=0, pending=0)


def test_full_queue_raise_refuses_and_counts() -> None:
    emitter, release, done = blocking_emitter(WhenFull.RAISE)
    for i in range(1, 4):
        emitter.emit(Model, i)
    with pytest.raises(QueueFull, match="full"):
        emitter.emit(Model, 4)
    release.set()
    assert emitter.stop(timeout=10)
    assert done == [0, 1, 2, 3]
    assert emitter.stats == BackgroundStats(queued=4, delivered=4, failed=0, dropped=0, rejected=1, pending=0)


def test_full_queue_block_waits_for_room_then_times_out() -> None:
    emitter, release, done = blocking_emitter(WhenFull.BLOCK, timeout=0.05)
    for i in range(1, 4):
        emitter.emit(Model, i)
    with pytest.raises(QueueFull):
        emitter.emit(Model, 4)  # waited 50 ms: the worker is still blocked
    # A blocked producer goes on once the worker makes room.
    waiter = threading.Thread(target=emitter.emit, args=(Model, 5))
    emitter.timeout = None
    waiter.start()
    time.sleep(0.02)
    assert waiter.is_alive()
    release.set()
    waiter.join(10)
    assert emitter.stop(timeout=10)
    assert done == [0, 1, 2, 3, 5]
    assert emitter.stats == BackgroundStats(queued=5, delivered=5, failed=0, dropped=0, rejected=1, pending=0)


def test_stop_while_a_producer_is_blocked_raises_in_the_producer() -> None:
    emitter, release, done = blocking_emitter(WhenFull.BLOCK)
    for i in range(1, 4):
        emitter.emit(Model, i)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            emitter.emit(Model, 4)
        except RuntimeError as exc:
            errors.append(exc)

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.02)
    stopper = threading.Thread(target=emitter.stop)
    stopper.start()
    producer.join(10)
    assert [str(e) for e in errors] == [f"{emitter!r} was stopped while waiting for room"]
    release.set()
    stopper.join(10)
    assert done == [0, 1, 2, 3]


def test_shutdown_with_pending_items_drains_them_by_default() -> None:
    emitter, release, done = blocking_emitter(WhenFull.BLOCK)
    for i in range(1, 4):
        emitter.emit(Model, i)
    release.set()
    assert emitter.stop()
    assert done == [0, 1, 2, 3]
    assert emitter.stats.dropped == 0


def test_shutdown_without_drain_drops_and_counts_the_queue() -> None:
    emitter, release, done = blocking_emitter(WhenFull.BLOCK)
    for i in range(1, 4):
        emitter.emit(Model, i)
    release.set()
    assert emitter.stop(drain=False, timeout=10)
    assert done == [0]
    assert emitter.stats == BackgroundStats(queued=4, delivered=1, failed=0, dropped=3, rejected=0, pending=0)


def test_shutdown_timeout_with_a_blocked_receiver_drops_the_queue_and_reports_it() -> None:
    emitter, release, done = blocking_emitter(WhenFull.BLOCK)
    for i in range(1, 4):
        emitter.emit(Model, i)
    assert emitter.join(timeout=0.01) is False
    assert emitter.stop(timeout=0.05) is False  # the worker is still inside the receiver
    assert emitter.stats == BackgroundStats(queued=4, delivered=0, failed=0, dropped=3, rejected=0, pending=1)
    assert emitter.stop() is False  # stopping again reports the same
    release.set()
    assert emitter.join(timeout=10)
    assert done == [0]
    assert emitter.stats.delivered == 1 and emitter.stats.pending == 0


def test_lifecycle_errors_and_arguments() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[Any] = []
    collecting(signal, calls, "r")
    emitter = BackgroundEmitter(signal)
    with pytest.raises(RuntimeError, match="not running"):
        emitter.emit(Model, 1)
    assert emitter.stop() is True  # never started: nothing to stop
    assert emitter.start() is emitter.start()
    assert repr(emitter) == "<BackgroundEmitter 's' running workers=4>"
    emitter.stop()
    with pytest.raises(RuntimeError, match="create a new"):
        emitter.start()
    with pytest.raises(TypeError):
        BackgroundEmitter("s")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        BackgroundEmitter(signal, workers=0)
    with pytest.raises(ValueError, match="maxsize"):
        BackgroundEmitter(signal, maxsize=0)
    with pytest.raises(TypeError, match="when_full"):
        BackgroundEmitter(signal, when_full="block")  # type: ignore[arg-type]


def test_the_recorder_sees_background_emissions() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal) as recording, BackgroundEmitter(signal) as emitter:
        emitter.emit(Model, 1)
        emitter.emit(Other, 2)
        emitter.join()
    assert sorted(recording.payloads) == [1, 2]
    recording.assert_sent(2)


def test_at_interpreter_exit_queued_emissions_are_delivered_or_counted_as_dropped() -> None:
    # atexit runs its handlers last-registered first: this print, registered before the import of
    # bulk_signals_core, runs after the emitters were stopped.
    code = """
import atexit
atexit.register(lambda: print("delivered", done, fast_emitter.stats.dropped, slow_emitter.stats.dropped))
import logging, time
from bulk_signals_core import BackgroundEmitter, Signal
logging.basicConfig(format="%(message)s")
fast, slow = Signal("fast"), Signal("slow")
done = []
fast.connect(lambda s, p: (time.sleep(0.02), done.append(p)), weak=False)
slow.connect(lambda s, p: time.sleep(60), weak=False)
fast_emitter = BackgroundEmitter(fast, workers=1).start()
slow_emitter = BackgroundEmitter(slow, workers=1, exit_timeout=0.2).start()
for i in range(3):
    fast_emitter.emit(None, i)
    slow_emitter.emit(None, i)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "delivered [0, 1, 2] 0 2"
    assert "<BackgroundEmitter 'slow' stopped workers=1>: 2 emission(s) dropped at interpreter exit" in out.stderr


def test_the_exit_rule_in_process(caplog: pytest.LogCaptureFixture) -> None:
    emitter, release, done = blocking_emitter(WhenFull.BLOCK, exit_timeout=0.05)
    emitter.emit(Model, 1)
    with caplog.at_level(logging.WARNING, logger="bulk_signals_core"):
        _stop_at_exit()
    release.set()
    assert emitter.join(timeout=10)
    assert emitter.stats.dropped == 1 and done == [0]
    assert caplog.records[0].getMessage() == f"{emitter!r}: 1 emission(s) dropped at interpreter exit"


def test_a_receiver_collected_during_delivery_is_skipped() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[Any] = []

    class Listener:
        def on(self, sender: Any, payload: int) -> None:
            calls.append("listener")

    holder = [Listener()]

    def first(sender: Any, payload: int) -> None:
        holder.clear()  # the weakly held listener dies while this delivery runs
        gc.collect()
        calls.append("first")

    signal.connect(first, priority=Priority.HIGH)
    signal.connect(holder[0].on)
    with BackgroundEmitter(signal, workers=1) as emitter:
        emitter.emit(Model, 1)
    assert calls == ["first"]
    assert emitter.stats.delivered == 1
