"""``use_render_plan``, kept here from 0.1: it lives in ``bulk_drf.sync.shortcuts``, the DRF shortcuts' module
(with ``column_plan``, ``column_json_plan`` and ``js_safe``, which export jobs use)."""

from __future__ import annotations

from .shortcuts import _field_plan as _field_plan  # older imports of the plan of one field
from .shortcuts import column_json_plan, column_plan, js_safe, use_render_plan

__all__ = ["column_json_plan", "column_plan", "js_safe", "use_render_plan"]
