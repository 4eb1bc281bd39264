"""CSV in and out of the job API with the standard library's ``csv`` module.

Upload: the first line names the columns, each further line is a record (a dict of strings);
empty cells are left out of the record, so a CSV update only touches the columns a row fills.
Download: one line per result with the columns ``index, pk, created, errors, data``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

__all__ = ["CSVParser", "CSVRenderer", "csv_lines"]


class CSVParser(BaseParser):
    """Parses ``text/csv`` request bodies into a list of dicts."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        text = codecs.getreader(encoding)(stream)
        try:
            reader = csv.DictReader(text)
            records = []
            for line, row in enumerate(reader, start=2):
                if None in row:
                    raise ParseError(f"CSV line {line} has more cells than the header has columns")
                records.append({key: value for key, value in row.items() if value not in ("", None)})
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ParseError(f"malformed CSV: {exc}") from exc
        if reader.fieldnames is None:
            raise ParseError("empty CSV: the first line must name the columns")
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


def csv_lines(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> Iterable[str]:
    """CSV text, one line at a time (for streaming), of ``rows``; the columns come from the first row."""
    buffer = io.StringIO()
    writer: Any = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=columns or list(row), extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    if value is None:
        return ""
    return value
