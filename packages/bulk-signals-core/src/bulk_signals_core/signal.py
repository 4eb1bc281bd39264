"""``Signal[T]``: a typed, prioritised, thread-safe publish/subscribe dispatcher."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar, overload

from .exceptions import InvalidReceiver, ReceiversFailed
from .priority import Priority
from .receivers import ANY, CallKind, ReceiverRecord, describe, inspect_receiver, make_ref, receiver_key
from .strategies import ErrorStrategy

__all__ = ["ANY", "Receiver", "Signal"]

logger = logging.getLogger("bulk_signals_core")

T = TypeVar("T")
R = TypeVar("R")

Receiver = Callable[[Any, T], Any]
"""What a ``Signal[T]`` calls: ``receiver(sender, payload)``, sync or ``async def``."""

Plan = tuple[tuple[Callable[[], Any], int, ReceiverRecord], ...]

_RAISE = ErrorStrategy.RAISE
_POSITIONAL = CallKind.POSITIONAL
_ASYNC = CallKind.ASYNC
_order = itertools.count()  # global connection order: ties in priority run in this order
_CACHE_LIMIT = 4096


class _Connector(Protocol[T]):
    """What ``signal.connect(sender=..., ...)`` returns: a decorator keeping the receiver's type."""

    def __call__(self, receiver: Callable[[Any, T], R], /) -> Callable[[Any, T], R]: ...


class Signal(Generic[T]):
    """A signal carrying payloads of type ``T`` to receivers called as ``receiver(sender, payload)``.

    Receivers run in ascending priority (``Priority.HIGHEST`` first), ties in connection order.
    Reads never lock: ``send`` walks an immutable snapshot that connect/disconnect replace under a
    lock, so receivers may connect and disconnect from any thread, even from inside a send.
    """

    __slots__ = (
        "__weakref__",
        "_cache",
        "_disabled",
        "_errors",
        "_filtered",
        "_keys",
        "_lock",
        "_on_error",
        "_plan",
        "_prune_cb",
        "_records",
        "name",
        "payload_name",
    )

    def __init__(
        self,
        name: str = "",
        *,
        errors: ErrorStrategy = ErrorStrategy.RAISE,
        on_error: Callable[[str, BaseException], object] | None = None,
        payload_name: str = "payload",
    ) -> None:
        """Create a signal.

        :param errors: the default :class:`ErrorStrategy` of ``send``/``send_async``.
        :param on_error: called as ``on_error(receiver_id, exc)`` for every receiver failure.
        :param payload_name: the keyword under which Django-style ``(sender, **kwargs)`` receivers
            get the payload.
        """
        if not isinstance(errors, ErrorStrategy):
            raise TypeError(f"errors must be an ErrorStrategy, not {errors!r}")
        self.name = name
        self.payload_name = payload_name
        self._errors = errors
        self._on_error = on_error
        self._lock = threading.RLock()  # re-entrant: a weakref callback may fire while we hold it
        self._records: tuple[ReceiverRecord, ...] = ()
        self._keys: dict[object, ReceiverRecord] = {}
        self._disabled = 0
        self._filtered = False
        # The send fast path reads only _plan: () = nothing to call, a tuple = call these for any
        # sender, None = some receivers filter by sender (look in _cache).
        self._plan: Plan | None = ()
        self._cache: dict[int, tuple[Callable[[], Any], Plan]] = {}
        self._prune_cb = self._prune

    def __repr__(self) -> str:
        return f"<Signal {self.name!r} receivers={len(self)}>"

    # -- connecting -----------------------------------------------------------------------------

    @overload
    def connect(
        self,
        receiver: Callable[[Any, T], R],
        *,
        sender: Any = ...,
        priority: int = ...,
        id: str | None = ...,
        weak: bool = ...,
        dispatch_uid: object = ...,
    ) -> Callable[[Any, T], R]: ...

    @overload
    def connect(
        self,
        receiver: None = None,
        *,
        sender: Any = ...,
        priority: int = ...,
        id: str | None = ...,
        weak: bool = ...,
        dispatch_uid: object = ...,
    ) -> _Connector[T]: ...

    def connect(
        self,
        receiver: Callable[[Any, T], Any] | None = None,
        *,
        sender: Any = ANY,
        priority: int = Priority.NORMAL,
        id: str | None = None,
        weak: bool = True,
        dispatch_uid: object = None,
    ) -> Any:
        """Connect ``receiver`` and return it; without a receiver, return a decorator that does.

        :param sender: only sends from this sender (by identity) reach the receiver; ``ANY`` for all.
        :param priority: lower runs first; any ``int``.
        :param id: a unique name; connecting an id that is already connected does nothing.
        :param weak: hold the receiver by a weak reference (the default), so it disconnects itself
            when garbage-collected. Use ``weak=False`` for lambdas and inner functions.
        :param dispatch_uid: Django's de-duplication key, unique per sender.
        :raises InvalidReceiver: (a ``TypeError``) for a non-callable, a non-int priority or a
            receiver that cannot be called as ``receiver(sender, payload)``.
        """
        if receiver is None:

            def decorator(func: Callable[[Any, T], R], /) -> Callable[[Any, T], R]:
                self.connect(func, sender=sender, priority=priority, id=id, weak=weak, dispatch_uid=dispatch_uid)
                return func

            return decorator
        kind = inspect_receiver(receiver)
        if type(priority) is not int and (not isinstance(priority, int) or isinstance(priority, bool)):
            raise InvalidReceiver(f"priority of receiver {describe(receiver)} must be an int, not {priority!r}")
        if id is not None and type(id) is not str:
            raise InvalidReceiver(f"id of receiver {describe(receiver)} must be a str, not {id!r}")
        sender_key = ANY if sender is ANY else _sender_key(sender)
        key = _record_key(receiver, sender_key, id, dispatch_uid)
        prune = self._prune_cb
        with self._lock:
            if key in self._keys:
                return receiver
            rec = ReceiverRecord(
                id=id if id is not None else self._display_id(receiver, dispatch_uid),
                key=key,
                ref=make_ref(receiver, weak, prune),
                kind=kind,
                priority=int(priority),
                order=next(_order),
                sender=sender_key,
                sender_ref=None if sender is ANY else make_ref(sender, True, prune),
            )
            records = list(self._records)
            bisect.insort(records, rec, key=ReceiverRecord.sort_key)
            self._keys[key] = rec
            self._install(tuple(records))
        return receiver

    def _display_id(self, receiver: object, dispatch_uid: object) -> str:
        base = str(dispatch_uid) if dispatch_uid is not None else describe(receiver)
        ids = {r.id for r in self._records}
        if base not in ids:
            return base
        for n in itertools.count(2):
            candidate = f"{base}#{n}"
            if candidate not in ids:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    def disconnect(
        self,
        receiver: Callable[..., Any] | None = None,
        *,
        sender: Any = ANY,
        id: str | None = None,
        dispatch_uid: object = None,
    ) -> bool:
        """Disconnect a receiver by itself (and ``sender``), by ``id`` or by ``dispatch_uid``.

        Returns whether something was disconnected; an unknown receiver is not an error.
        """
        with self._lock:
            if id is not None:
                rec = next((r for r in self._records if r.id == id), None)
            else:
                if receiver is None and dispatch_uid is None:
                    raise TypeError("disconnect() needs a receiver, an id or a dispatch_uid")
                sender_key = ANY if sender is ANY else _sender_key(sender)
                rec = self._keys.get(_record_key(receiver, sender_key, None, dispatch_uid))
            if rec is None:
                return False
            del self._keys[rec.key]
            self._install(tuple(r for r in self._records if r is not rec))
            return True

    def disconnect_all(self) -> None:
        """Disconnect every receiver."""
        with self._lock:
            self._keys.clear()
            self._install(())

    def _prune(self, _dead: object) -> None:
        # Weakref callback: a receiver or a sender died; drop every record that can no longer run.
        with self._lock:
            alive = tuple(r for r in self._records if r.is_alive())
            if len(alive) != len(self._records):
                for rec in self._records:
                    if rec not in alive:
                        self._keys.pop(rec.key, None)
                self._install(alive)

    def _install(self, records: tuple[ReceiverRecord, ...]) -> None:
        # Called with the lock held. Publishes a new snapshot; readers see the old or the new one.
        self._records = records
        self._filtered = any(r.sender is not ANY for r in records)
        self._cache = {}
        self._refresh_plan()

    def _refresh_plan(self) -> None:
        if self._disabled or not self._records:
            self._plan = ()
        elif self._filtered:
            self._plan = None
        else:
            self._plan = tuple((r.ref, r.kind, r) for r in self._records)

    def _plan_for(self, sender: Any) -> Plan:
        # Slow path, taken only when some receiver filters by sender: a cache keyed by id(sender)
        # that also keeps a weak reference to the sender, so a recycled id never matches.
        if self._disabled:
            return ()
        cache = self._cache
        hit = cache.get(id(sender))
        if hit is not None and hit[0]() is sender:
            return hit[1]
        key = _sender_key(sender)
        plan: Plan = tuple((r.ref, r.kind, r) for r in self._records if r.sender is ANY or r.sender == key)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[id(sender)] = (make_ref(sender, True, None), plan)
        return plan

    # -- querying -------------------------------------------------------------------------------

    def has_receivers(self, sender: Any = ANY) -> bool:
        """Whether a send from ``sender`` (any sender by default) would call at least one receiver."""
        if sender is ANY:
            return any(r.is_alive() for r in self._records)
        return any(ref() is not None for ref, _, _ in self._plan_for(sender))

    def receiver_ids(self) -> list[str]:
        """The ids of the connected receivers, in call order."""
        return [r.id for r in self._records if r.is_alive()]

    def __len__(self) -> int:
        """The number of connected (live) receivers."""
        return sum(1 for r in self._records if r.is_alive())

    def __bool__(self) -> bool:
        return True  # a signal is always truthy; use has_receivers() to ask about receivers

    # -- muting ---------------------------------------------------------------------------------

    @property
    def is_enabled(self) -> bool:
        """False while the signal is disabled or muted."""
        return not self._disabled

    def disable(self) -> None:
        """Stop delivering sends until :meth:`enable`. Receivers stay connected."""
        with self._lock:
            self._disabled = 1
            self._refresh_plan()

    def enable(self) -> None:
        """Deliver sends again (also ends every :meth:`muted` block early)."""
        with self._lock:
            self._disabled = 0
            self._refresh_plan()

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Deliver nothing inside the block; blocks nest, and the state is restored on exit."""
        with self._lock:
            previous = self._disabled
            self._disabled = previous + 1
            self._refresh_plan()
        try:
            yield
        finally:
            with self._lock:
                self._disabled = previous
                self._refresh_plan()

    # -- sending --------------------------------------------------------------------------------

    def send(
        self, sender: Any, payload: T = None, /, *, errors: ErrorStrategy | None = None  # type: ignore[assignment]
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Call every receiver for ``sender`` in order; return ``[(receiver, result), ...]``.

        ``async def`` receivers are run to completion (in a helper thread when this thread already
        runs an event loop). Errors follow ``errors`` or the signal's default strategy.
        """
        plan = self._plan
        if plan is None:
            plan = self._plan_for(sender)
        if not plan:
            return []
        strategy = self._errors if errors is None else errors
        if strategy is not _RAISE:
            return self._send_handling(plan, sender, payload, strategy)
        results: list[tuple[Callable[..., Any], Any]] = []
        rec = None
        try:
            for ref, kind, rec in plan:  # noqa: B007 - rec names the failing receiver below
                fn = ref()
                if fn is None:
                    continue
                if kind == _POSITIONAL:
                    results.append((fn, fn(sender, payload)))
                else:
                    results.append((fn, self._call(fn, kind, sender, payload)))
        except Exception as exc:
            if self._on_error is not None and rec is not None:
                self._on_error(rec.id, exc)
            raise
        return results

    def _call(self, fn: Callable[..., Any], kind: int, sender: Any, payload: Any) -> Any:
        base = kind & ~_ASYNC
        if base == CallKind.POSITIONAL:
            value = fn(sender, payload)
        elif base == CallKind.KEYWORDS:
            value = fn(sender, signal=self, **{self.payload_name: payload})
        else:
            value = fn(signal=self, sender=sender, **{self.payload_name: payload})
        if kind & _ASYNC:
            return _run_to_completion(value)
        return value

    def _send_handling(
        self, plan: Plan, sender: Any, payload: Any, strategy: ErrorStrategy
    ) -> list[tuple[Callable[..., Any], Any]]:
        results: list[tuple[Callable[..., Any], Any]] = []
        failures: list[Exception] = []
        for ref, kind, rec in plan:
            fn = ref()
            if fn is None:
                continue
            try:
                results.append((fn, self._call(fn, kind, sender, payload)))
            except Exception as exc:
                if not self._failed(strategy, rec, exc):
                    raise
                failures.append(exc)
                results.append((fn, exc))
        if failures and strategy is ErrorStrategy.GROUP:
            raise ReceiversFailed(f"{len(failures)} receiver(s) of signal {self.name!r} failed", failures)
        return results

    def _failed(self, strategy: ErrorStrategy, rec: ReceiverRecord, exc: Exception) -> bool:
        """Report a failure; return False when the strategy says to stop and re-raise."""
        if self._on_error is not None:
            self._on_error(rec.id, exc)
        if strategy is ErrorStrategy.RAISE:
            return False
        if strategy is ErrorStrategy.LOG:
            logger.error("receiver %s of signal %r failed", rec.id, self.name, exc_info=exc)
        return True

    async def send_async(
        self,
        sender: Any,
        payload: T = None,  # type: ignore[assignment]
        /,
        *,
        errors: ErrorStrategy | None = None,
        timeout: float | None = None,
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Call every receiver in order, awaiting ``async def`` ones; return ``[(receiver, result)]``.

        :param timeout: seconds each async receiver may take; past it, that receiver fails with
            ``TimeoutError``, handled by the error strategy like any other failure.
        """
        plan = self._plan
        if plan is None:
            plan = self._plan_for(sender)
        if not plan:
            return []
        strategy = self._errors if errors is None else errors
        results: list[tuple[Callable[..., Any], Any]] = []
        failures: list[Exception] = []
        for ref, kind, rec in plan:
            fn = ref()
            if fn is None:
                continue
            try:
                if kind & _ASYNC:
                    coro = self._invoke(fn, kind & ~_ASYNC, sender, payload)
                    if timeout is None:
                        value = await coro
                    else:
                        async with asyncio.timeout(timeout):
                            value = await coro
                elif kind == _POSITIONAL:
                    value = fn(sender, payload)
                else:
                    value = self._invoke(fn, kind, sender, payload)
            except Exception as exc:
                if not self._failed(strategy, rec, exc):
                    raise
                failures.append(exc)
                value = exc
            results.append((fn, value))
        if failures and strategy is ErrorStrategy.GROUP:
            raise ReceiversFailed(f"{len(failures)} receiver(s) of signal {self.name!r} failed", failures)
        return results

    def _invoke(self, fn: Callable[..., Any], base: int, sender: Any, payload: Any) -> Any:
        if base == CallKind.POSITIONAL:
            return fn(sender, payload)
        if base == CallKind.KEYWORDS:
            return fn(sender, signal=self, **{self.payload_name: payload})
        return fn(signal=self, sender=sender, **{self.payload_name: payload})


def _sender_key(sender: object) -> object:
    return ("id", id(sender))


def _record_key(receiver: object, sender_key: object, id: str | None, dispatch_uid: object) -> object:
    if id is not None:
        return ("id", id)
    if dispatch_uid is not None:
        return ("uid", dispatch_uid, sender_key)
    return ("ref", receiver_key(receiver), sender_key)


def _run_to_completion(awaitable: Awaitable[Any]) -> Any:
    """Run a coroutine from synchronous code, even when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_as_coroutine(awaitable))
    # A running loop cannot be re-entered: finish the coroutine on a private loop in a helper thread.
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["value"] = asyncio.run(_as_coroutine(awaitable))
        except BaseException as exc:  # re-raised in the calling thread
            box["error"] = exc

    thread = threading.Thread(target=runner, name="bulk-signals-async-receiver")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable

