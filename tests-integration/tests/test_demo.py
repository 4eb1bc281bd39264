"""`make demo` runs, shows the synchronous side, and writes plain lines when its output is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_the_demo_runs_every_part_and_prints_plain_lines_to_a_pipe(tmp_path: Path) -> None:
    # Isolated: SQLite, kombu's filesystem broker and a file cache in tmp_path, whatever this run uses.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "BULK_DB_NAME", "BULK_QUEUE")}
    env.update(BULK_STATE_DIR=str(tmp_path), BULK_DEMO_RECORDS="600")
    run = subprocess.run(
        [sys.executable, "-m", "demo"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    out = run.stdout
    assert run.returncode == 0, out
    for part in ("# 1/3  bulk-signals-core", "# 2/3  bulk-signals-django + bulk-drf", "# 3/3  bulk-drf jobs"):
        assert part in out
    sync = out[out.index("# 2/3") : out.index("# 3/3")]
    # An array POST with one bad item: a 400 naming the item and the field, and nothing written.
    bad_item = '{"index": 1, "errors": {"amount": [{"message": "A valid number is required.", "code": "invalid"}]}}'
    assert "-> 400 Bad Request" in sync and bad_item in sync
    assert "transactions stored: 0" in sync
    assert "-> 201 Created" in sync and "rent       balance 850.00" in sync
    # QuerySet.update(): old -> new pairs, from the receivers.
    assert "after_update  rent       status open -> frozen" in sync
    assert "after_update  savings    status open -> frozen" in sync
    assert "after_update  groceries" not in sync.split("balance__gt=50")[1].split("F(")[0]  # HasChanged filters
    assert "after_update  groceries  balance 12.50 -> 13.50" in sync
    # The progress: no bar redrawn with carriage returns, a handful of lines, then the outcome.
    jobs = out[out.index("# 3/3") :]
    assert "\r" not in out
    progress = [line for line in jobs.splitlines() if "records processed" in line]
    assert 2 <= len(progress) <= 10, progress
    assert progress[-1].split() == ["JobComplete", "600", "/", "600", "records", "processed,", "1", "failed"]
    assert "JobComplete: 599 succeeded, 1 failed of 600" in jobs
    assert "(sum of transactions = " in jobs and ", equal)" in jobs
