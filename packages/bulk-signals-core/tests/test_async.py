"""Async receivers: under send() (with and without a running loop) and under send_async()."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
from bulk_signals_core import ErrorStrategy, Priority, ReceiversFailed, Signal


class Model:
    """A sender."""


# -- async receivers under send() ------------------------------------------------------------------


def test_send_runs_an_async_receiver_to_completion_without_a_loop() -> None:
    signal: Signal[int] = Signal("s")
    steps: list[str] = []

    async def receiver(sender: Any, payload: int) -> int:
        steps.append("start")
        await asyncio.sleep(0)
        steps.append("end")
        return payload * 2

    signal.connect(receiver)
    assert signal.send(Model, 21) == [(receiver, 42)]
    assert steps == ["start", "end"]


@pytest.mark.asyncio
async def test_send_inside_a_running_loop_runs_the_async_receiver_in_a_helper_thread() -> None:
    signal: Signal[int] = Signal("s")
    threads: list[str] = []

    async def receiver(sender: Any, payload: int) -> int:
        await asyncio.sleep(0)
        threads.append(threading.current_thread().name)
        return payload + 1

    signal.connect(receiver)
    assert signal.send(Model, 1) == [(receiver, 2)]
    assert threads == ["bulk-signals-async-receiver"]


@pytest.mark.asyncio
async def test_send_inside_a_running_loop_reraises_the_async_receivers_error() -> None:
    signal: Signal[int] = Signal("s")

    async def receiver(sender: Any, payload: int) -> None:
        raise LookupError("from the helper thread")

    signal.connect(receiver)
    with pytest.raises(LookupError, match="from the helper thread"):
        signal.send(Model, 1)


def test_send_leaves_the_threads_current_event_loop_alone() -> None:
    # asyncio.run() ends with set_event_loop(None): code that keeps a loop with set_event_loop()
    # and calls loop.run_until_complete() found it gone after a send with an async receiver.
    signal: Signal[int] = Signal("s")

    async def receiver(sender: Any, payload: int) -> int:
        return payload

    signal.connect(receiver)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        assert signal.send(Model, 1) == [(receiver, 1)]
        assert asyncio.get_event_loop_policy().get_event_loop() is loop
        assert loop.run_until_complete(signal.send_async(Model, 2)) == [(receiver, 2)]
    finally:
        asyncio.set_event_loop(None)
        loop.close()


_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


@pytest.mark.asyncio
async def test_send_inside_a_running_loop_gives_the_async_receiver_the_callers_context() -> None:
    # Without a running loop asyncio.run() copies the caller's context into the receiver's task;
    # the helper thread used inside a running loop must do the same, or context variables (request
    # ids, tenants, Django's async-safety state) silently read their defaults.
    signal: Signal[int] = Signal("s")

    async def receiver(sender: Any, payload: int) -> str:
        return _request_id.get()

    signal.connect(receiver)
    token = _request_id.set("req-42")
    try:
        assert signal.send(Model, 1) == [(receiver, "req-42")]
    finally:
        _request_id.reset(token)


def test_send_runs_sync_and_async_receivers_in_priority_order() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    async def first(sender: Any, payload: int) -> None:
        calls.append("async")

    def second(sender: Any, payload: int) -> None:
        calls.append("sync")

    signal.connect(second)
    signal.connect(first, priority=Priority.HIGH)
    signal.send(Model, 1)
    assert calls == ["async", "sync"]


def test_send_with_collect_returns_an_async_receivers_error_as_its_result() -> None:
    signal: Signal[int] = Signal("s")

    async def receiver(sender: Any, payload: int) -> None:
        raise ValueError("bad")

    signal.connect(receiver)
    [(fn, result)] = signal.send(Model, 1, errors=ErrorStrategy.COLLECT)
    assert fn is receiver
    assert isinstance(result, ValueError)


def test_an_async_callable_object_is_awaited() -> None:
    class AsyncReceiver:
        async def __call__(self, sender: Any, payload: int) -> int:
            return payload

    signal: Signal[int] = Signal("s")
    receiver = AsyncReceiver()
    signal.connect(receiver)
    assert signal.send(Model, 9) == [(receiver, 9)]


def test_an_async_django_style_receiver_is_awaited() -> None:
    signal: Signal[int] = Signal("s")

    async def receiver(sender: Any, **kwargs: Any) -> Any:
        return kwargs["payload"]

    signal.connect(receiver)
    assert signal.send(Model, 9) == [(receiver, 9)]


# -- send_async ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_send_async_runs_sync_and_async_receivers_in_order() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    def sync_low(sender: Any, payload: int) -> str:
        calls.append("sync_low")
        return "sync_low"

    async def async_high(sender: Any, payload: int) -> str:
        await asyncio.sleep(0)
        calls.append("async_high")
        return "async_high"

    def sync_highest(sender: Any, payload: int) -> str:
        calls.append("sync_highest")
        return "sync_highest"

    signal.connect(sync_low, priority=Priority.LOW)
    signal.connect(async_high, priority=Priority.HIGH)
    signal.connect(sync_highest, priority=Priority.HIGHEST)
    results = await signal.send_async(Model, 1)
    assert calls == ["sync_highest", "async_high", "sync_low"]
    assert results == [(sync_highest, "sync_highest"), (async_high, "async_high"), (sync_low, "sync_low")]


@pytest.mark.asyncio
async def test_send_async_runs_async_receivers_in_the_callers_loop() -> None:
    signal: Signal[int] = Signal("s")
    loops: list[Any] = []

    async def receiver(sender: Any, payload: int) -> None:
        loops.append(asyncio.get_running_loop())

    signal.connect(receiver)
    await signal.send_async(Model, 1)
    assert loops == [asyncio.get_running_loop()]


@pytest.mark.asyncio
async def test_send_async_without_receivers_returns_an_empty_list() -> None:
    assert await Signal("s").send_async(Model, 1) == []


@pytest.mark.asyncio
async def test_send_async_filters_by_sender() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[Any] = []

    async def receiver(sender: Any, payload: int) -> None:
        calls.append(sender)

    signal.connect(receiver, sender=Model)
    await signal.send_async(object(), 1)
    await signal.send_async(Model, 1)
    assert calls == [Model]


@pytest.mark.asyncio
async def test_send_async_while_muted_calls_nothing() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[int] = []

    async def receiver(sender: Any, payload: int) -> None:
        calls.append(payload)

    signal.connect(receiver)
    with signal.muted():
        assert await signal.send_async(Model, 1) == []
    assert calls == []


@pytest.mark.asyncio
async def test_send_async_passes_django_style_keywords_to_sync_and_async_receivers() -> None:
    signal: Signal[int] = Signal("s", payload_name="event")
    seen: list[Any] = []

    async def async_receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(("async", kwargs["event"], kwargs["signal"] is signal))

    def sync_receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(("sync", kwargs["event"], kwargs["signal"] is signal))

    signal.connect(async_receiver)
    signal.connect(sync_receiver)
    await signal.send_async(Model, 3)
    assert seen == [("async", 3, True), ("sync", 3, True)]


@pytest.mark.asyncio
async def test_send_async_timeout_fails_only_the_slow_receiver_under_collect() -> None:
    signal: Signal[int] = Signal("s")
    calls: list[str] = []

    async def slow(sender: Any, payload: int) -> None:
        await asyncio.sleep(5)
        calls.append("slow finished")  # pragma: no cover - cancelled by the timeout

    async def fast(sender: Any, payload: int) -> str:
        calls.append("fast")
        return "ok"

    signal.connect(slow, priority=Priority.HIGH)
    signal.connect(fast)
    results = await signal.send_async(Model, 1, timeout=0.05, errors=ErrorStrategy.COLLECT)
    assert calls == ["fast"]
    assert results[0][0] is slow and isinstance(results[0][1], TimeoutError)
    assert results[1] == (fast, "ok")


@pytest.mark.asyncio
async def test_send_async_timeout_raises_timeout_error_under_raise() -> None:
    failures: list[tuple[str, BaseException]] = []
    signal: Signal[int] = Signal("s", on_error=lambda rid, exc: failures.append((rid, exc)))

    async def slow(sender: Any, payload: int) -> None:
        await asyncio.sleep(5)

    signal.connect(slow, id="slow")
    with pytest.raises(TimeoutError):
        await signal.send_async(Model, 1, timeout=0.05)
    assert [(rid, type(exc)) for rid, exc in failures] == [("slow", TimeoutError)]


@pytest.mark.asyncio
async def test_send_async_timeout_applies_to_django_style_async_receivers() -> None:
    signal: Signal[int] = Signal("s")

    async def slow(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(5)

    signal.connect(slow)
    [(_, result)] = await signal.send_async(Model, 1, timeout=0.05, errors=ErrorStrategy.COLLECT)
    assert isinstance(result, TimeoutError)


@pytest.mark.asyncio
async def test_send_async_timeout_does_not_touch_fast_receivers() -> None:
    signal: Signal[int] = Signal("s")

    async def fast(sender: Any, **kwargs: Any) -> int:
        return 1

    async def fast_positional(sender: Any, payload: int) -> int:
        return 2

    signal.connect(fast)
    signal.connect(fast_positional)
    assert await signal.send_async(Model, 1, timeout=1.0) == [(fast, 1), (fast_positional, 2)]


@pytest.mark.asyncio
async def test_send_async_group_raises_every_failure_after_running_all() -> None:
    signal: Signal[int] = Signal("s", errors=ErrorStrategy.GROUP)
    calls: list[str] = []

    async def bad_async(sender: Any, payload: int) -> None:
        raise ValueError("async")

    def bad_sync(sender: Any, payload: int) -> None:
        raise KeyError("sync")

    def good(sender: Any, payload: int) -> None:
        calls.append("good")

    signal.connect(bad_async)
    signal.connect(bad_sync)
    signal.connect(good)
    with pytest.raises(ReceiversFailed) as info:
        await signal.send_async(Model, 1)
    assert [type(e) for e in info.value.exceptions] == [ValueError, KeyError]
    assert calls == ["good"]


@pytest.mark.asyncio
async def test_send_async_log_logs_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    signal: Signal[int] = Signal("s")

    async def bad(sender: Any, payload: int) -> None:
        raise ValueError("nope")

    signal.connect(bad, id="async.bad")
    [(_, result)] = await signal.send_async(Model, 1, errors=ErrorStrategy.LOG)
    assert isinstance(result, ValueError)
    assert "receiver async.bad of signal 's' failed" in caplog.text


@pytest.mark.asyncio
async def test_send_async_rejects_a_bad_error_strategy() -> None:
    signal: Signal[int] = Signal("s")

    def receiver(sender: Any, payload: int) -> None: ...

    signal.connect(receiver)
    with pytest.raises(TypeError, match="errors must be an ErrorStrategy"):
        await signal.send_async(Model, 1, errors="collect")  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_cancellation_is_not_swallowed_by_collect() -> None:
    signal: Signal[int] = Signal("s", errors=ErrorStrategy.COLLECT)
    started = asyncio.Event()

    async def waits(sender: Any, payload: int) -> None:
        started.set()
        await asyncio.sleep(5)

    signal.connect(waits)
    task = asyncio.ensure_future(signal.send_async(Model, 1))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
