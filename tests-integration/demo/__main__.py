"""``make demo`` / ``hatch run integration:demo [core] [sync] [jobs]``: the walkthroughs, in that order.

1. bulk-signals-core alone (standard library only);
2. the synchronous side: a bulk API request with a bad item, signals on a ``QuerySet.update()``;
3. a 20,000-record background job run by a real Celery worker.

With no argument all three run. Output that is not a terminal gets plain lines (no progress bar redraws).
"""

from __future__ import annotations

import sys

PARTS = ("core", "sync", "jobs")


def main(argv: list[str]) -> int:
    wanted = argv or list(PARTS)
    unknown = [name for name in wanted if name not in PARTS]
    if unknown:
        print(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}", file=sys.stderr)
        return 2
    from demo.common import part

    status = 0
    if "core" in wanted:
        from demo import core_walkthrough

        part("1/3  bulk-signals-core: a typed signal dispatcher (standard library only)")
        core_walkthrough.main()
    if "sync" in wanted:
        from demo import sync_walkthrough

        part("2/3  bulk-signals-django + bulk-drf: synchronous bulk writes and their signals")
        status |= sync_walkthrough.main()
    if "jobs" in wanted:
        from demo import jobs_walkthrough

        part("3/3  bulk-drf jobs: a real Celery worker, end to end")
        status |= jobs_walkthrough.main()
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
