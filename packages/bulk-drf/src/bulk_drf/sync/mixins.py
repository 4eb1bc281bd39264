"""``BulkOperationsMixin``: array create/update/upsert/delete and ``?ids=`` reads on a ``ModelViewSet``'s list URL.

Routing: DRF's routers map the list URL to ``{"get": "list", "post": "create"}`` only. Rather than a
router that adds PUT/PATCH/DELETE (and, as one peer does, mutates ``SimpleRouter.routes`` for every
router in the process), the mixin's ``as_view`` adds the three bulk methods to the list route's
action map of *this* viewset only. Any router (``SimpleRouter``, ``DefaultRouter``, third-party
ones) then routes the bulk methods; nothing global changes.

Each request method dispatches to one action (``create``/``bulk_update``/``partial_bulk_update``/
``bulk_destroy``/``list``), which validates the whole array with ``operations.execute_batch`` and
writes through a ``perform_bulk_*`` hook, as DRF's own mixins call ``perform_create``.

The mixin adds no ``/bulk/`` routes: those are ``bulk_drf.jobs.BulkJobsMixin`` (``bulk_drf.BulkViewSetMixin``
is both). A request above ``BULK_DRF_SYNC_MAX_ITEMS`` goes to the ``bulk_too_large`` hook, a 413 here.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..conf import bulk_settings
from . import operations
from .exceptions import InvalidBulkPayload, PayloadTooLarge, as_parse_error
from .ids import InvalidId, id_parser, parse_id
from .openapi import BulkSchema
from .operations import BatchResult
from .shortcuts import use_plain_views, use_render_plan

__all__ = ["BulkOperationsMixin"]

if TYPE_CHECKING:
    # What the mixin is composed with, for the type checker only (at runtime a mixin stays a plain class).
    from rest_framework.viewsets import ModelViewSet

    _ViewSet = ModelViewSet[Any]
else:
    _ViewSet = object


class BulkOperationsMixin(_ViewSet):
    """Bulk endpoints on a ``ModelViewSet``'s list URL; single-object requests behave exactly as in DRF.

    - ``GET /things/?ids=3,1,2``: those rows, in that order, with one query.
    - ``POST /things/`` with an array: bulk create; with ``?unique_fields=a,b`` an upsert.
    - ``PUT``/``PATCH /things/`` with an array of objects carrying ``id``: full/partial bulk update
      (with ``?unique_fields=`` an upsert matching on those fields instead).
    - ``DELETE /things/?ids=1,2`` or with an array of ids: bulk delete.
    """

    #: Item key holding a row's primary key in update/delete payloads (default: the model's pk name).
    bulk_id_field: str | None = None
    #: Methods the list URL gains, and the actions they run.
    bulk_list_actions: dict[str, str] = {"put": "bulk_update", "patch": "partial_bulk_update", "delete": "bulk_destroy"}

    schema = BulkSchema()

    @classmethod
    def as_view(cls, actions: dict[str, Any] | None = None, **initkwargs: Any) -> Any:
        """Add the bulk methods to the list route (the one mapping ``get: list`` or ``post: create``)."""
        if actions and (actions.get("get") == "list" or actions.get("post") == "create"):
            actions = {**cls.bulk_list_actions, **actions}  # an explicit mapping of the viewset wins
        return super().as_view(actions, **initkwargs)

    def get_object(self) -> Any:
        """DRF's ``get_object``; on the list route (no lookup in the URL) a 404 instead of an assertion.

        The list route now answers PUT, and DRF's OPTIONS metadata probes ``get_object()`` for PUT. A pk
        in the URL follows the id syntax (``ids.parse_id``); anything else is a 404.
        """
        url_kwarg = self.lookup_url_kwarg or self.lookup_field
        if url_kwarg not in self.kwargs:
            raise Http404
        pk_field = self._bulk_model()._meta.pk
        if self.lookup_field in ("pk", pk_field.name, pk_field.attname):
            # The bulk routes' id syntax here too: an Arabic-Indic "1" is not row 1; 10**20 is a 404, not a 500.
            try:
                self.kwargs[url_kwarg] = parse_id(pk_field, self.kwargs[url_kwarg])
            except InvalidId:
                raise Http404 from None
        return super().get_object()

    # -- actions --------------------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``?ids=`` reads those rows (in the order asked) with one query; otherwise DRF's ``list``."""
        if "ids" not in request.query_params:
            return super().list(request, *args, **kwargs)
        ids = self.get_bulk_ids(request)
        rows = {obj.pk: obj for obj in self.filter_queryset(self.get_queryset()).filter(pk__in=ids)}
        ordered = [rows[pk] for pk in ids if pk in rows]
        page = self.paginate_queryset(ordered)  # type: ignore[arg-type]  # DRF's paginators slice any sequence
        if page is not None:
            return self.get_paginated_response(self._rows_serializer(page).data)
        return Response(self._rows_serializer(ordered).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """An array body is a bulk create (or upsert); anything else is DRF's ``create``, unchanged."""
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        return self.bulk_create(request, *args, **kwargs)

    def bulk_create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``POST`` with an array: insert every item, or upsert with ``?unique_fields=``."""
        items = self.get_bulk_items(request)
        unique_fields = self.get_unique_fields(request)
        if len(items) > bulk_settings.SYNC_MAX_ITEMS:
            return self.bulk_too_large(request, items)
        if unique_fields:
            result = self.run_bulk("upsert", items, unique_fields=unique_fields, partial=False)
        else:
            result = self.run_bulk("insert", items)
        code = status.HTTP_201_CREATED if result.created_count else status.HTTP_200_OK
        return Response(self.bulk_response_data(request, result), status=code)

    def bulk_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``PUT`` with an array: full update of each item's row (or upsert with ``?unique_fields=``)."""
        return self._update(request, partial=False)

    def partial_bulk_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``PATCH`` with an array: partial update of each item's row (or upsert with ``?unique_fields=``)."""
        return self._update(request, partial=True)

    def bulk_destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``DELETE`` with ``?ids=`` or an array of ids: delete those rows."""
        if "ids" in request.query_params:
            items: list[Any] = self.get_bulk_ids(request)
        else:
            items = self.get_bulk_items(request, what="an array of ids, or ?ids=1,2,3")
        if len(items) > bulk_settings.SYNC_MAX_ITEMS:
            return self.bulk_too_large(request, items)
        result = self.run_bulk("delete", items)
        return Response({"deleted_count": result.deleted_count, "ids": [s.pk for s in result.succeeded]})

    def _update(self, request: Request, *, partial: bool) -> Response:
        items = self.get_bulk_items(request)
        unique_fields = self.get_unique_fields(request)
        if len(items) > bulk_settings.SYNC_MAX_ITEMS:
            return self.bulk_too_large(request, items)
        if unique_fields:
            result = self.run_bulk("upsert", items, unique_fields=unique_fields, partial=partial)
        else:
            result = self.run_bulk("update", items, partial=partial)
        return Response(self.bulk_response_data(request, result))

    # -- hooks (override like DRF's perform_create) ---------------------------------------------

    def perform_bulk_create(self, instances: builtins.list[models.Model]) -> None:
        """Insert ``instances`` (one ``bulk_create``); set fields the client does not send here."""
        operations.write_create(self._bulk_model(), instances)

    def perform_bulk_upsert(
        self,
        instances: builtins.list[models.Model],
        *,
        unique_fields: builtins.list[str],
        update_fields: builtins.list[str],
    ) -> None:
        """Insert or update ``instances`` matching on ``unique_fields`` (one ``bulk_create(update_conflicts=True)``)."""
        operations.write_upsert(self._bulk_model(), instances, unique_fields=unique_fields, update_fields=update_fields)

    def perform_bulk_update(self, instances: builtins.list[models.Model], fields: builtins.list[str]) -> None:
        """Write ``fields`` of ``instances`` (one ``bulk_update``)."""
        operations.write_update(self._bulk_model(), instances, fields)

    def perform_bulk_destroy(self, instances: builtins.list[models.Model]) -> None:
        """Delete ``instances`` (one queryset ``delete()``)."""
        operations.write_delete(self._bulk_model(), instances)

    # -- building blocks ------------------------------------------------------------------------

    def run_bulk(self, operation: operations.Operation, items: builtins.list[Any], **kwargs: Any) -> BatchResult:
        """Validate and write ``items`` all-or-nothing (a 400 listing every failing item otherwise)."""
        return operations.execute_batch(self, operation, items, all_or_nothing=True, **kwargs)

    def get_bulk_items(self, request: Request, what: str = "an array of objects") -> builtins.list[Any]:
        """The request's array body; 400 for anything else, 413 above ``BULK_DRF_MAX_RECORDS``."""
        data = request.data
        if not isinstance(data, list):
            kind = "an object" if isinstance(data, dict) else type(data).__name__
            if not data and not isinstance(data, (int, float)):
                kind = "an empty body"
            raise InvalidBulkPayload(f"Expected {what}, got {kind}.")
        if not data:
            raise InvalidBulkPayload("The array is empty: send at least one item.", code="empty")
        if len(data) > bulk_settings.MAX_RECORDS:
            raise PayloadTooLarge(
                f"This request carries {len(data)} items; BULK_DRF_MAX_RECORDS allows at most "
                f"{bulk_settings.MAX_RECORDS} in one request or job.",
                code="too_many_records",
            )
        return data

    def get_bulk_ids(self, request: Request) -> builtins.list[Any]:
        """The pks named by ``?ids=`` (comma-separated, or repeated), in order, without repeats."""
        raw = [part.strip() for value in request.query_params.getlist("ids") for part in value.split(",")]
        raw = [part for part in raw if part]
        if not raw:
            raise ValidationError({"ids": ["Give at least one id, e.g. ?ids=1,2,3."]}, code="required")
        if len(raw) > bulk_settings.MAX_IDS:
            raise ValidationError(
                {"ids": [f"{len(raw)} ids given; BULK_DRF_MAX_IDS allows at most {bulk_settings.MAX_IDS}."]},
                code="too_many_ids",
            )
        parse = id_parser(self._bulk_model()._meta.pk)
        ids, seen, bad = [], set(), []
        for value in raw:
            try:
                pk = parse(value)  # the strict id syntax: no "1_0", "+1", "\\u0661" or 2.9
            except InvalidId as exc:
                bad.append(exc.message)
                continue
            if pk not in seen:
                seen.add(pk)
                ids.append(pk)
        if bad:
            raise ValidationError({"ids": bad}, code="invalid")
        return ids

    def get_unique_fields(self, request: Request) -> builtins.list[str]:
        """``?unique_fields=a,b`` as a list (empty when absent); checked against the model's unique keys."""
        value = request.query_params.get("unique_fields")
        if value is None:
            return []
        fields = [name.strip() for name in value.split(",") if name.strip()]
        if not fields:
            raise ValidationError({"unique_fields": ["Name the fields, e.g. ?unique_fields=sku."]}, code="required")
        operations.upsert_key(self._bulk_model(), fields)  # raises a 400 naming unknown or non-unique fields
        return fields

    def bulk_too_large(self, request: Request, items: builtins.list[Any]) -> Response:
        """Hook for more items than ``BULK_DRF_SYNC_MAX_ITEMS``: a 413 here.

        ``BulkJobsMixin`` overrides it: a 202 background job with ``BULK_DRF_AUTO_ASYNC``, else a 413 naming
        the viewset's ``/bulk/`` URL.
        """
        raise PayloadTooLarge(
            f"This request carries {len(items)} items; synchronous requests take at most "
            f"{bulk_settings.SYNC_MAX_ITEMS} (BULK_DRF_SYNC_MAX_ITEMS).",
            code="too_many_items",
        )

    def handle_exception(self, exc: Exception) -> Response:
        """DRF's, with a too deeply nested JSON body answered 400 (``exceptions.as_parse_error``)."""
        return super().handle_exception(as_parse_error(exc))

    def bulk_response_data(self, request: Request, result: BatchResult) -> dict[str, Any]:
        """Counts, ids and the written rows (left out with ``Prefer: return=minimal``)."""
        data: dict[str, Any] = {
            "created_count": result.created_count,
            "updated_count": result.updated_count,
            "ids": [s.pk for s in result.succeeded],
        }
        if "return=minimal" not in request.headers.get("Prefer", ""):
            data["data"] = self._rows_serializer(result.instances).data
        return data

    def _rows_serializer(self, instances: builtins.list[Any]) -> Any:
        """``get_serializer(instances, many=True)`` rendering with the per-field plan (DRF's output)."""
        serializer = self.get_serializer(instances, many=True)
        # One serializer renders every row: a ListSerializer's child (or the serializer, when not a list).
        use_plain_views(getattr(serializer, "child", serializer))  # type: ignore[arg-type]  # a Serializer either way
        use_render_plan(serializer, self._bulk_model())
        return serializer

    def _bulk_model(self) -> type[models.Model]:
        return self.get_queryset().model
