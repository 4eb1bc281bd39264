"""bulk_signals_core against django.dispatch, blinker and psygnal, in one run.

Run it with ``.venv/bin/hatch run bench:core`` (``--rounds N`` for more repeats, ``--quick`` for a
smoke run). Prints a Markdown table of nanoseconds per operation (median over round-robin rounds
of ``timeit``, the cost of timeit's empty loop subtracted), our ratio to each peer, the targets,
and a memory-leak check (100,000 connect/disconnect cycles under ``tracemalloc``).

Each library is called its own idiomatic way: ours ``send(sender, payload)`` into
``(sender, payload)`` receivers; Django and blinker ``send(sender, x=1)`` into ``(sender, **kw)``
receivers; psygnal ``emit(1)`` / ``emit_fast(1)`` into ``(x)`` receivers (psygnal has no senders).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import platform
import statistics
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from typing import Any

import blinker
import bulk_signals_core
import django
import psygnal
from bulk_signals_core import Signal
from django.conf import settings
from django.dispatch import Signal as DjangoSignal

CASES = ["send, 0 receivers", "send, 1 receiver", "send, 10 receivers", "send, 10 for other senders",
         "connect + disconnect", "send_async, 1 async receiver"]  # fmt: skip
LIBS = ["bulk_signals_core", "django.dispatch", "blinker", "psygnal emit", "psygnal emit_fast"]
# Ours divided by django.dispatch must stay at or under these.
TARGETS = {
    "send, 0 receivers": 0.6,
    "send, 1 receiver": 0.3,
    "send, 10 receivers": 0.5,
    "send, 10 for other senders": 0.2,
    "connect + disconnect": 0.2,
    "send_async, 1 async receiver": 0.1,
}


class Sender:
    """A model-class-like sender."""


def _make_receivers(n: int, style: str) -> list[Callable[..., Any]]:
    """``n`` distinct functions (distinct objects, as real receivers are)."""
    made: list[Callable[..., Any]] = []
    for _ in range(n):
        if style == "payload":

            def receiver(sender: Any, payload: Any) -> None:
                return None

        elif style == "kwargs":

            def receiver(sender: Any, **kwargs: Any) -> None:  # type: ignore[misc]
                return None

        else:

            def receiver(x: Any) -> None:  # type: ignore[misc]
                return None

        made.append(receiver)
    return made


def build_sync_cases() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(case, lib) -> (statement, namespace) for timeit. Receivers are kept alive by the namespace."""
    sender = Sender()
    others = [Sender() for _ in range(10)]
    out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    def ours(n: int, filtered: bool = False) -> Signal[int]:
        sig: Signal[int] = Signal("bench")
        for i, fn in enumerate(_make_receivers(n, "payload")):
            sig.connect(fn, sender=others[i] if filtered else bulk_signals_core.ANY, weak=False)
        return sig

    def dj(n: int, filtered: bool = False) -> DjangoSignal:
        sig = DjangoSignal()
        for i, fn in enumerate(_make_receivers(n, "kwargs")):
            sig.connect(fn, sender=others[i] if filtered else None, weak=False)
        return sig

    def bl(n: int, filtered: bool = False) -> blinker.Signal:
        sig = blinker.Signal()
        for i, fn in enumerate(_make_receivers(n, "kwargs")):
            sig.connect(fn, sender=others[i] if filtered else blinker.ANY, weak=False)
        return sig

    def ps(n: int) -> Any:
        class Emitter:
            sig = psygnal.Signal(int)

        inst = Emitter().sig
        for fn in _make_receivers(n, "x"):
            inst.connect(fn)
        return inst

    for n, case in ((0, CASES[0]), (1, CASES[1]), (10, CASES[2])):
        out[(case, LIBS[0])] = ("sig.send(S, 1)", {"sig": ours(n), "S": sender})
        out[(case, LIBS[1])] = ("sig.send(S, x=1)", {"sig": dj(n), "S": sender})
        out[(case, LIBS[2])] = ("sig.send(S, x=1)", {"sig": bl(n), "S": sender})
        out[(case, LIBS[3])] = ("sig.emit(1)", {"sig": ps(n)})
        out[(case, LIBS[4])] = ("sig.emit_fast(1)", {"sig": ps(n)})
    case = CASES[3]
    out[(case, LIBS[0])] = ("sig.send(S, 1)", {"sig": ours(10, True), "S": sender})
    out[(case, LIBS[1])] = ("sig.send(S, x=1)", {"sig": dj(10, True), "S": sender})
    out[(case, LIBS[2])] = ("sig.send(S, x=1)", {"sig": bl(10, True), "S": sender})
    case = CASES[4]  # default reference mode of each library (weak for ours, Django and blinker)
    for lib, style, sig in (
        (LIBS[0], "payload", Signal("bench")),
        (LIBS[1], "kwargs", DjangoSignal()),
        (LIBS[2], "kwargs", blinker.Signal()),
        (LIBS[3], "x", ps(0)),
    ):
        out[(case, lib)] = ("sig.connect(r); sig.disconnect(r)", {"sig": sig, "r": _make_receivers(1, style)[0]})
    return out


_numbers: dict[str, int] = {}


def time_statement(stmt: str, namespace: dict[str, Any], target_seconds: float) -> float:
    """Nanoseconds per execution of ``stmt``, timing enough iterations to last ``target_seconds``."""
    timer = timeit.Timer(stmt, globals=namespace)
    key = f"{id(namespace)}:{stmt}"
    number = _numbers.get(key)
    if number is None:  # calibrate once, then every round times the same number of iterations
        number = 10
        while (elapsed := timer.timeit(number)) < target_seconds / 10:
            number *= 10
        number = _numbers[key] = max(1, int(number * target_seconds / elapsed))
    return timer.timeit(number) / number * 1e9


def build_async_cases() -> dict[str, Callable[[int], Any]]:
    """lib -> coroutine function running ``n`` awaited sends with one async receiver."""
    sender = Sender()

    async def ours_receiver(sender: Any, payload: Any) -> None:
        return None

    async def kwargs_receiver(sender: Any, **kwargs: Any) -> None:
        return None

    # weak=False: the receivers are locals of this function and must outlive it.
    ours: Signal[int] = Signal("bench")
    ours.connect(ours_receiver, weak=False)
    dj = DjangoSignal()
    dj.connect(kwargs_receiver, weak=False)
    bl = blinker.Signal()
    bl.connect(kwargs_receiver, weak=False)
    assert len(ours) == 1 and dj.has_listeners() and bl.receivers

    async def run_ours(n: int) -> None:
        for _ in range(n):
            await ours.send_async(sender, 1)

    async def run_django(n: int) -> None:
        for _ in range(n):
            await dj.asend(sender, x=1)

    async def run_blinker(n: int) -> None:
        for _ in range(n):
            await bl.send_async(sender, x=1)

    return {LIBS[0]: run_ours, LIBS[1]: run_django, LIBS[2]: run_blinker}


def time_async(loop: asyncio.AbstractEventLoop, run: Callable[[int], Any], target_seconds: float) -> float:
    n = 100
    while True:
        start = time.perf_counter()
        loop.run_until_complete(run(n))
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds / 4 or n >= 10**7:
            break
        n *= 4
    n = max(1, int(n * target_seconds / elapsed))
    start = time.perf_counter()
    loop.run_until_complete(run(n))
    return (time.perf_counter() - start) / n * 1e9


def measure(rounds: int, seconds: float) -> tuple[dict[tuple[str, str], float], float]:
    sync_cases = build_sync_cases()
    async_cases = build_async_cases()
    loop = asyncio.new_event_loop()
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in sync_cases}
    samples.update({(CASES[5], lib): [] for lib in async_cases})
    overheads: list[float] = []
    for _ in range(rounds):  # round-robin, so drift on a noisy machine hits every library alike
        overheads.append(time_statement("pass", {}, seconds))
        for key, (stmt, namespace) in sync_cases.items():
            samples[key].append(time_statement(stmt, namespace, seconds))
        for lib, run in async_cases.items():
            samples[(CASES[5], lib)].append(time_async(loop, run, seconds))
    loop.close()
    overhead = statistics.median(overheads)
    medians = {}
    for key, values in samples.items():
        value = statistics.median(values)
        medians[key] = value if key[0] == CASES[5] else max(value - overhead, 0.1)
    return medians, overhead


def leak_check(cycles: int) -> dict[str, int]:
    """Bytes still allocated after ``cycles`` connect/disconnect pairs of one weakly held receiver."""
    result = {}

    def ours_receiver(sender: Any, payload: Any) -> None:
        return None

    def django_receiver(sender: Any, **kwargs: Any) -> None:
        return None

    for lib, sig, receiver in (
        (LIBS[0], Signal("leak"), ours_receiver),
        (LIBS[1], DjangoSignal(), django_receiver),
    ):
        sig.connect(receiver)
        sig.disconnect(receiver)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(cycles):
            sig.connect(receiver)
            sig.disconnect(receiver)
        gc.collect()
        result[lib] = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    return result


def fmt_ns(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value / 1000:.2f} µs" if value >= 10_000 else f"{value:.0f}"


def main() -> int:
    if not settings.configured:
        settings.configure(DEBUG=False)  # django.dispatch reads only settings.DEBUG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="round-robin rounds (median is reported)")
    parser.add_argument("--seconds", type=float, default=0.02, help="time per sample")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 5 ms (a smoke run)")
    parser.add_argument("--leak-cycles", type=int, default=100_000)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.leak_cycles = 3, 0.005, 10_000

    print(
        f"# bulk_signals_core {bulk_signals_core.__version__} vs django {django.__version__}, "
        f"blinker {importlib.metadata.version('blinker')}, "
        f"psygnal {psygnal.__version__} (compiled: {getattr(psygnal, '_compiled', '?')})"
    )
    print(f"# CPython {platform.python_version()} on {platform.machine()}; {args.rounds} rounds x {args.seconds}s")
    medians, overhead = measure(args.rounds, args.seconds)
    print(f"# ns per operation, median of {args.rounds} rounds; timeit loop cost ({overhead:.1f} ns) subtracted")
    print()
    print("| operation | " + " | ".join(LIBS) + " |")
    print("|---|" + "---|" * len(LIBS))
    for case in CASES:
        ours = medians[(case, LIBS[0])]
        cells = []
        for lib in LIBS:
            value = medians.get((case, lib))
            if value is None:
                cells.append("n/a")
            elif lib == LIBS[0]:
                cells.append(f"**{fmt_ns(value)}**")
            else:
                cells.append(f"{fmt_ns(value)} ({ours / value:.2f}x)")
        print(f"| {case} | " + " | ".join(cells) + " |")
    print()
    print("(Nx) = our time divided by that library's: below 1 means bulk_signals_core is faster.")
    print()
    print("| operation | ours / django | target | ours / blinker | ours / psygnal emit | ours / psygnal emit_fast |")
    print("|---|---|---|---|---|---|")
    missed = []
    for case in CASES:
        ours = medians[(case, LIBS[0])]

        def ratio(lib: str, ours: float = ours, case: str = case) -> str:
            value = medians.get((case, lib))
            return "n/a" if value is None else f"{ours / value:.2f}x"

        django_ratio = ours / medians[(case, LIBS[1])]
        ok = django_ratio <= TARGETS[case]
        if not ok:
            missed.append(case)
        target = f"<= {TARGETS[case]}x {'met' if ok else 'MISSED'}"
        print(f"| {case} | {django_ratio:.2f}x | {target} | {ratio(LIBS[2])} | {ratio(LIBS[3])} | {ratio(LIBS[4])} |")
    print()
    leaks = leak_check(args.leak_cycles)
    deltas = [f"{lib} {d / 1024:+,.1f} KiB ({d / args.leak_cycles:+.1f} B/cycle)" for lib, d in leaks.items()]
    print(
        f"memory after {args.leak_cycles:,} connect/disconnect cycles (tracemalloc, gc collected):", ", ".join(deltas)
    )
    if missed:
        print("targets missed: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
