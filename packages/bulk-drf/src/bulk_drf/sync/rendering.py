"""``use_render_plan``, kept here from 0.1: it lives in ``bulk_drf.sync.shortcuts``, the DRF shortcuts' module."""

from __future__ import annotations

from .shortcuts import _field_plan as _field_plan  # older imports of the plan of one field
from .shortcuts import use_render_plan

__all__ = ["use_render_plan"]
