"""bulk-signals-django against vanilla Django, django-bulk-hooks and django-bulk-triggers, in one run.

Run it with ``.venv/bin/hatch run bench:django`` (``--repeats N``, ``--quick`` for a smoke run,
``--backends sqlite`` to skip PostgreSQL). For each backend (a SQLite file with ``synchronous=OFF``;
PostgreSQL when ``DATABASE_URL`` is set or 127.0.0.1:5432 answers, in its own database
``bulk_bench_django``) a child process configures Django, creates one table per flavour and times every
write path: the median wall time of ``--repeats`` runs (each on freshly inserted rows, gc off while
timed) and the peak memory of one more run under ``tracemalloc``, as ratios to vanilla Django on a
plain model with the same columns.

Flavours: ``vanilla`` (plain model), ``ours`` (``BulkSignalModelMixin``, one no-op before and one no-op
after receiver per operation), ``ours, no receivers`` (the mixin, nothing connected), ``BH``
(django-bulk-hooks, no-op before/after hooks), ``BT`` (django-bulk-triggers, same) and, for update and
delete, the floor: vanilla plus loading the affected rows once (``list(qs)``, then the vanilla write).
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlparse

PG_DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test"
PG_BENCH_DB = "bulk_bench_django"
PATHS = [
    "bulk_create",
    "upsert (half existing)",
    "bulk_update(fields)",
    "bulk_update() auto",
    "QuerySet.update(const)",
    "QuerySet.update(F)",
    "QuerySet.delete()",
    "bulk_delete(objs)",
    "save() loop",
    "create() loop",
]
FLOOR_PATHS = {"QuerySet.update(const)", "QuerySet.update(F)", "QuerySet.delete()", "bulk_delete(objs)"}
# One call per row: the per-call ratio does not depend on N, so these loop over LOOP_ROWS rows, once.
LOOP_PATHS = {"save() loop", "create() loop"}
LOOP_ROWS = 200
# The larger size runs the main paths only (the whole run stays near 5 minutes on 2 busy cores).
LARGE_PATHS = {"bulk_create", "QuerySet.update(const)", "QuerySet.update(F)", "QuerySet.delete()"}
FLAVOURS = ["vanilla", "ours", "quiet", "BH", "BT"]
# Goals (ratios to vanilla, or to the floor for QuerySet.update/delete).
CREATE_UPDATE_GOAL = (1.10, 1.20)  # time, memory
FLOOR_GOAL = 1.2
PEER_FACTOR = 2.0
QUIET_GOAL = 1.02


# -- parent: versions, backends, children ---------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _pg_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return PG_DEFAULT_URL
    except OSError:
        return None


def _pg_settings(url: str) -> dict[str, Any]:
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": PG_BENCH_DB,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "ADMIN_DB": parts.path.lstrip("/") or "postgres",
    }


def _ensure_pg_database(db: dict[str, Any]) -> str:
    """Create our own database (once) through the one in DATABASE_URL; return the server version."""
    import psycopg

    conninfo = {"dbname": db["ADMIN_DB"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    if db["PASSWORD"]:
        conninfo["password"] = db["PASSWORD"]
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return str(version)


def parent(args: argparse.Namespace) -> int:
    import sqlite3

    import django

    print("# bulk-signals-django write-path benchmark\n")
    script = os.path.relpath(__file__)
    print(
        f"command: `.venv/bin/hatch run bench:django{''.join(' ' + a for a in sys.argv[1:])}` "
        f"(= `python {script}{''.join(' ' + a for a in sys.argv[1:])}` in the bench env)  "
    )
    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"bulk-signals-django {_version('bulk-signals-django')}, django-bulk-hooks {_version('django-bulk-hooks')}, "
        f"django-bulk-triggers {_version('django-bulk-triggers')}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()} {os.cpu_count()} cores  "
    )
    print(
        f"median of {args.repeats} timed runs + 1 tracemalloc run per cell; sizes {args.sizes} "
        f"(larger sizes: {', '.join(sorted(LARGE_PATHS))} only; save()/create(): a loop over {LOOP_ROWS} rows); "
        "receivers/hooks are no-ops, "
        "one before + one after per operation\n"
    )
    backends = args.backends.split(",")
    failed = 0
    for backend in backends:
        env = dict(os.environ)
        if backend == "postgres":
            url = _pg_url()
            if url is None:
                print("## PostgreSQL: skipped (no DATABASE_URL and nothing answers on 127.0.0.1:5432)\n")
                continue
            try:
                version = _ensure_pg_database(_pg_settings(url))
            except Exception as exc:
                print(f"## PostgreSQL: skipped ({type(exc).__name__}: {exc})\n")
                continue
            env["BENCH_DATABASE_URL"] = url
            print(f"## PostgreSQL {version} (database `{PG_BENCH_DB}`)\n", flush=True)
        else:
            print("## SQLite (file on tmpfs, synchronous=OFF)\n", flush=True)
        child = [sys.executable, __file__, "--child", backend, "--repeats", str(args.repeats),
                 "--sizes", ",".join(map(str, args.sizes))]  # fmt: skip
        failed |= subprocess.call(child, env=env)
    return failed


# -- child: Django, models, receivers --------------------------------------------------------------


def setup_django(backend: str) -> None:
    import django
    from django.conf import settings

    if backend == "postgres":
        db = _pg_settings(os.environ["BENCH_DATABASE_URL"])
        db.pop("ADMIN_DB")
    else:
        # tmpfs when there is one: the disk is shared with other jobs, and its latency is noise here.
        root = "/dev/shm" if os.path.isdir("/dev/shm") else None
        path = os.path.join(tempfile.mkdtemp(prefix="bulk-bench-", dir=root), "bench.sqlite3")
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        INSTALLED_APPS=["django.contrib.contenttypes", "bulk_signals_django"],
        DATABASES={"default": db},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
    if backend == "sqlite":
        from django.db.backends.signals import connection_created

        def fast_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")

        connection_created.connect(fast_sqlite)


def define_models() -> dict[str, type]:
    """One table per flavour, identical columns (``sku`` unique, for the upsert)."""
    from bulk_signals_django import BulkSignalModelMixin
    from django.db import models
    from django_bulk_hooks.models import HookModelMixin
    from django_bulk_triggers.models import TriggerModelMixin

    def columns() -> dict[str, Any]:
        return {
            "sku": models.CharField(max_length=40, unique=True),
            "name": models.CharField(max_length=100),
            "balance": models.DecimalField(max_digits=12, decimal_places=2, default=0),
            "status": models.CharField(max_length=20, default="open"),
            "note": models.TextField(default=""),
            "counter": models.IntegerField(default=0),
        }

    def make(name: str, base: type) -> type:
        meta = type("Meta", (), {"app_label": "bench"})
        return type(name, (base,), {"__module__": __name__, "Meta": meta, **columns()})

    return {
        "vanilla": make("PlainRow", models.Model),
        "ours": make("OursRow", BulkSignalModelMixin),
        "quiet": make("QuietRow", BulkSignalModelMixin),
        "BH": make("HooksRow", HookModelMixin),
        "BT": make("TriggersRow", TriggerModelMixin),
    }


def connect_receivers(tables: dict[str, type]) -> None:
    """One no-op before and one no-op after receiver per operation, for ours, BH and BT."""
    from bulk_signals_django import decorators as d
    from django_bulk_hooks import Hook
    from django_bulk_hooks import decorators as bh
    from django_bulk_triggers import TriggerClass
    from django_bulk_triggers.decorators import trigger

    def noop(sender: Any, event: Any) -> None:
        return None

    ours = tables["ours"]
    for decorator in (d.before_create, d.after_create, d.before_update, d.after_update, d.before_delete,
                      d.after_delete):  # fmt: skip
        decorator(ours)(noop)

    hooked = tables["BH"]

    class BenchHooks(Hook):
        @bh.before_create(hooked)
        def before_create(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @bh.after_create(hooked)
        def after_create(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @bh.before_update(hooked)
        def before_update(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @bh.after_update(hooked)
        def after_update(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @bh.before_delete(hooked)
        def before_delete(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @bh.after_delete(hooked)
        def after_delete(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

    triggered = tables["BT"]

    class BenchTriggers(TriggerClass):
        @trigger("before_create", model=triggered)
        def before_create(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @trigger("after_create", model=triggered)
        def after_create(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @trigger("before_update", model=triggered)
        def before_update(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @trigger("after_update", model=triggered)
        def after_update(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @trigger("before_delete", model=triggered)
        def before_delete(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None

        @trigger("after_delete", model=triggered)
        def after_delete(self, new_records: Any, old_records: Any = None, **kwargs: Any) -> None:
            return None


def create_tables(tables: dict[str, type]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for model in tables.values():
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(model._meta.db_table)}")
    with connection.schema_editor() as editor:
        for model in tables.values():
            editor.create_model(model)


# -- the write paths: (prepare, run) per path and flavour --------------------------------------------


def fill(model: type, n: int) -> None:
    """``n`` rows (sku s0..), inserted with Django's plain manager: no signals, no hooks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    model._base_manager.bulk_create(
        [model(sku=f"s{i}", name=f"row {i}", balance=Decimal(i), note="x" * 20) for i in range(n)], batch_size=5000
    )


def ensure_rows(model: type, n: int) -> None:
    """Refill only when a previous run changed the row count (updates keep it: one COUNT instead)."""
    if model._base_manager.count() != n:
        fill(model, n)


def fresh(model: type, start: int, stop: int) -> list[Any]:
    return [model(sku=f"s{i}", name=f"row {i}", balance=Decimal(i), note="x" * 20) for i in range(start, stop)]


def changed(model: type, n: int) -> list[Any]:
    ensure_rows(model, n)
    objs = list(model._base_manager.order_by("pk"))
    for obj in objs:  # two fields really change on every run (rows are reused between runs)
        obj.balance += 1
        obj.status = "open" if obj.status == "closed" else "closed"
    return objs


def build_case(path: str, flavour: str, model: type, n: int) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    """``(prepare, run)``: ``prepare()`` resets the table and returns the argument of ``run`` (untimed)."""
    from django.db.models import F

    floor = flavour == "floor"
    if path == "bulk_create":
        return (lambda: (fill(model, 0), fresh(model, 0, n))[1]), (lambda objs: model.objects.bulk_create(objs))
    if path == "upsert (half existing)":

        def run_upsert(objs: list[Any]) -> Any:
            return model.objects.bulk_create(
                objs, update_conflicts=True, unique_fields=["sku"], update_fields=["name", "balance"]
            )

        return (lambda: (fill(model, n // 2), fresh(model, 0, n))[1]), run_upsert
    if path == "bulk_update(fields)":
        return (lambda: changed(model, n)), (lambda objs: model.objects.bulk_update(objs, ["balance", "status"]))
    if path == "bulk_update() auto":
        if flavour == "vanilla":  # Django has no auto-detection: the caller names the changed fields
            return build_case("bulk_update(fields)", flavour, model, n)
        return (lambda: changed(model, n)), (lambda objs: model.objects.bulk_update(objs))
    if path in ("QuerySet.update(const)", "QuerySet.update(F)"):
        kwargs = {"status": "closed"} if path.endswith("(const)") else {"counter": F("counter") + 1}

        def run_update(_: Any) -> Any:
            qs = model.objects.filter(counter__gte=0)
            if floor:
                list(qs)
            return qs.update(**kwargs)

        return (lambda: ensure_rows(model, n)), run_update
    if path == "QuerySet.delete()":

        def run_delete(_: Any) -> Any:
            qs = model.objects.filter(counter__gte=0)
            if floor:
                list(qs)
            return qs.delete()

        return (lambda: fill(model, n)), run_delete
    if path == "bulk_delete(objs)":

        def run_bulk_delete(objs: list[Any]) -> Any:
            if flavour in ("vanilla", "floor"):
                qs = model.objects.filter(pk__in=[obj.pk for obj in objs])
                if floor:
                    list(qs)
                return qs.delete()
            return model.objects.bulk_delete(objs)

        return (lambda: (fill(model, n), list(model._base_manager.all()))[1]), run_bulk_delete
    if path == "save() loop":

        def run_save(objs: list[Any]) -> None:
            for obj in objs:
                obj.save()

        return (lambda: changed(model, n)), run_save
    if path == "create() loop":

        def run_create(_: Any) -> None:
            manager = model.objects
            for i in range(n):
                manager.create(sku=f"s{i}", name=f"row {i}", balance=Decimal(i), note="x" * 20)

        return (lambda: fill(model, 0)), run_create
    raise ValueError(path)


def measure(cases: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]], repeats: int) -> dict[str, Any]:
    """flavour -> (median seconds, peak bytes) or ``"ERR <exception class>"``.

    Round-robin over the flavours, so drift (page cache, CPU clock) hits them alike; the memory run
    comes last, on its own (``tracemalloc`` slows everything down).
    """
    times: dict[str, list[float]] = {flavour: [] for flavour in cases}
    failed: dict[str, str] = {}

    def once(flavour: str, traced: bool) -> float | int:
        prepare, run = cases[flavour]
        arg = prepare()
        gc.collect()
        if traced:
            tracemalloc.start()
            try:
                run(arg)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        gc.disable()
        try:
            start = time.perf_counter()
            run(arg)
            return time.perf_counter() - start
        finally:
            gc.enable()

    peaks: dict[str, int] = {}
    for traced in [False] * repeats + [True]:
        for flavour in cases:
            if flavour in failed:
                continue
            try:
                value = once(flavour, traced)
            except Exception as exc:  # a peer crashing on a path is a result, not a reason to stop
                failed[flavour] = f"ERR {type(exc).__name__}"
                continue
            if traced:
                peaks[flavour] = int(value)
            else:
                times[flavour].append(value)
    return {f: failed[f] if f in failed else (statistics.median(times[f]), peaks[f]) for f in cases}


# -- report ----------------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    setup_django(args.child)
    tables = define_models()
    connect_receivers(tables)
    create_tables(tables)
    tables["floor"] = tables["vanilla"]
    goals: list[tuple[str, str, str, bool]] = []
    for n in args.sizes:
        results: dict[tuple[str, str], tuple[float, int] | str] = {}
        paths = [p for p in PATHS if p in LARGE_PATHS or n == min(args.sizes)]
        for path in paths:
            flavours = FLAVOURS + (["floor"] if path in FLOOR_PATHS else [])
            rows = min(n, LOOP_ROWS) if path in LOOP_PATHS else n
            cases = {f: build_case(path, f, tables[f], rows) for f in flavours}
            started = time.perf_counter()
            for flavour, result in measure(cases, args.repeats).items():
                results[(path, flavour)] = result
            print(f"  {args.child} {n} {path}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        print_table(n, paths, results)
        goals += collect_goals(n, paths, results)
    print_goals(goals)
    return 0


def ratios(results: dict[tuple[str, str], Any], path: str, flavour: str, base: str = "vanilla") -> str:
    mine, ref = results.get((path, flavour)), results.get((path, base))
    if isinstance(mine, str):
        return mine
    if mine is None or isinstance(ref, str) or ref is None:
        return ""
    return f"{mine[0] / ref[0]:.2f} / {mine[1] / max(ref[1], 1):.2f}"


def print_table(n: int, paths: list[str], results: dict[tuple[str, str], Any]) -> None:
    print(f"### {n} rows: time / peak-memory ratio to vanilla (ERR = the call raised)\n")
    print("| path | vanilla ms | vanilla KiB | ours | ours, no receivers | floor | ours / floor | "
          "django-bulk-hooks | django-bulk-triggers |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in paths:
        vanilla = results[(path, "vanilla")]
        v_ms, v_kib = ("ERR", "ERR") if isinstance(vanilla, str) else (f"{vanilla[0] * 1e3:.2f}", f"{vanilla[1] >> 10}")
        floor = ratios(results, path, "floor") if path in FLOOR_PATHS else "—"
        vs_floor = ratios(results, path, "ours", "floor") if path in FLOOR_PATHS else "—"
        cells = [path, v_ms, v_kib, ratios(results, path, "ours"), ratios(results, path, "quiet"), floor, vs_floor,
                 ratios(results, path, "BH"), ratios(results, path, "BT")]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    print(flush=True)


def _ratio(results: dict[tuple[str, str], Any], path: str, flavour: str, base: str, index: int) -> float | None:
    mine, ref = results.get((path, flavour)), results.get((path, base))
    if mine is None or ref is None or isinstance(mine, str) or isinstance(ref, str):
        return None
    return mine[index] / max(ref[index], 1e-12)


def collect_goals(n: int, paths: list[str], results: dict[tuple[str, str], Any]) -> list[tuple[str, str, str, bool]]:
    """(goal, measured, size, passed) rows."""
    rows: list[tuple[str, str, str, bool]] = []
    for path in ("bulk_create", "bulk_update(fields)", "bulk_update() auto"):
        t, m = _ratio(results, path, "ours", "vanilla", 0), _ratio(results, path, "ours", "vanilla", 1)
        if t is not None and m is not None:
            goal = f"{path}: ours <= {CREATE_UPDATE_GOAL[0]}x time, <= {CREATE_UPDATE_GOAL[1]}x memory"
            ok = t <= CREATE_UPDATE_GOAL[0] and m <= CREATE_UPDATE_GOAL[1]
            rows.append((goal, f"{t:.2f} / {m:.2f}", str(n), ok))
    for path in ("QuerySet.update(const)", "QuerySet.update(F)", "QuerySet.delete()"):
        t, m = _ratio(results, path, "ours", "floor", 0), _ratio(results, path, "ours", "floor", 1)
        if t is not None and m is not None:
            rows.append((f"{path}: ours <= {FLOOR_GOAL}x the floor (time / memory)", f"{t:.2f} / {m:.2f}", str(n),
                         t <= FLOOR_GOAL and m <= FLOOR_GOAL))  # fmt: skip
        for index, what in ((0, "time"), (1, "memory")):
            ours = _ratio(results, path, "ours", "vanilla", index)
            peers = {p: _ratio(results, path, p, "vanilla", index) for p in ("BH", "BT")}
            if ours is None:
                continue
            # A peer that raised has no number to beat: counted as beaten.
            ok = all(v is None or ours * PEER_FACTOR <= v for v in peers.values())
            shown = ", ".join(f"{p} {v:.2f}" if v is not None else f"{p} ERR" for p, v in peers.items())
            rows.append((f"{path}: ours >= {PEER_FACTOR:.0f}x better than both peers ({what})",
                         f"ours {ours:.2f}; {shown}", str(n), ok))  # fmt: skip
    for path in paths:
        t = _ratio(results, path, "quiet", "vanilla", 0)
        if t is not None:
            rows.append((f"{path}: no receivers <= {QUIET_GOAL}x time", f"{t:.2f}", str(n), t <= QUIET_GOAL))
    return rows


def print_goals(rows: list[tuple[str, str, str, bool]]) -> None:
    print("### Goals\n")
    print("| goal | rows | measured (ratio) | result |")
    print("|---|---:|---|---|")
    for goal, measured, n, ok in rows:
        print(f"| {goal} | {n} | {measured} | {'pass' if ok else '**miss**'} |")
    passed = sum(ok for *_, ok in rows)
    print(f"\n{passed} of {len(rows)} goals met.\n", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per cell (median); default 5")
    parser.add_argument("--sizes", default="1000,10000", help="row counts, comma-separated; default 1000,10000")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres (default both)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 repeats, 200 rows")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.sizes = 3, "200"
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        return child(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
