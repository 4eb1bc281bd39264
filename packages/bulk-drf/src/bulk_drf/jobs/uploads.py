"""Job uploads parsed as a stream: the web process holds one chunk of records, not the whole body.

A 50 MB JSON array read by DRF's ``JSONParser`` becomes one 50 MB string, then half a gigabyte of Python
objects. The parsers here read the body in 64 KiB pieces and hand the records on one at a time
(``RecordStream``); ``lifecycle.add_records`` stores them ``BULK_DRF_CHUNK_SIZE`` at a time. Every byte read
is counted: past ``BULK_DRF_MAX_UPLOAD_BYTES`` (or the job's ``BULK_DRF_MAX_JOB_BYTES``) the upload stops
with a 413 naming the limit, and the transaction it writes in rolls back, so nothing is half-stored.

JSON arrays are parsed with ``ijson`` (its C backend); CSV with the standard library's ``csv`` module,
fed line by line from an incremental decoder.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import ijson  # type: ignore[import-untyped]  # ijson ships no type information
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from ..conf import bulk_settings
from ..sync.exceptions import PayloadTooLarge

__all__ = ["CSVStreamParser", "CountingReader", "JSONStreamParser", "RecordStream", "UploadTooLarge"]

_READ_SIZE = 64 * 1024


class UploadTooLarge(PayloadTooLarge):
    """413: an upload (or all uploads of a job) carries more bytes than the configured limit."""

    default_code = "upload_too_large"


def upload_too_large(size: int | str, limit: int) -> UploadTooLarge:
    """The 413 of a request body above ``BULK_DRF_MAX_UPLOAD_BYTES``."""
    return UploadTooLarge(
        f"the request body is {size} bytes; BULK_DRF_MAX_UPLOAD_BYTES is {limit} "
        "(split the data over several PUT /api/bulk-jobs/{id}/data/ uploads)"
    )


class CountingReader(io.RawIOBase):
    """A binary stream over ``stream`` that counts the bytes read and refuses to read past ``limit``."""

    def __init__(self, stream: Any, limit: int, expected: int | None = None) -> None:
        super().__init__()
        self._stream = stream
        self.limit = limit
        self.expected = expected  # Content-Length: a body that ends before it was cut off (client gone)
        self.count = 0
        self._too_large: Callable[[], Exception] = lambda: upload_too_large(f"more than {limit}", limit)

    def cap(self, limit: int, too_large: Callable[[], Exception]) -> None:
        """Lower the limit (the room left in a job), with the error to raise past it."""
        if limit < self.limit:
            self.limit, self._too_large = limit, too_large
            if self.count > limit:
                raise too_large()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.limit + 1 - self.count  # never more than one byte past the limit
        data = self._stream.read(size)
        self.count += len(data)
        if self.count > self.limit:
            raise self._too_large()
        if not data and size and self.expected is not None and self.count < self.expected:
            raise ParseError(f"the request body ended after {self.count} of its {self.expected} bytes")
        return bytes(data)


_NOTHING = object()


class RecordStream:
    """The records of one upload, parsed while they are iterated (once).

    The first record is parsed at once, so an empty array or a broken first record is known before
    anything is written (``bool(stream)`` is False for no records). ``columns`` is the CSV header
    (None for JSON); ``bytes_read`` the body bytes read so far. A parse error met while iterating is
    a ``ParseError`` (400) naming where it is.
    """

    def __init__(self, records: Iterator[Any], reader: CountingReader, columns: list[str] | None = None) -> None:
        self._records = records
        self.reader = reader
        self.columns = columns
        self._first = next(records, _NOTHING)
        self._used = False

    @property
    def bytes_read(self) -> int:
        return self.reader.count

    def __bool__(self) -> bool:
        return self._first is not _NOTHING

    def __iter__(self) -> Iterator[Any]:
        if self._used:
            raise RuntimeError("a RecordStream can be iterated once")
        self._used = True
        if self._first is not _NOTHING:
            yield self._first
        self._first = _NOTHING  # do not keep a reference to the first record while the rest stream by
        yield from self._records


def _reader(stream: Any, parser_context: Mapping[str, Any] | None) -> CountingReader:
    """The counting reader of a request body; a 413 before reading when Content-Length is above the limit."""
    limit = bulk_settings.MAX_UPLOAD_BYTES
    request = (parser_context or {}).get("request")
    declared = getattr(request, "META", {}).get("CONTENT_LENGTH") if request is not None else None
    try:
        length = int(declared) if declared else None
    except ValueError:
        length = None
    if length is not None and length > limit:
        raise upload_too_large(length, limit)
    return CountingReader(stream if stream is not None else io.BytesIO(b""), limit, length)


class JSONStreamParser(BaseParser):
    """``application/json``: a top-level array becomes a ``RecordStream``; anything else is parsed whole.

    Non-array bodies (an object, a number) are small by nature and are handed to the view as DRF's
    ``JSONParser`` would, so its usual 400s (``expected a JSON array``) are unchanged.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        reader = _reader(stream, parser_context)
        buffered = io.BufferedReader(reader, buffer_size=_READ_SIZE)
        head = buffered.peek(1)[:_READ_SIZE].lstrip(b" \t\r\n")
        while not head and buffered.peek(1):  # a body of many blank bytes: look past them
            buffered.read(len(buffered.peek(1)))
            head = buffered.peek(1).lstrip(b" \t\r\n")
        if not head.startswith(b"["):
            text = buffered.read()
            try:
                return json.loads(text.decode("utf-8"), parse_constant=_refuse_constant)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ParseError(f"JSON parse error - {exc}") from exc
        return RecordStream(_json_items(io.BufferedReader(_SurrogateGuard(buffered), buffer_size=_READ_SIZE)), reader)


# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or a low one not after a high one. ijson's C
# backend turns such a lone surrogate into "?" (silently changed data); a JSON text can only carry one as an
# escape (UTF-8 cannot encode it), so the raw bytes tell.
_HIGH = rb"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_SURROGATE = re.compile(_HIGH + rb"(?!" + _LOW + rb")|(?<!" + _HIGH + rb")" + _LOW)
_ESCAPE_WIDTH = 6


class _LoneSurrogate(ValueError):
    """A lone surrogate escape in a JSON upload (see ``_SurrogateGuard``)."""


class _TooDeep(ValueError):
    """A JSON upload nested deeper than ``MAX_DEPTH`` (see ``_Depth``)."""


MAX_DEPTH = 64
"""Deepest nesting of arrays/objects a JSON upload may have (the array of records counts as one). ijson's C
backend builds each event's path ("item.item.item...") and would take memory in the square of the depth
(a 200 kB body of brackets: gigabytes); ``json.loads`` refuses past about 1,000."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = bytes.maketrans(b"[]{}", b"\x02\x00\x02\x00")
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*"', re.S)


class _Depth:
    """The nesting depth of a JSON text fed to it in pieces, outside strings (a string may span pieces)."""

    def __init__(self) -> None:
        self.depth = 0
        self._in_string = False
        self._escaped = False  # the piece ended inside a string, on a backslash that escapes the next byte

    def feed(self, data: bytes) -> None:
        pos = 0
        if self._in_string:
            if self._escaped:  # this piece starts with the byte a backslash escaped
                pos, self._escaped = 1, False
            end = _STRING_REST.match(data, pos)
            if end is None:  # the string goes on past this piece too
                rest = data[pos:]
                self._escaped = (len(rest) - len(rest.rstrip(b"\\"))) % 2 == 1
                return
            pos, self._in_string = end.end(), False
        # Complete strings out (one C-level pass); a quote left over starts a string that goes on past the piece.
        stripped = _STRING.sub(b"", data[pos:])
        quote = stripped.find(b'"')
        if quote >= 0:
            stripped = stripped[:quote]
            self._in_string = True
            self._escaped = (len(data) - len(data.rstrip(b"\\"))) % 2 == 1
        brackets = stripped.translate(None, _NOT_BRACKET)
        if not brackets:
            return
        # Depth after each bracket: depth + (2 per opening, 0 per closing, summed) - brackets so far.
        steps = brackets.translate(_STEP)
        deepest = self.depth + max(map(operator.sub, itertools.accumulate(steps), itertools.count(1)))
        if deepest > MAX_DEPTH:
            raise _TooDeep(f"nested deeper than {MAX_DEPTH} levels")
        self.depth += sum(steps) - len(steps)


class _SurrogateGuard(io.RawIOBase):
    """Reads through ``raw`` and refuses a lone surrogate escape before the parser sees it. A match is judged
    once the escape that may pair it has been read too (or the body ended); a backslash that is itself
    escaped (an odd run of backslashes before it) starts no escape."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw
        self._context = b""  # the last bytes returned: a low surrogate's pair, a run of backslashes
        self._pending = b""  # bytes read but not yet judged (an escape's pair may follow), returned next time
        self._depth = _Depth()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        room = len(buffer)
        while True:
            data = self._raw.read(max(room, 2 * _ESCAPE_WIDTH))
            fresh = self._pending + data
            # Judge the bytes whose pairing escape has been read too; hold the rest back until the next read.
            keep = 2 * _ESCAPE_WIDTH if data else 0
            self._judge(self._context + fresh, len(self._context), len(self._context) + len(fresh) - keep)
            cut = min(room, max(0, len(fresh) - keep))
            out, self._pending = fresh[:cut], fresh[cut:]
            if out or not data:  # 0 bytes only at the end of the body
                break
        self._context = (self._context + out)[-4 * _ESCAPE_WIDTH :]
        self._depth.feed(out)
        buffer[: len(out)] = out
        return len(out)

    def _judge(self, window: bytes, start: int, stop: int) -> None:
        for match in _LONE_SURROGATE.finditer(window):
            if match.start() < start:
                continue  # judged with an earlier read
            if match.start() >= stop:
                break
            before = window[: match.start()]
            if (len(before) - len(before.rstrip(b"\\"))) % 2 == 0:
                raise _LoneSurrogate(match.group().decode("ascii"))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_items(stream: Any) -> Iterator[Any]:
    items = ijson.items(stream, "item", use_float=True, buf_size=_READ_SIZE)
    index = 0
    try:
        for index, item in enumerate(items):  # noqa: B007 - the index names the record of a later error
            yield item
    except ijson.JSONError as exc:
        raise ParseError(f"JSON parse error after record {index}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ParseError(f"JSON parse error after record {index}: the body is not valid utf-8 ({exc})") from exc
    except _TooDeep as exc:
        raise ParseError(f"JSON parse error near record {index + 1}: {exc}") from exc
    except _LoneSurrogate as exc:
        raise ParseError(
            f"JSON parse error near record {index + 1}: a lone UTF-16 surrogate escape ({exc}) is not text a "
            "database can store"
        ) from exc


class CSVStreamParser(BaseParser):
    """``text/csv``: the header line is read at once (and checked), the records while they are iterated.

    Every error names the line: a row with more or fewer cells than the header, bytes that are not
    in the request's charset (utf-8 by default; a byte order mark, as Excel writes, is skipped), a
    header with an unnamed or repeated column. Empty cells are left out of the record.

    The cells are separated by ``parser_context["csv_delimiter"]`` (a comma by default): the job views put
    the job's ``column_delimiter`` there before reading the body. Lines may end in LF or CRLF.
    """

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        delimiter = (parser_context or {}).get("csv_delimiter") or ","
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ParseError(f"unknown charset {encoding!r}") from None
        reader = _reader(stream, parser_context)
        lines = _TextLines(reader, "utf-8-sig" if codec == "utf-8" else codec, encoding)
        rows = csv.reader(lines, delimiter=delimiter)
        try:
            header = next(rows, None)
        except csv.Error as exc:
            raise ParseError(f"malformed CSV at line {rows.line_num}: {exc}") from exc
        if header is None:
            raise ParseError("empty CSV: the first line must name the columns")
        columns = [name.strip() for name in header]
        seen: set[str] = set()
        for position, name in enumerate(columns, start=1):
            if not name:
                raise ParseError(f"CSV line 1 (the header): column {position} has no name")
            if name in seen:
                raise ParseError(f"CSV line 1 (the header) names the column {name!r} twice")
            seen.add(name)
        return RecordStream(_csv_records(rows, columns), reader, columns)


def _csv_records(rows: Any, columns: list[str]) -> Iterator[dict[str, str]]:
    line = rows.line_num
    try:
        for row in rows:
            first_line, line = line + 1, rows.line_num  # a quoted cell may span several lines
            if not row:
                continue  # a blank line
            if len(row) != len(columns):
                raise ParseError(
                    f"CSV line {first_line} has {len(row)} cells; the header (line 1) has {len(columns)} columns"
                )
            yield {key: value for key, value in zip(columns, row, strict=True) if value != ""}
    except csv.Error as exc:
        raise ParseError(f"malformed CSV at line {rows.line_num}: {exc}") from exc


_LINE_END = re.compile(r"\r\n|\r|\n")


class _TextLines:
    """Lines of text (ends kept: ``\\r\\n``, ``\\r`` or ``\\n``, as ``csv`` wants) decoded from a byte stream."""

    def __init__(self, raw: Any, codec: str, charset: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._charset = charset
        self._lines: list[str] = []
        self._pending = ""
        self._done = False
        self._emitted = 0

    def __iter__(self) -> _TextLines:
        return self

    def __next__(self) -> str:
        while not self._lines:
            if self._done:
                raise StopIteration
            self._fill()
        self._emitted += 1
        return self._lines.pop()

    def _fill(self) -> None:
        chunk = self._raw.read(_READ_SIZE)
        try:
            text = self._pending + self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            line = self._emitted + 1 + exc.object[: exc.start].count(b"\n")
            raise ParseError(
                f"CSV line {line} is not valid {self._charset}: byte {exc.object[exc.start]:#04x}; "
                f"send the charset in the Content-Type (text/csv; charset=...)"
            ) from exc
        if not chunk:
            self._done = True
        pieces, start = [], 0
        for match in _LINE_END.finditer(text):
            if match.group() == "\r" and match.end() == len(text) and chunk:
                break  # maybe the first half of a \r\n split between two reads
            pieces.append(text[start : match.end()])
            start = match.end()
        self._pending = text[start:]
        if self._done and self._pending:
            pieces.append(self._pending)
            self._pending = ""
        self._lines = pieces[::-1]  # popped from the end
