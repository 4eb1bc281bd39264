"""Cursors (locators) over a job's result lists, as Salesforce's ``Sforce-Locator``.

A locator is an opaque string naming where the next page of one result list of one job starts. The server
hands it out (the ``Bulk-Locator`` response header, and ``next_locator`` in a JSON page) and takes it back
(``?locator=``); a client never builds one. It holds the list (succeeded, failed, unprocessed), the
position (a row number of an export, a record index otherwise) and a tag of the job, so a locator of
another job or list is refused (400 naming ``locator``) instead of reading from a meaningless place.

Positions make a cursor stable: a page is ``position <= i < next position`` whatever was read before, so a
client may fetch pages again, or in parallel once it holds their locators.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from rest_framework.exceptions import ValidationError

from ..sync.storable import printable
from .states import ResultKind

__all__ = ["decode_locator", "encode_locator"]

_KIND_CODE = {ResultKind.SUCCEEDED: "s", ResultKind.FAILED: "f", ResultKind.UNPROCESSED: "u"}
_LOCATOR = re.compile(r"([sfu])([0-9]{1,15})\.([0-9a-f]{8})\Z")
_MAX_LENGTH = 64


def _tag(job_id: Any) -> str:
    return hashlib.sha256(str(job_id).encode()).hexdigest()[:8]


def encode_locator(job_id: Any, kind: str, position: int) -> str:
    """The locator of ``position`` in the ``kind`` list of job ``job_id``."""
    raw = f"{_KIND_CODE[ResultKind(kind)]}{position}.{_tag(job_id)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_locator(job_id: Any, kind: str, locator: str) -> int:
    """The position a locator of the ``kind`` list of job ``job_id`` names; a 400 naming ``locator`` otherwise."""
    shown = printable(locator)[:40]
    if len(locator) > _MAX_LENGTH or not locator.isascii():
        raise ValidationError({"locator": [f"'{shown}' is not a locator this server handed out"]})
    try:
        raw = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise ValidationError({"locator": [f"'{shown}' is not a locator this server handed out"]}) from None
    match = _LOCATOR.match(raw)
    if match is None:
        raise ValidationError({"locator": [f"'{shown}' is not a locator this server handed out"]})
    code, position, tag = match.groups()
    if tag != _tag(job_id) or code != _KIND_CODE[ResultKind(kind)]:
        raise ValidationError({"locator": [f"'{shown}' is a locator of another job or another kind of results"]})
    return int(position)
