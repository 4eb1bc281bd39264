"""Start and stop a real ``celery -A project worker`` process (used by the demo and the integration tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """A Celery worker in its own process group, so ``kill()`` takes its pool children with it."""

    def __init__(
        self,
        *,
        env: dict[str, str] | None = None,
        concurrency: int = 1,
        log: IO[Any] | None = None,
        name: str = "worker",
        extra_args: list[str] | None = None,
    ) -> None:
        self.env = {**os.environ, **(env or {})}
        self.extra_args = list(extra_args or [])  # e.g. ["-B", "-s", path]: celery beat inside the worker
        self.concurrency = concurrency
        self.log = log
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> WorkerProcess:
        """Start the worker and wait until it has connected to the broker (``ready`` in its log)."""
        queue = self.env.get("BULK_QUEUE", "bulk-integration")
        ready_file = PROJECT_DIR / ".state" / f"{self.name}-{os.getpid()}-{time.time_ns()}.log"
        ready_file.parent.mkdir(parents=True, exist_ok=True)
        self._logfile = ready_file
        out = ready_file.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "project",
                "worker",
                "-Q",
                queue,
                "-c",
                str(self.concurrency),
                "-n",
                f"{self.name}-{time.time_ns()}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
                *self.extra_args,
            ],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = ready_file.read_text(errors="replace")
            if " ready." in text:
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{text}")
            time.sleep(0.1)
        text = ready_file.read_text(errors="replace")  # read before stop() deletes the log
        self.stop()
        raise RuntimeError(f"the worker did not become ready in {timeout}s:\n{text}")

    def output(self) -> str:
        """What the worker printed so far."""
        return self._logfile.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once (no warm shutdown, no ack)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Ask the worker to stop (SIGTERM: warm shutdown), then make sure it is gone."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_logfile", None) and self._logfile.exists():
            self._logfile.unlink()
