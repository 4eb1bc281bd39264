"""Result downloads: one page of a job's result list, streamed as JSON, NDJSON or CSV.

A job has three result lists (``ResultKind``): ``succeeded`` (of a query job: the exported rows, stored as
rendered pages; else one stored result per record), ``failed`` and ``unprocessed``. Each is read from a
position (``cursors``) up to the next page's position, a few hundred rows at a time, and written to the
response as it is read: the web process holds one stored page (or one batch of results), however many rows
the client downloads.

Every row is first a JSON document (an exported row is stored as one); JSON and NDJSON pages are those
documents put together, CSV pages their cells (nested values as JSON text, every text cell neutralised).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from . import fanout, lifecycle
from .csv_io import csv_blocks
from .csv_options import DELIMITERS, LINE_TERMINATORS
from .models import BulkJob, BulkJobResult, BulkJobResultPage
from .states import JobOperation, ResultKind

__all__ = ["FORMATS", "NDJSONRenderer", "ResultList", "result_list", "stream"]

FORMATS = ("json", "ndjson", "csv")
"""The formats of a results page (``?format=`` or the ``Accept`` header)."""

CONTENT_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}

_BATCH = 2000  # stored results read per query while streaming
_RESULT_COLUMNS = ["index", "pk", "created", "errors", "data"]


class NDJSONRenderer(BaseRenderer):
    """``application/x-ndjson``: one JSON document per line (an error document is one line)."""

    media_type = "application/x-ndjson"
    format = "ndjson"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        rows = data["results"] if isinstance(data, Mapping) and "results" in data else [data]
        return "".join(_dumps(row) + "\n" for row in rows).encode("utf-8")


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


@dataclass
class ResultList:
    """One result list of one job: ``count`` rows, positions from ``first``; ``blocks`` reads them."""

    job: BulkJob
    kind: str
    count: int
    first: int = 0

    def next_position(self, start: int, max_records: int | None) -> int | None:
        """Where the page after ``max_records`` rows from ``start`` begins; None when this page is the last."""
        if max_records is None:
            return None
        stop = start + max_records
        return stop if stop < self.first + self.count else None

    def blocks(self, start: int, stop: int | None) -> Iterator[str]:
        """The rows at ``start <= position < stop`` as JSON documents joined by newlines, a block at a time."""
        raise NotImplementedError

    def columns(self, start: int, stop: int | None) -> list[str]:
        """The CSV columns of the rows at ``start <= position < stop``."""
        return _RESULT_COLUMNS

    def csv_rows(self, block: str) -> list[dict[str, Any]]:
        """A block's rows as CSV rows (dicts)."""
        return [json.loads(line) for line in block.split("\n")]


class ExportedRows(ResultList):
    """A query job's rows, rendered by the worker into ``BulkJobResultPage``s (position: the row number)."""

    def blocks(self, start: int, stop: int | None) -> Iterator[str]:
        pages = BulkJobResultPage.objects.filter(job_id=self.job.pk)
        fields = ("start_index", "count", "rows")
        page = pages.filter(start_index__lte=start).order_by("-start_index").values_list(*fields).first()
        while page is not None:
            page_start, count, text = page
            low, high = max(start - page_start, 0), count if stop is None else min(count, stop - page_start)
            if high > low:
                yield text if (low, high) == (0, count) else "\n".join(text.split("\n")[low:high])
            if page_start + count >= (self.count if stop is None else stop):
                return  # the last page: no query for a next one
            page = pages.filter(start_index=page_start + count).values_list(*fields).first()

    def columns(self, start: int, stop: int | None) -> list[str]:
        return list((self.job.query or {}).get("columns") or [])


class StoredResults(ResultList):
    """The stored per-record results of one kind (position: the record's index)."""

    def _rows(self) -> Any:
        return BulkJobResult.objects.filter(job_id=self.job.pk, kind=self.kind).order_by("index")

    def next_position(self, start: int, max_records: int | None) -> int | None:
        if max_records is None:
            return None
        after = self._rows().filter(index__gte=start).values_list("index", flat=True)[max_records : max_records + 1]
        return next(iter(after), None)

    def blocks(self, start: int, stop: int | None) -> Iterator[str]:
        position = start
        while True:
            rows = self._rows().filter(index__gte=position)
            if stop is not None:
                rows = rows.filter(index__lt=stop)
            batch = list(rows.values_list("index", "object_pk", "created", "errors", "data")[:_BATCH])
            if not batch:
                return
            # A record without a row (a failure, a dry run's new row) has no pk: null, an empty CSV cell.
            yield "\n".join(
                _dumps({"index": i, "pk": pk or None, "created": created, "errors": errors, "data": data})
                for i, pk, created, errors, data in batch
            )
            if len(batch) < _BATCH:
                return
            position = batch[-1][0] + 1


@dataclass
class UnprocessedRecords(ResultList):
    """The records no committed chunk holds (position: the record's index). ``ranges``: ``[(start, stop)]`` of
    them, in order; a fanned-out job commits its chunks in any order, so they need not be one tail."""

    ranges: list[tuple[int, int]] = field(default_factory=list)

    def _clipped(self, start: int, stop: int | None) -> Iterator[tuple[int, int]]:
        for low, high in self.ranges:
            low, high = max(low, start), high if stop is None else min(high, stop)
            if high > low:
                yield low, high

    def next_position(self, start: int, max_records: int | None) -> int | None:
        if max_records is None:
            return None
        left = max_records
        for low, high in self._clipped(start, None):
            if left == 0:
                return low  # the page ended with the range before: the next one starts here
            if high - low > left:
                return low + left
            left -= high - low
        return None

    def blocks(self, start: int, stop: int | None) -> Iterator[str]:
        batch: list[str] = []
        for low, high in self._clipped(start, stop):
            for index, record in lifecycle.iter_records(self.job, low, high):
                batch.append(_dumps({"index": index, "data": record}))
                if len(batch) == _BATCH:
                    yield "\n".join(batch)
                    batch = []
        if batch:
            yield "\n".join(batch)

    def columns(self, start: int, stop: int | None) -> list[str]:
        # Records need not share their keys: a first pass collects every column, in order of appearance.
        columns: dict[str, None] = {"index": None}
        for block in self.blocks(start, stop):
            for row in self.csv_rows(block):
                columns.update(dict.fromkeys(row))
        return list(columns)

    def csv_rows(self, block: str) -> list[dict[str, Any]]:
        rows = []
        for line in block.split("\n"):
            row = json.loads(line)
            record = row["data"]
            rows.append({"index": row["index"], **(record if isinstance(record, dict) else {"id": record})})
        return rows


def result_list(job: BulkJob, kind: str) -> ResultList:
    """The ``kind`` result list of ``job``."""
    if kind == ResultKind.UNPROCESSED:
        if job.operation == JobOperation.QUERY:
            return UnprocessedRecords(job, kind, 0, job.total_records)
        ranges = fanout.unprocessed_ranges(job)
        first = ranges[0][0] if ranges else job.total_records
        return UnprocessedRecords(job, kind, sum(stop - start for start, stop in ranges), first, ranges)
    if kind == ResultKind.SUCCEEDED and job.operation == JobOperation.QUERY:
        return ExportedRows(job, kind, job.succeeded_records)
    count = job.succeeded_records if kind == ResultKind.SUCCEEDED else job.failed_records
    return StoredResults(job, kind, count)


def stream(source: ResultList, start: int, stop: int | None, fmt: str, head: dict[str, Any]) -> Iterator[str]:
    """The page ``start <= position < stop`` of ``source`` as text, a block at a time.

    ``json``: ``head``'s keys, then ``"results": [...]``; ``ndjson``: a document per line; ``csv``: a header
    line, then a line per row, with the job's ``column_delimiter`` and ``line_ending``.
    """
    blocks = source.blocks(start, stop)
    if fmt == "ndjson":
        return (block + "\n" for block in blocks)
    if fmt == "csv":
        job = source.job
        return csv_blocks(
            (source.csv_rows(block) for block in blocks),
            source.columns(start, stop),
            delimiter=DELIMITERS[job.column_delimiter],
            lineterminator=LINE_TERMINATORS[job.line_ending],
        )
    return _json_page(blocks, head)


def _json_page(blocks: Iterator[str], head: dict[str, Any]) -> Iterator[str]:
    yield _dumps(head)[:-1] + ',"results":['
    separator = ""
    for block in blocks:
        # A JSON document has no raw newline (json.dumps escapes them in strings): the newlines are separators.
        yield separator + block.replace("\n", ",")
        separator = ","
    yield "]}"
