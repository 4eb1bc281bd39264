"""``bulk-drf[redis]`` from the built wheels gives a working Celery worker on a Redis broker.

Run with the Python of a fresh virtual environment where ``bulk-drf[redis]`` was installed (our wheels from the
build, the rest from PyPI): ``python worker_check.py WORKDIR``. It copies the smoke project (``project/``: a Django
project with the Celery app wired as Celery's guide does, RedisCache, a Redis broker) into WORKDIR, runs the system
checks (``manage.py check``: bulk-drf's wiring checks must stay silent) and ``migrate``, round-trips a value through
Django's RedisCache, starts ``celery -A smokeproj worker --pool=solo`` on its own queue, waits for it to answer a
ping, checks that it registered ``bulk_drf.run_job``, runs a task on it and stops it (SIGTERM). Before the extra
brought ``celery[redis]``, the worker died at start: ``No module named 'packaging'``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


START = time.monotonic()


def say(msg: str) -> None:
    print(f"  ok  [{time.monotonic() - START:4.1f}s] {msg}", flush=True)


def fail(msg: str, log: Path | None = None) -> None:
    print(f"FAIL {msg}", flush=True)
    if log is not None and log.exists():
        print("---- worker log (last 40 lines) ----")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
    raise SystemExit(1)


def main(workdir: Path) -> None:
    project = workdir / "project"
    shutil.copytree(HERE / "project", project)
    bindir = Path(sys.executable).parent
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smokeproj.settings", "PYTHONPATH": str(project)}
    os.chdir(project)
    sys.path.insert(0, str(project))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    # manage.py check, in this process: bulk-drf's job wiring checks (W002 process-local cache, W003 no Celery
    # app) must stay silent for a project wired as Celery's guide and docs/jobs.md say.
    call_command("check", fail_level="WARNING")
    say("manage.py check")
    call_command("migrate", verbosity=0)
    say("manage.py migrate")
    from django.core.cache import cache
    from smokeproj.celery import add, app

    cache.set("release-check", 42, 30)
    if cache.get("release-check") != 42:
        fail("Django's RedisCache did not give the value back")
    say(f"Django's RedisCache at {django.conf.settings.CACHES['default']['LOCATION']}")

    queue = f"release-check-{os.getpid()}"
    hostname = f"{queue}@{socket.gethostname()}"
    log = workdir / "worker.log"
    cmd = [str(bindir / "celery"), "-A", "smokeproj", "worker", "--pool=solo", "-Q", queue, "-n", hostname]
    cmd += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("w") as out:
        worker = subprocess.Popen(cmd, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if worker.poll() is not None:
                fail(f"the worker exited with {worker.returncode} at start", log)
            try:
                if app.control.ping(destination=[hostname], timeout=1.0):
                    break
            except Exception as exc:  # the broker's transport does not load here either: show the worker's log
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(15)
                state = "still runs" if worker.returncode is None else f"exited with {worker.returncode}"
                fail(f"ping: {exc!r}; the worker {state}", log)
            if time.monotonic() > deadline:
                fail("the worker did not answer a ping within 60 s", log)
        say(f"worker {hostname} answers a ping (broker {app.conf.broker_url})")
        registered = (app.control.inspect([hostname], timeout=5.0).registered() or {}).get(hostname, [])
        if "bulk_drf.run_job" not in registered:
            fail(f"bulk_drf.run_job is not registered on the worker: {registered}", log)
        say("the worker registered bulk_drf.run_job")
        result = add.apply_async((2, 3), queue=queue).get(timeout=30)
        if result != 5:
            fail(f"the task answered {result!r}", log)
        say("a task ran on the worker: 2 + 3 = 5")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    say(f"worker stopped (exit {worker.returncode})")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
