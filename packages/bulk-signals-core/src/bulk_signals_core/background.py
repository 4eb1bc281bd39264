"""``BackgroundEmitter``: emit now, deliver later on a pool of worker threads.

``emit(sender, payload)`` puts the emission on a bounded queue and returns; N worker threads take
emissions in order and call the signal's receivers exactly as ``send`` would at that moment (same
priority order, sender filtering, ids and error strategy). For logging, analytics, notifications:
work whose caller must not wait for it.

How it stays cheap: the queue is a ``queue.SimpleQueue`` (C, lock-free for the caller) and the
bound is a counter under one lock, so ``emit`` costs one lock and one put; the condition variable
is only touched when someone waits (a blocked producer, ``join``). Workers keep their own
delivered/failed counters, so counting costs no lock.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Generic, TypeVar

from .exceptions import QueueFull
from .receivers import KIND, REF, CallKind, Slot, receiver_id
from .signal import Signal
from .strategies import ErrorStrategy

__all__ = ["BackgroundEmitter", "BackgroundStats", "WhenFull"]

logger = logging.getLogger("bulk_signals_core")

T = TypeVar("T")

_STOP = object()  # one per worker, queued by stop(): FIFO, so it comes after every emission
_ASYNC = CallKind.ASYNC
_identity = id


class WhenFull(Enum):
    """What :meth:`BackgroundEmitter.emit` does when the queue holds ``maxsize`` emissions."""

    BLOCK = "block"
    """Wait for room, up to the emitter's ``timeout``; then raise :class:`QueueFull` (counted as
    ``rejected``). Nothing is lost: every accepted emission is delivered."""

    DROP_OLDEST = "drop_oldest"
    """Make room by discarding the oldest queued emission (counted as ``dropped``); never waits."""

    RAISE = "raise"
    """Raise :class:`QueueFull` at once (counted as ``rejected``)."""


@dataclass(frozen=True)
class BackgroundStats:
    """Counters of a :class:`BackgroundEmitter`, in emissions.

    Once the emitter is drained, ``queued == delivered + failed + dropped``.
    """

    queued: int
    """Accepted by ``emit``."""
    delivered: int
    """Run with every receiver succeeding."""
    failed: int
    """Run with at least one receiver failing (each failure went to ``on_error`` / the log)."""
    dropped: int
    """Accepted but never run: discarded by ``DROP_OLDEST``, ``stop(drain=False)``, a ``stop`` that
    timed out, or interpreter exit."""
    rejected: int
    """Refused by ``emit`` with :class:`QueueFull` (``RAISE``, or ``BLOCK`` past its timeout)."""
    pending: int
    """Accepted and not yet finished (queued or running)."""


class BackgroundEmitter(Generic[T]):
    """Deliver a signal's emissions on ``workers`` threads, from a queue of at most ``maxsize``.

    ::

        with BackgroundEmitter(order_placed, workers=4) as emitter:   # start() ... stop()
            emitter.emit(shop, OrderPlaced(1, 999))                   # returns at once

    Sync receivers run on the worker threads; ``async def`` receivers on one event loop owned by
    the emitter (a thread of its own), each awaited by the worker delivering the emission.

    :param workers: worker threads (at least 1). With 1, emissions are delivered in emit order.
    :param maxsize: the most emissions waiting in the queue.
    :param when_full: a :class:`WhenFull` policy.
    :param timeout: seconds ``WhenFull.BLOCK`` waits for room (None: as long as it takes).
    :param exit_timeout: seconds given at interpreter exit to deliver what is still queued; the
        rest is counted as dropped and logged.
    """

    def __init__(
        self,
        signal: Signal[T],
        *,
        workers: int = 4,
        maxsize: int = 10_000,
        when_full: WhenFull = WhenFull.BLOCK,
        timeout: float | None = None,
        exit_timeout: float = 5.0,
    ) -> None:
        if not isinstance(signal, Signal):
            raise TypeError(f"BackgroundEmitter takes a Signal, not {signal!r}")
        if type(workers) is not int or workers < 1:
            raise ValueError(f"workers must be an int >= 1, not {workers!r}")
        if type(maxsize) is not int or maxsize < 1:
            raise ValueError(f"maxsize must be an int >= 1, not {maxsize!r}")
        if not isinstance(when_full, WhenFull):
            raise TypeError(f"when_full must be a WhenFull, not {when_full!r}")
        self.signal = signal
        self.workers = workers
        self.maxsize = maxsize
        self.when_full = when_full
        self.timeout = timeout
        self.exit_timeout = exit_timeout
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # room in the queue, or everything finished
        self._waiting = 0  # producers and joiners waiting on _cond: only then does a worker notify
        self._state = "new"  # new -> running -> stopped
        self._pending = 0  # emissions in the queue (the bound)
        self._unfinished = 0  # emissions queued or running (join waits for 0)
        self._queued = 0
        self._dropped = 0
        self._rejected = 0
        self._counts: list[list[int]] = []  # per worker [delivered, failed]: written by that worker only
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<BackgroundEmitter {self.signal.name!r} {self._state} workers={self.workers}>"

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether :meth:`emit` accepts emissions (between :meth:`start` and :meth:`stop`)."""
        return self._state == "running"

    def start(self) -> BackgroundEmitter[T]:
        """Start the workers (and the event loop for async receivers); return the emitter.

        Starting a running emitter does nothing; an emitter runs once (no start after stop).
        """
        with self._lock:
            if self._state == "running":
                return self
            if self._state == "stopped":
                raise RuntimeError(f"{self!r} was stopped; create a new BackgroundEmitter")
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._loop_thread = threading.Thread(
                target=loop.run_forever, name=f"bulk-signals-{self.signal.name}-loop", daemon=True
            )
            self._loop_thread.start()
            for index in range(self.workers):
                counts = [0, 0]
                self._counts.append(counts)
                # Daemon threads: a receiver that never returns must not hang interpreter exit
                # (the exit rule is _stop_at_exit's drain with exit_timeout).
                thread = threading.Thread(
                    target=self._work, args=(counts,), name=f"bulk-signals-{self.signal.name}-{index}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._state = "running"
            _RUNNING.add(self)
        return self

    def stop(self, drain: bool = True, timeout: float | None = None) -> bool:
        """Stop accepting emissions, then stop the workers; return whether they all finished.

        :param drain: deliver what is queued first (True), or count it as dropped (False).
        :param timeout: seconds to wait for the workers. Past it, what is still queued is counted
            as dropped; the workers finish the emission they are running, then end.
        """
        with self._lock:
            if self._state != "running":
                return not any(thread.is_alive() for thread in self._threads)
            self._state = "stopped"
            _RUNNING.discard(self)
            self._cond.notify_all()  # producers blocked on a full queue get RuntimeError
            if not drain:
                self._discard_queued()
            for _ in self._threads:
                self._queue.put(_STOP)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        finished = not any(thread.is_alive() for thread in self._threads)
        if not finished:
            with self._lock:
                self._discard_queued()
        # The loop stops only when no worker can still be awaiting one of its coroutines.
        if finished and self._loop is not None and self._loop_thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join()
            self._loop.close()
        return finished

    def _discard_queued(self) -> None:
        # Called with the lock held, after _state left "running": count every queued emission as
        # dropped, keeping the workers' stop markers.
        stops = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stops += 1
            else:
                self._pending -= 1
                self._dropped += 1
                self._finished_one()
        for _ in range(stops):
            self._queue.put(_STOP)

    def __enter__(self) -> BackgroundEmitter[T]:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(drain=True)

    # -- emitting -------------------------------------------------------------------------------

    def emit(self, sender: Any, payload: T = None) -> bool:  # type: ignore[assignment]  # no payload: None, whatever T is
        """Queue ``send(sender, payload)`` for a worker and return at once.

        Returns False (and queues nothing) when the signal would deliver to nobody now: no
        receiver, or disabled or muted (also globally). Receivers are resolved when the emission
        is delivered, so muting also stops emissions already queued.

        :raises QueueFull: the queue is full under ``WhenFull.RAISE``, or stayed full for
            ``timeout`` seconds under ``WhenFull.BLOCK``.
        :raises RuntimeError: the emitter is not running.
        """
        plan = self.signal._plan
        if plan is not None and not plan:  # the fast "nobody listens" check of send()
            return False
        with self._lock:
            if self._state != "running":
                raise RuntimeError(f"{self!r} is not running; call start() first")
            if self._pending >= self.maxsize:
                self._make_room()
            self._pending += 1
            self._unfinished += 1
            self._queued += 1
            self._queue.put((sender, payload))  # under the lock: a stop marker can only come after
        return True

    def _make_room(self) -> None:
        # Called with the lock held and the queue full.
        policy = self.when_full
        if policy is WhenFull.DROP_OLDEST:
            try:
                self._queue.get_nowait()
            except queue.Empty:  # pragma: no cover - a race: a worker took the last one and will decrement _pending
                return
            self._pending -= 1
            self._dropped += 1
            self._finished_one()
            return
        if policy is WhenFull.BLOCK:
            deadline = None if self.timeout is None else time.monotonic() + self.timeout
            self._waiting += 1
            try:
                while self._pending >= self.maxsize and self._state == "running":
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._cond.wait(remaining)
            finally:
                self._waiting -= 1
            if self._state != "running":
                raise RuntimeError(f"{self!r} was stopped while waiting for room")
            if self._pending < self.maxsize:
                return
        self._rejected += 1
        raise QueueFull(f"the queue of {self!r} is full ({self.maxsize} emissions)")

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every accepted emission has been delivered (or dropped); return whether it
        was, False on timeout."""
        with self._lock:
            self._waiting += 1
            try:
                return self._cond.wait_for(lambda: self._unfinished == 0, timeout)
            finally:
                self._waiting -= 1

    @property
    def stats(self) -> BackgroundStats:
        """A snapshot of the counters."""
        with self._lock:
            delivered = sum(counts[0] for counts in self._counts)
            failed = sum(counts[1] for counts in self._counts)
            return BackgroundStats(self._queued, delivered, failed, self._dropped, self._rejected, self._unfinished)

    # -- the workers ----------------------------------------------------------------------------

    def _finished_one(self) -> None:
        # Called with the lock held.
        self._unfinished -= 1
        if self._waiting:
            self._cond.notify_all()

    def _work(self, counts: list[int]) -> None:
        get = self._queue.get
        lock = self._lock
        while True:
            item = get()
            if item is _STOP:
                return
            with lock:
                self._pending -= 1
                if self._waiting:
                    self._cond.notify_all()
            try:
                failures = self._deliver(item[0], item[1])
            except BaseException:  # pragma: no cover - _deliver reports receiver errors itself
                logger.exception("background delivery of signal %r failed", self.signal.name)
                failures = 1
            counts[1 if failures else 0] += 1
            with lock:
                self._finished_one()

    def _deliver(self, sender: Any, payload: Any) -> int:
        """``send(sender, payload)`` on a worker; return how many receivers failed."""
        signal = self.signal
        plan = signal._plan
        if plan is None:
            hit = signal._cache.get(_identity(sender))
            plan = hit[1] if hit is not None and hit[0]() is sender else signal._resolve(sender)
        failures = 0
        for slot in plan:
            fn = slot[REF]()
            if fn is None:
                continue
            kind = slot[KIND]
            try:
                if not kind:
                    fn(sender, payload)
                elif kind & _ASYNC:
                    self._await(signal._invoke(fn, kind & ~_ASYNC, sender, payload))
                else:
                    signal._invoke(fn, kind, sender, payload)
            except Exception as exc:
                failures += 1
                self._report(slot, fn, exc)
                if signal._errors is ErrorStrategy.RAISE:
                    break  # as send() would: the receivers after the failing one do not run
        return failures

    def _await(self, awaitable: Awaitable[Any]) -> Any:
        loop = self._loop
        assert loop is not None  # started with the workers
        return asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), loop).result()

    def _report(self, slot: Slot, fn: object, exc: Exception) -> None:
        # Nobody waits for a background emission: a failure goes to on_error, and to the log under
        # ErrorStrategy.LOG or when there is no on_error, so it is never lost silently.
        signal = self.signal
        rid = receiver_id(slot, fn)
        on_error = signal._on_error
        if on_error is not None:
            try:
                on_error(rid, exc)
            except Exception:
                logger.exception("on_error of signal %r failed for receiver %s", signal.name, rid)
        if on_error is None or signal._errors is ErrorStrategy.LOG:
            logger.error("receiver %s of signal %r failed in the background", rid, signal.name, exc_info=exc)


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


_RUNNING: weakref.WeakSet[BackgroundEmitter[Any]] = weakref.WeakSet()


@atexit.register
def _stop_at_exit() -> None:
    """At interpreter exit, each running emitter delivers what it holds within its exit_timeout;
    what is left is counted as dropped and logged."""
    for emitter in list(_RUNNING):
        before = emitter.stats.dropped
        emitter.stop(drain=True, timeout=emitter.exit_timeout)
        lost = emitter.stats.dropped - before
        if lost:
            logger.warning("%r: %d emission(s) dropped at interpreter exit", emitter, lost)
