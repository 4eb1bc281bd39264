"""CSV in and out of the job API with the standard library's ``csv`` module.

Upload: the first line names the columns (each once), each further line is a record (a dict of strings)
with exactly one cell per column;
empty cells are left out of the record, so a CSV update only touches the columns a row fills.
Download: one line per result with the columns ``index, pk, created, errors, data``; every text cell
and header name is neutralised against formula injection (``neutralise``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from .uploads import CSVStreamParser

__all__ = ["FORMULA_PREFIXES", "CSVParser", "CSVRecords", "CSVRenderer", "csv_blocks", "csv_lines", "neutralise"]


class CSVRecords(list[dict[str, Any]]):
    """The records of a CSV upload (dicts), and ``columns``: the header's column names."""

    columns: list[str]


class CSVParser(BaseParser):
    """Parses ``text/csv`` request bodies into a list of dicts (a ``CSVRecords``), whole.

    The job routes stream their uploads (``uploads.CSVStreamParser``); this parser is kept for projects
    that used it and reads the body with the same rules and the same errors, then keeps every record.
    """

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parsed = CSVStreamParser().parse(stream, media_type, parser_context)
        records = CSVRecords(parsed)
        records.columns = list(parsed.columns or [])
        return records


class CSVRenderer(BaseRenderer):
    """Renders a list of dicts as CSV (nested values as JSON text)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, Mapping) and "results" in data:
            data = data["results"]
        if isinstance(data, Mapping):  # an error document
            data = [data]
        return "".join(csv_lines(data or [])).encode("utf-8")


def csv_lines(
    rows: Iterable[Mapping[str, Any]],
    columns: list[str] | None = None,
    *,
    delimiter: str = ",",
    lineterminator: str = "\r\n",
) -> Iterable[str]:
    """CSV text, one line at a time (for streaming), of ``rows``.

    With ``columns`` the header row is written even when there are no rows; without, the columns
    come from the first row (keys no row before had are dropped: pass ``columns`` for mixed rows).
    ``delimiter`` and ``lineterminator``: a job's ``column_delimiter`` and ``line_ending`` (``csv_options``).
    """
    buffer = io.StringIO()
    writer: Any = None

    def start(fieldnames: list[str]) -> Any:
        new = csv.DictWriter(
            buffer, fieldnames=fieldnames, extrasaction="ignore", delimiter=delimiter, lineterminator=lineterminator
        )
        new.writer.writerow([neutralise(str(name)) for name in fieldnames])  # the header: names are data too
        return new

    if columns is not None:
        writer = start(columns)
    for row in rows:
        if writer is None:
            writer = start(list(row))
        writer.writerow({k: _cell(v) for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # only a header was written
        yield buffer.getvalue()


def csv_blocks(
    batches: Iterable[Iterable[Mapping[str, Any]]],
    columns: list[str],
    *,
    delimiter: str = ",",
    lineterminator: str = "\r\n",
) -> Iterator[str]:
    """CSV text of ``batches`` of rows, one string per batch (the header first): ``csv_lines``' cells and header,
    written a batch at a time, so a download of a million rows is a few hundred writes, not a million."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, extrasaction="ignore", delimiter=delimiter, lineterminator=lineterminator
    )
    writer.writer.writerow([neutralise(str(name)) for name in columns])
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in batch)
        if buffer.tell():
            yield buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)  # starts with { or [: never a formula
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?\Z")


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet cell: a leading ``'`` when it starts like a formula.

    Excel, LibreOffice and Google Sheets run a cell starting with ``= + - @`` (or a tab or carriage
    return before one) as a formula: ``=cmd|' /C calc'!A0`` in a downloaded CSV is an attack on whoever
    opens it (OWASP's "CSV injection"). Every CSV the API writes passes every text cell, and every
    header name, through this one function. A plain number such as ``-12.50`` is left as it is: it cannot
    be a formula, and a quote would turn it into text.
    """
    if text and text.startswith(FORMULA_PREFIXES) and _PLAIN_NUMBER.match(text) is None:
        return "'" + text
    return text
