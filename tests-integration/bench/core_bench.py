"""bulk_signals_core against django.dispatch, blinker and psygnal, in one run.

Run it with ``.venv/bin/hatch run bench:core`` (``--rounds N`` for more repeats, ``--quick`` for a
smoke run). Prints a Markdown table of nanoseconds per operation (median over round-robin rounds
of ``timeit``, the cost of timeit's empty loop subtracted), our ratio to each peer, the targets,
a memory-leak check (100,000 connect/disconnect cycles under ``tracemalloc``), background
emission throughput (``BackgroundEmitter`` with 4 workers against one
``ThreadPoolExecutor.submit`` per receiver), and CPU instructions per operation counted by
valgrind (cachegrind), which a busy machine does not disturb.

``make bench`` runs it twice, under the pure build (hatch env ``bench``) and the mypyc-compiled
one (``bench-compiled``), each writing ``--json``, then ``--compare pure.json compiled.json``
prints them side by side.

Each library is called its own idiomatic way: ours ``send(sender, payload)`` into
``(sender, payload)`` receivers; Django and blinker ``send(sender, x=1)`` into ``(sender, **kw)``
receivers; psygnal ``emit(1)`` / ``emit_fast(1)`` into ``(x)`` receivers (psygnal has no senders).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import timeit
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

import blinker
import bulk_signals_core
import django
import psygnal
from bulk_signals_core import BackgroundEmitter, Signal, WhenFull
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
    # The namespace keeps the other senders alive: weakly referenced by ours and blinker, they
    # would otherwise die with this function and take their receivers with them (a 0-receiver send).
    out[(case, LIBS[0])] = ("sig.send(S, 1)", {"sig": ours(10, True), "S": sender, "others": others})
    out[(case, LIBS[1])] = ("sig.send(S, x=1)", {"sig": dj(10, True), "S": sender, "others": others})
    out[(case, LIBS[2])] = ("sig.send(S, x=1)", {"sig": bl(10, True), "S": sender, "others": others})
    assert len(out[(CASES[3], LIBS[0])][1]["sig"]) == 10
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
    parser.add_argument("--json", metavar="PATH", help="also write the results there (for --compare)")
    parser.add_argument("--no-instructions", action="store_true", help="skip the valgrind instruction counts")
    parser.add_argument("--peers-instructions", action="store_true", help="count the peers' instructions too")
    parser.add_argument(
        "--compare", nargs=2, metavar=("PURE", "COMPILED"), help="print two --json results side by side"
    )
    parser.add_argument("--count-one", nargs=3, metavar=("CASE", "LIB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_one:
        return count_one(*args.count_one)
    if args.compare:
        return compare(*args.compare)
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
    print()
    background = measure_background(20_000 if not args.quick else 2_000, 3 if not args.quick else 1)
    print_background(background)
    counts: dict[str, dict[str, float]] = {}
    if not args.no_instructions:
        counts = count_instructions(LIBS if args.peers_instructions else LIBS[:1], 2_000 if args.quick else 10_000)
        print()
        print_instructions(counts)
    if args.json:
        result = {
            "compiled": bulk_signals_core.compiled,
            "rounds": args.rounds,
            "overhead": overhead,
            "medians": {f"{case}|{lib}": value for (case, lib), value in medians.items()},
            "background": background,
            "instructions": counts,
            "leaks": leaks,
        }
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    return 0


# -- background emission ------------------------------------------------------------------------


def measure_background(n: int, rounds: int) -> dict[str, Any]:
    """Emissions per second delivered by a 4-worker BackgroundEmitter (BLOCK policy, queue of
    1,024) and by one ThreadPoolExecutor(4).submit per receiver, 1 and 3 receivers; median of rounds."""
    result: dict[str, Any] = {}
    for receivers in (1, 3):
        ours: list[float] = []
        executor: list[float] = []
        lost = 0
        for _ in range(rounds):
            signal: Signal[int] = Signal("bench")
            done = [0]
            lock = threading.Lock()
            functions = _make_receivers(receivers, "payload")

            def counter(sender: Any, payload: Any, lock: threading.Lock = lock, done: list[int] = done) -> None:
                with lock:
                    done[0] += 1

            for fn in functions[:-1]:
                signal.connect(fn, weak=False)
            signal.connect(counter, weak=False)
            with BackgroundEmitter(signal, workers=4, maxsize=1024, when_full=WhenFull.BLOCK) as emitter:
                start = time.perf_counter()
                for i in range(n):
                    emitter.emit(None, i)
                emitter.join()
                ours.append(n / (time.perf_counter() - start))
            stats = emitter.stats
            lost += n - stats.delivered + (n - done[0])
            calls = [*functions[:-1], counter]
            with ThreadPoolExecutor(4) as pool:
                start = time.perf_counter()
                futures = [pool.submit(fn, None, i) for i in range(n) for fn in calls]
                wait_futures(futures)
                executor.append(n / (time.perf_counter() - start))
        result[str(receivers)] = {
            "ours": statistics.median(ours),
            "executor": statistics.median(executor),
            "lost": lost,
            "emissions": n * rounds,
        }
    result["drops"] = _exact_drops()
    return result


def _exact_drops() -> dict[str, Any]:
    """DROP_OLDEST and RAISE against a blocked worker: the counts must be exact."""
    out: dict[str, Any] = {}
    for policy in (WhenFull.DROP_OLDEST, WhenFull.RAISE):
        signal: Signal[int] = Signal("drops")
        release = threading.Event()
        started = threading.Event()

        def slow(
            sender: Any, payload: Any, release: threading.Event = release, started: threading.Event = started
        ) -> None:
            started.set()
            release.wait(30)

        signal.connect(slow, weak=False)
        emitter = BackgroundEmitter(signal, workers=1, maxsize=100, when_full=policy).start()
        emitter.emit(None, 0)
        started.wait(10)
        refused = 0
        for i in range(1000):
            try:
                emitter.emit(None, i)
            except Exception:
                refused += 1
        release.set()
        emitter.stop()
        stats = emitter.stats
        expected = 900  # 1,000 emitted into a queue of 100 behind a busy worker
        counted = stats.dropped if policy is WhenFull.DROP_OLDEST else stats.rejected
        out[policy.name] = {"expected": expected, "counted": counted, "exact": counted == expected}
    return out


def print_background(background: dict[str, Any]) -> None:
    print("background emission, emissions/s delivered (median), BackgroundEmitter(workers=4, maxsize=1024, BLOCK)")
    print("vs one ThreadPoolExecutor(4).submit per receiver:")
    print()
    print("| receivers | BackgroundEmitter | executor.submit per receiver | ratio (target >= 3x) | lost |")
    print("|---|---|---|---|---|")
    for receivers in ("1", "3"):
        row = background[receivers]
        ratio = row["ours"] / row["executor"]
        print(
            f"| {receivers} | {row['ours']:,.0f}/s | {row['executor']:,.0f}/s | {ratio:.1f}x "
            f"{'met' if ratio >= 3 else 'MISSED'} | {row['lost']} of {row['emissions']:,} |"
        )
    drops = ", ".join(
        f"{name}: {d['counted']} counted, {d['expected']} expected ({'exact' if d['exact'] else 'WRONG'})"
        for name, d in background["drops"].items()
    )
    print()
    print(f"full-queue counts (1,000 emits into a queue of 100 behind a blocked worker): {drops}")


# -- instruction counts -----------------------------------------------------------------------------

COUNTED = CASES[:5]


def count_one(case: str, lib: str, n: str) -> int:
    """Run one case's statement ``n`` times (under valgrind, from count_instructions)."""
    if not settings.configured:
        settings.configure(DEBUG=False)
    if lib == "loop":
        stmt, namespace = "pass", {}
    else:
        stmt, namespace = build_sync_cases()[(case, lib)]
    code = compile(f"def run(n):\n    for _ in range(n):\n        {stmt}\n", "<bench>", "exec")
    exec(code, namespace)
    namespace["run"](int(n))
    return 0


def _instructions(case: str, lib: str, n: int) -> int:
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, __file__, "--count-one", case, lib, str(n),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stderr
    for line in out.splitlines():
        if "I" in line and "refs:" in line:
            return int(line.split("refs:")[1].replace(",", "").strip())
    raise RuntimeError(f"no instruction count in valgrind's output:\n{out}")


def count_instructions(libs: list[str], n: int) -> dict[str, dict[str, float]]:
    """Instructions per operation: (count at 2n - count at n) / n, minus the same for an empty loop."""
    if shutil.which("valgrind") is None:
        print("instruction counts skipped: valgrind is not installed (apt-get install valgrind)")
        return {}
    cases = build_sync_cases()

    def per_op(case: str, lib: str) -> float:
        return (_instructions(case, lib, 2 * n) - _instructions(case, lib, n)) / n

    loop = per_op("", "loop")
    counts: dict[str, dict[str, float]] = {}
    for case in COUNTED:
        for lib in libs:
            if (case, lib) in cases:
                counts.setdefault(case, {})[lib] = per_op(case, lib) - loop
    return counts


def print_instructions(counts: dict[str, dict[str, float]]) -> None:
    if not counts:
        return
    libs = [lib for lib in LIBS if any(lib in row for row in counts.values())]
    print("CPU instructions per operation (valgrind cachegrind; the empty loop's subtracted):")
    print()
    print("| operation | " + " | ".join(libs) + " |")
    print("|---|" + "---|" * len(libs))
    for case, row in counts.items():
        print(f"| {case} | " + " | ".join(f"{row[lib]:,.0f}" if lib in row else "n/a" for lib in libs) + " |")


# -- pure and compiled side by side -----------------------------------------------------------------


def compare(pure_path: str, compiled_path: str) -> int:
    with open(pure_path) as f:
        pure = json.load(f)
    with open(compiled_path) as f:
        comp = json.load(f)
    ours = LIBS[0]

    def t(result: dict[str, Any], case: str, lib: str) -> float | None:
        value = result["medians"].get(f"{case}|{lib}")
        return None if value is None else float(value)

    def ratio(a: float | None, b: float | None) -> str:
        return "n/a" if a is None or b is None else f"{a / b:.2f}x"

    print("## bulk_signals_core, pure and mypyc-compiled, side by side (ns per operation, median)")
    print()
    print("Peers from the compiled run (the two runs' peer timings differ only by noise).")
    print()
    heads = ["pure", "compiled", "django.dispatch", "blinker", "psygnal emit", "psygnal emit_fast",
             "compiled / emit_fast", "compiled / django", "pure / django"]  # fmt: skip
    print("| operation | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))
    for case in CASES:
        p, c = t(pure, case, ours), t(comp, case, ours)
        peers = [t(comp, case, lib) for lib in LIBS[1:]]
        cells = [fmt_ns(p), f"**{fmt_ns(c)}**", *(fmt_ns(v) for v in peers)]
        cells += [ratio(c, peers[3]), ratio(c, peers[0]), ratio(p, t(pure, case, LIBS[1]))]
        print(f"| {case} | " + " | ".join(cells) + " |")
    print()
    goals = []
    c0 = t(comp, CASES[0], ours)
    goals.append(
        f"compiled send, 0 receivers < 50 ns: {fmt_ns(c0)} ns, {'met' if c0 is not None and c0 < 50 else 'MISSED'}"
    )
    for case in CASES[:3]:
        c, e = t(comp, case, ours), t(comp, case, LIBS[4])
        ok = c is not None and e is not None and c <= e
        goals.append(f"compiled <= psygnal emit_fast, {case}: {ratio(c, e)}, {'met' if ok else 'MISSED'}")
    c, d = t(comp, CASES[4], ours), t(comp, CASES[4], LIBS[1])
    ok = c is not None and d is not None and c <= 0.15 * d
    goals.append(f"compiled connect+disconnect <= 0.15x django.dispatch: {ratio(c, d)}, {'met' if ok else 'MISSED'}")
    print("goals (timings; see the instruction counts for a noise-free ratio):")
    for goal in goals:
        print(f"- {goal}")
    print()
    pi, ci = pure.get("instructions", {}), comp.get("instructions", {})
    if pi or ci:
        print("CPU instructions per operation (valgrind cachegrind, the empty loop's subtracted):")
        print()
        heads = ["pure", "compiled", "django.dispatch", "blinker", "psygnal emit", "psygnal emit_fast",
                 "compiled / emit_fast", "compiled / django"]  # fmt: skip
        print("| operation | " + " | ".join(heads) + " |")
        print("|---|" + "---|" * len(heads))
        for case in COUNTED:
            prow, crow = pi.get(case, {}), ci.get(case, {})
            peers = [prow.get(lib) for lib in LIBS[1:]]
            c = crow.get(ours)

            def n(v: float | None) -> str:
                return "n/a" if v is None else f"{v:,.0f}"

            cells = [n(prow.get(ours)), f"**{n(c)}**", *(n(v) for v in peers), ratio(c, peers[3]), ratio(c, peers[0])]
            print(f"| {case} | " + " | ".join(cells) + " |")
        print()
    print("background emission, emissions/s (4 workers) vs one executor.submit per receiver:")
    print()
    print("| receivers | pure | compiled | executor.submit (compiled run) | compiled / executor | lost |")
    print("|---|---|---|---|---|---|")
    for receivers in ("1", "3"):
        p, c = pure["background"][receivers], comp["background"][receivers]
        print(
            f"| {receivers} | {p['ours']:,.0f}/s | {c['ours']:,.0f}/s | {c['executor']:,.0f}/s | "
            f"{c['ours'] / c['executor']:.1f}x | {p['lost'] + c['lost']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
