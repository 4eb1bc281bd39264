"""Job facts: what processing a job took, on the job row and in its status (Salesforce Bulk API 2.0's names
where they apply).

- ``processed_records``, ``failed_records`` (and ``succeeded_records``): records of the committed chunks.
- ``retries``: runs of committed chunks beyond their first (a worker died holding the chunk, a database error
  or a deadlock rolled it back, a duplicate delivery took it over). Salesforce counts "the number of times
  that Salesforce attempted to save the results of an operation" the same way.
- ``total_processing_ms``: wall time from the start of processing (the job entering InProgress) to the
  commit of its last chunk so far.
- ``active_processing_ms``: the chunks' own work time (from a worker's claim to its commit), summed over
  every worker: with chunks in parallel it exceeds ``total_processing_ms``, and the ratio of the two is the
  parallelism the job got. (Salesforce's ``apiActiveProcessingTime`` is also a sum of busy time.)
- ``workers_used``: how many distinct workers (Celery node names, ``name@host``) committed a chunk. The names
  are kept on the job row (``worker_names``, visible in the admin), not shown in the API: they are your
  infrastructure, not your users' business.

They are updated in the transaction that commits each chunk (``fanout.commit_chunk``), under the job row's
lock, so they are exact for every committed chunk; a chunk rolled back (abort, error) adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["FACT_FIELDS", "committed_chunk", "facts_of"]

FACT_FIELDS = (
    "processed_records",
    "failed_records",
    "retries",
    "total_processing_ms",
    "active_processing_ms",
    "workers_used",
)
"""The job facts, as the status document names them."""


def committed_chunk(
    locked: Mapping[str, Any], *, work_ms: int, worker: str, runs: int, now: datetime
) -> dict[str, Any]:
    """The new fact values of a job row ``locked`` (its current values, read under its lock) once a chunk
    that ran ``runs`` times, the last one ``work_ms`` long on ``worker``, commits at ``now``."""
    names = list(locked["worker_names"] or ())
    if worker and worker not in names:
        names.append(worker)
    started = locked["started_at"]
    elapsed = int((now - started).total_seconds() * 1000) if started is not None else 0
    return {
        "retries": locked["retries"] + max(runs - 1, 0),
        "active_processing_ms": locked["active_processing_ms"] + max(work_ms, 0),
        "total_processing_ms": max(locked["total_processing_ms"], elapsed),
        "worker_names": names,
    }


def facts_of(job: Any) -> dict[str, Any]:
    """The facts of ``job`` (a ``BulkJob``) as the status document shows them."""
    return {name: getattr(job, name) for name in FACT_FIELDS}
