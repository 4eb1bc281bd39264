"""The record layer, by what each module holds (names importable from here too, as before):

- :mod:`.values`: copy semantics (which values records share, :func:`own_value`);
- :mod:`.builders`: instances built without ``__init__`` (generated loops, :class:`RecordState`);
- :mod:`.queries`: the hand-built SQL (``pk IN``, old rows, ``UPDATE ... RETURNING``);
- :mod:`.changes`: change detection between new records and old rows.
"""

from __future__ import annotations

from .builders import RecordState, clone_record, fetch_rows, plain_select, record_loop, select_blocks, whole_row
from .changes import changed_against, changed_by_receivers, changed_fields, pk_is_set, writable_fields
from .queries import (
    can_return_updated,
    chunk_size,
    chunks,
    column_in,
    load_by_pk,
    load_one,
    pk_in,
    selects_bare_column,
    stored_values,
    update_by_pks,
)
from .values import holds_immutable_values, is_immutable, own_value, share_equal_values

__all__ = [
    "RecordState",
    "can_return_updated",
    "changed_against",
    "changed_by_receivers",
    "changed_fields",
    "chunk_size",
    "chunks",
    "clone_record",
    "column_in",
    "fetch_rows",
    "holds_immutable_values",
    "is_immutable",
    "load_by_pk",
    "load_one",
    "own_value",
    "pk_in",
    "pk_is_set",
    "plain_select",
    "record_loop",
    "select_blocks",
    "selects_bare_column",
    "share_equal_values",
    "stored_values",
    "update_by_pks",
    "whole_row",
    "writable_fields",
]
