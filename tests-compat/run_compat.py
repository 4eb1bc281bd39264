"""The compat gate: Django's own ORM test suites, vanilla and with every model a bulk-signals model.

For the installed Django: fetch its source distribution (``pip download --no-binary :all:``, cached in
``.cache/django-src/``), run the ORM apps with Django's ``runtests.py`` in three modes --

- ``vanilla``: Django as shipped;
- ``silent``: every model grafted with ``BulkSignalModelMixin`` and signalling managers, no receivers;
- ``listening``: the same with no-op receivers on every bulk signal of every model --

on SQLite and (when ``DATABASE_URL`` is set) PostgreSQL, then compare each mode with vanilla test by
test. A difference must be listed in ``tests-compat/expected-differences.txt``; any other difference,
or a listed one that no longer happens (stale), fails the run. See docs/compat.md.

Usage: ``hatch run compat.5.2:run [--backends sqlite,postgresql] [--modes silent,listening]
[--apps basic,update] [--parallel 2] [--candidates FILE] [--findings FILE]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()[:6]
# Django's ORM test apps (directories of Django's tests/) that the gate runs.
APPS = (
    "bulk_create",
    "update",
    "delete",
    "delete_regress",
    "update_only_fields",
    "get_or_create",
    "model_inheritance",
    "model_inheritance_regress",
    "basic",
    "queries",
    "expressions",
    "signals",
    "save_delete_hooks",
    "async",
    "custom_managers",
    "many_to_one",
    "one_to_one",
    "multiple_database",
    "transactions",
    "select_for_update",
    "force_insert_update",
)
MODES = ("vanilla", "silent", "listening", "async")
KINDS = ("defect", "budget", "extension", "harness")
PASSING = {"ok", "skip", "xfail"}


def django_tests_dir(version: str) -> Path:
    """``.cache/django-src/django-<version>/tests``, downloaded and unpacked on first use."""
    target = CACHE / "django-src" / f"django-{version}"
    tests = target / "tests"
    if (tests / "runtests.py").exists():
        return tests
    downloads = CACHE / "django-src" / "sdist"
    downloads.mkdir(parents=True, exist_ok=True)

    def sdist() -> list[Path]:
        return [p for p in downloads.glob("*.tar.gz") if p.name.lower() == f"django-{version}.tar.gz"]

    if not sdist():
        # Any pip can download: the compat env (made by uv) has none; make's .venv has one.
        bootstrap = ROOT / ".venv" / "bin" / "python"
        python = str(bootstrap) if bootstrap.exists() else (shutil.which("python3") or "python3")
        pip = os.environ.get("COMPAT_PIP") or f"{python} -m pip"
        cmd = [
            *pip.split(),
            "download",
            "--quiet",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--ignore-requires-python",  # make test-next: Django 6 on this machine's Python
            f"django=={version}",
            "-d",
            str(downloads),
        ]
        print("fetching Django's test suite:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        if not sdist():
            raise SystemExit(f"pip download did not produce django-{version}.tar.gz in {downloads}")
    archive = sdist()[0]
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tar:
        prefix = tar.getnames()[0].split("/")[0] + "/tests/"
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        for m in members:
            m.name = "tests/" + m.name[len(prefix) :]
        tar.extractall(tmp, members=members, filter="data")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return tests


def runnable(tests: Path, apps: list[str]) -> tuple[list[str], list[str]]:
    """The apps whose test files compile on this Python, and the others (Django 6's suite uses
    Python 3.12 syntax; ``make test-next`` runs it on 3.11)."""
    ok, skipped = [], []
    for app in apps:
        try:
            for path in sorted((tests / app).rglob("*.py")):
                compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            skipped.append(f"{app} ({Path(exc.filename or '').name}:{exc.lineno}: {exc.msg})")
        else:
            ok.append(app)
    return ok, skipped


def _app_of(test_id: str) -> str:
    """``basic`` for ``basic.tests.T.test_x`` and for ``setUpClass (basic.tests.T)``."""
    return test_id.split("(")[-1].split(".")[0]


@dataclass
class Run:
    mode: str
    backend: str
    outcomes: dict[str, dict[str, str]]
    seconds: float

    def counts(self) -> Counter[str]:
        return Counter(v["outcome"] for v in self.outcomes.values())


def run_mode(
    tests: Path, mode: str, backend: str, apps: list[str], parallel: int, out: Path, reuse: bool = False
) -> Run:
    out.mkdir(parents=True, exist_ok=True)
    results = out / f"{backend}-{mode}.json"
    log = out / f"{backend}-{mode}.log"
    if reuse and results.exists():  # only the apps asked for: the kept run may have had more
        kept = json.loads(results.read_text())
        return Run(mode, backend, {t: v for t, v in kept.items() if _app_of(t) in apps}, 0.0)
    results.unlink(missing_ok=True)
    major_minor = "".join(django.__version__.split(".")[:2])
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")])),
        COMPAT_MODE=mode,
        COMPAT_BACKEND=backend,
        COMPAT_RESULTS=str(results),
        # Per checkout, version and mode: two checkouts may run the gate at once on one server.
        COMPAT_DB_PREFIX=f"compat_{CHECKOUT}_{major_minor}_{mode}",
        PYTHONWARNINGS=os.environ.get("PYTHONWARNINGS", ""),
    )
    cmd = [sys.executable, "runtests.py", "--settings=compat_settings", "--noinput", f"--parallel={parallel}", *apps]
    start = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=tests, env=env, stdout=fh, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    text = log.read_text()
    if not results.exists():
        tail = "\n".join(text.splitlines()[-30:])
        raise SystemExit(f"runtests.py ({mode}, {backend}) exited {proc.returncode} without results:\n{tail}")
    if mode != "vanilla":  # the graft must have reached every model, or the comparison proves nothing
        graft = _GRAFT.search(text)
        if graft is None or int(graft[1]) == 0 or int(graft[2]) != 0:
            missed = "\n".join(line for line in text.splitlines() if "not signalling:" in line)
            raise SystemExit(f"the graft did not reach every model ({mode}, {backend}); see {log}\n{missed}")
    return Run(mode, backend, json.loads(results.read_text()), seconds)


@dataclass
class Expected:
    mode: str
    backend: str
    django: str
    test: str
    kind: str
    reason: str
    lineno: int
    hits: list[str] = field(default_factory=list)
    judged: bool = False

    def scope_matches(self, mode: str, backend: str) -> bool:
        version = django.__version__
        return (
            # async mode is listening plus async receivers: what listening explains, it explains too
            (self.mode in ("*", mode) or (self.mode == "listening" and mode == "async"))
            and self.backend in ("*", backend)
            and (self.django == "*" or version == self.django or version.startswith(self.django + "."))
        )

    def matches(self, mode: str, backend: str, test: str) -> bool:
        return self.scope_matches(mode, backend) and fnmatch.fnmatchcase(test, self.test)


def load_expected(path: Path) -> list[Expected]:
    lines = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split(None, 4)
        if len(parts) < 5 or ":" not in parts[4]:
            raise SystemExit(f"{path}:{n}: expected '<mode> <backend> <django> <test id> <kind>: <reason>'")
        mode, backend, version, test, rest = parts
        kind, reason = (x.strip() for x in rest.split(":", 1))
        if mode not in ("*", "silent", "listening", "async") or backend not in ("*", "sqlite", "postgresql"):
            raise SystemExit(f"{path}:{n}: mode must be silent|listening|async|*, backend sqlite|postgresql|*")
        if kind not in KINDS or not reason:
            raise SystemExit(f"{path}:{n}: kind must be one of {', '.join(KINDS)}, followed by a reason")
        lines.append(Expected(mode, backend, version, test, kind, reason, n))
    return lines


def differences(vanilla: Run, other: Run) -> dict[str, tuple[str, str, str]]:
    found = {}
    for test in sorted(set(vanilla.outcomes) | set(other.outcomes)):
        before = vanilla.outcomes.get(test, {}).get("outcome", "absent")
        after = other.outcomes.get(test, {}).get("outcome", "absent")
        if before != after:
            found[test] = (before, after, other.outcomes.get(test, {}).get("detail", ""))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_backends = "sqlite,postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    parser.add_argument("--backends", default=os.environ.get("COMPAT_BACKENDS", default_backends))
    parser.add_argument(
        "--modes", default="silent,listening", help="compared with vanilla, which always runs (also: async)"
    )
    parser.add_argument(
        "--postgresql-modes",
        default=None,
        help="the modes on PostgreSQL (default: --modes); make test runs only listening there, to fit its budget",
    )
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--parallel", type=int, default=int(os.environ.get("COMPAT_PARALLEL", "2")))
    parser.add_argument("--expected", type=Path, default=HERE / "expected-differences.txt")
    parser.add_argument("--candidates", type=Path, help="write every unexplained difference as an expected line")
    parser.add_argument("--findings", type=Path, help="write every difference (with traceback tails), markdown")
    parser.add_argument("--reuse", action="store_true", help="compare the last results again, without running")
    parser.add_argument(
        "--reuse-vanilla",
        action="store_true",
        help="run silent/listening but take vanilla's last results (vanilla does not depend on the library)",
    )
    parser.add_argument("--results-dir", type=Path, default=CACHE / "compat-runs", help="where runs are kept")
    parser.add_argument("--stale", choices=("fail", "warn"), default=os.environ.get("COMPAT_STALE", "fail"))
    args = parser.parse_args()

    version = django.__version__
    major_minor = ".".join(version.split(".")[:2])
    backends = [b for b in args.backends.split(",") if b]
    modes = [m for m in args.modes.split(",") if m and m != "vanilla"]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown mode(s) {', '.join(sorted(unknown))}: choose among {', '.join(MODES[1:])}")
    apps = [a for a in args.apps.split(",") if a]
    expected = load_expected(args.expected)
    tests = django_tests_dir(version)
    apps, unrunnable = runnable(tests, apps)
    for app in unrunnable:
        print(f"left out, its tests do not compile on Python {sys.version.split()[0]}: {app}", flush=True)
    out = args.results_dir / version

    unexplained: list[tuple[str, str, str, str, str, str]] = []
    report: list[str] = []
    short: list[list[str]] = []
    everything: list[tuple[str, str, str, str, str, str, str]] = []
    for backend in backends:
        vanilla = run_mode(tests, "vanilla", backend, apps, args.parallel, out, args.reuse or args.reuse_vanilla)
        c = vanilla.counts()
        bad = c["fail"] + c["error"] + c["upass"]
        report.append(
            f"Django {version} {backend} vanilla: {len(vanilla.outcomes)} tests, {c['ok']} passed, "
            f"{c['skip']} skipped, {c['xfail']} xfail, {bad} failing ({vanilla.seconds:.0f}s)"
        )
        print(report[-1], flush=True)
        short.append([f"{backend} {len(vanilla.outcomes)} tests, {c['ok']} pass"])
        backend_modes = modes
        if backend == "postgresql" and args.postgresql_modes is not None:
            backend_modes = [m for m in args.postgresql_modes.split(",") if m and m != "vanilla"]
        for mode in backend_modes:
            run = run_mode(tests, mode, backend, apps, args.parallel, out, args.reuse)
            diffs = differences(vanilla, run)
            explained = 0
            for e in expected:  # judged only where its test ran (--apps may run a part of the suite)
                if not e.judged and e.scope_matches(mode, backend):
                    e.judged = any(fnmatch.fnmatchcase(t, e.test) for t in vanilla.outcomes)
            for test, (before, after, detail) in diffs.items():
                hits = [e for e in expected if e.matches(mode, backend, test)]
                if mode == "silent":  # no receiver, no extra query: a budget line cannot explain silent
                    hits = [e for e in hits if e.kind != "budget"]
                kind = f"{hits[0].kind}: {hits[0].reason}" if hits else "UNEXPLAINED (not in the expected file)"
                everything.append((major_minor, backend, mode, test, before, after, detail, kind))
                if hits:
                    explained += 1
                    for e in hits:
                        e.hits.append(f"{backend}/{mode}")
                else:
                    unexplained.append((major_minor, backend, mode, test, before, after, detail))
            c = run.counts()
            report.append(
                f"Django {version} {backend} {mode}: {len(run.outcomes)} tests, {c['ok']} passed, "
                f"{len(diffs)} differ from vanilla ({explained} expected, {len(diffs) - explained} not) "
                f"({run.seconds:.0f}s)"
            )
            print(report[-1], flush=True)
            new = len(diffs) - explained
            short[-1].append(f"{mode} {explained} expected" + (f" + {new} NEW" if new else ""))

    stale = [e for e in expected if e.judged and not e.hits]
    print("\n==== compat gate: Django", version, "====")
    for line in report:
        print(" ", line)
    if unexplained:
        print(f"\n{len(unexplained)} difference(s) from vanilla not in {args.expected}:")
        for ver, backend, mode, test, before, after, detail in unexplained:
            print(f"\n  {mode} {backend} {ver} {test}: {before} in vanilla, {after} here")
            for line in detail.splitlines()[-6:]:
                print("      " + line[:200])
    if stale:
        print(f"\n{len(stale)} stale line(s) in {args.expected.name} (no longer differ in the runs above):")
        for e in stale:
            print(f"  line {e.lineno}: {e.mode} {e.backend} {e.django} {e.test} {e.kind}: {e.reason}")
    if args.candidates:
        with open(args.candidates, "a") as fh:
            for ver, backend, mode, test, before, after, detail in unexplained:
                fh.write(f"{mode} {backend} {ver} {test} {suggest(detail, before, after)}\n")
    if args.findings:
        write_findings(args.findings, version, everything)
    failed = bool(unexplained) or (bool(stale) and args.stale == "fail")
    # e.g. "Django 5.2.19: sqlite 1529 tests, 1451 pass, silent 7 expected, listening 87 expected; ..."
    summary = f"SUMMARY: Django {version}: " + "; ".join(", ".join(x) for x in short) + f"; {len(stale)} stale"
    print("\n" + summary)
    print("compat gate:", "FAILED" if failed else "OK")
    return 1 if failed else 0


_GRAFT = re.compile(r"compat graft \(\w+\): (\d+) models grafted, (\d+) not fully signalling")
_SAVEPOINT = re.compile(r"^\d+\. (RELEASE )?SAVEPOINT ", re.M)
_COUNTS = re.compile(r"(\d+) queries executed, (\d+) expected")


def suggest(detail: str, before: str, after: str) -> str:
    """A first guess at the kind and reason of a difference, for a human to check (--candidates)."""
    last = re.sub(r"\S*/django-src/django-[^/]+/", "", (detail.strip().splitlines() or [""])[-1].strip())[:140]
    counts = _COUNTS.search(detail)
    savepoints = len(_SAVEPOINT.findall(detail))
    if counts:
        extra = int(counts[1]) - int(counts[2]) - savepoints
        if savepoints and extra == 0:
            return f"defect: issue 9 #7, only our SAVEPOINT/RELEASE ({savepoints} statements)"
        if savepoints:
            return (
                f"defect: issue 9 #7, our SAVEPOINT/RELEASE ({savepoints} statements); then budget: "
                f"{extra:+d} statement(s), TODO name the budget row"
            )
        return f"budget: {extra:+d} statement(s), TODO name the budget row"
    if "SAVEPOINT" in detail:
        return "defect: issue 9 #7, our SAVEPOINT/RELEASE shows in the captured SQL"
    return f"defect: TODO classify ({before} -> {after}: {last})"


def write_findings(path: Path, version: str, rows: list[tuple[str, ...]]) -> None:
    """Append a markdown section: every difference grouped by its reason, one entry per test with the
    runs it differs in and the traceback tail of the first."""
    by_reason: dict[str, dict[str, list[tuple[str, ...]]]] = {}
    for row in rows:
        by_reason.setdefault(row[-1], {}).setdefault(row[3], []).append(row)
    with open(path, "a") as fh:
        fh.write(f"\n## Django {version} ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
        for reason, tests in sorted(by_reason.items()):
            fh.write(f"\n### {reason}\n")
            for test, runs in tests.items():
                ver, _, _, _, before, after, detail, _ = runs[0]
                where = ", ".join(f"{r[2]}/{r[1]}" for r in runs)
                fh.write(f"\n- `{test}` (Django {ver}: {where}): {before} -> {after}\n")
                lines = [x for x in detail.strip().splitlines() if x.strip(" ^~")]
                ours = [x for x in lines if "bulk_signals_django" in x and x.lstrip().startswith("File ")]
                lines = ours[-1:] + lines[-4:]  # the library's deepest frame, then the end
                if lines:
                    fh.write("  ```\n" + "\n".join("  " + x[:220] for x in lines) + "\n  ```\n")


if __name__ == "__main__":
    sys.exit(main())
