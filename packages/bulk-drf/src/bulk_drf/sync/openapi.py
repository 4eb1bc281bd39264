"""OpenAPI for the bulk endpoints: arrays where the endpoints take arrays (drf-spectacular, ``bulk-drf[openapi]``).

``BulkOperationsMixin.schema`` is a ``BulkSchema``: like DRF's ``DefaultSchema`` it builds the
project's ``DEFAULT_SCHEMA_CLASS``; when that is drf-spectacular's ``AutoSchema`` (or a subclass),
it adds ``BulkAutoSchemaMixin`` on top, so ``PUT``/``PATCH`` document an array of items carrying
``id``, ``POST`` an object or an array, ``DELETE`` an optional array of ids (or ``?ids=``),
``?ids=``/``?unique_fields=`` appear as parameters, and the bulk responses and error bodies are
described. Without drf-spectacular nothing changes. ``bulk_drf.jobs.openapi`` layers the job routes'
mixins the same way (``schema_mixins``), from the parts built here (``spectacular_parts``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

from rest_framework.schemas.inspectors import DefaultSchema, ViewInspector

__all__ = ["ARRAY_ACTIONS", "BulkSchema", "spectacular_parts"]

# drf-spectacular's direction argument.
_Direction = Literal["request", "response"]

if TYPE_CHECKING:  # the AutoSchema the mixins go before, for the type checker (at runtime plain mixins)
    from drf_spectacular.openapi import AutoSchema as _AutoSchema
else:
    _AutoSchema = object

ARRAY_ACTIONS = {"bulk_update", "partial_bulk_update"}


class BulkSchema(DefaultSchema):
    """The project's schema class, with bulk awareness added when it is drf-spectacular's."""

    #: Prefix of the generated class's name (``BulkAutoSchema``).
    name_prefix = "Bulk"

    def schema_mixins(self, view: Any) -> tuple[type, ...]:
        """The drf-spectacular mixins put before the project's ``AutoSchema`` for ``view`` (first wins)."""
        return (spectacular_parts()["BulkAutoSchemaMixin"],)

    def __get__(self, instance: Any, owner: Any) -> Any:
        inspector = super().__get__(instance, owner)
        if instance is None or _auto_schema() is None:
            return inspector
        bulk_class = _bulk_class(type(inspector), self.schema_mixins(instance), self.name_prefix)  # type: ignore[arg-type]  # classes are hashable
        if bulk_class is None:
            return inspector
        bulk = bulk_class()
        bulk.view = instance
        return bulk


@cache
def _auto_schema() -> type | None:
    try:
        from drf_spectacular.openapi import AutoSchema  # the openapi extra: optional
    except ImportError:
        return None
    return AutoSchema


@cache
def _bulk_class(base: type[ViewInspector], mixins: tuple[type, ...], prefix: str) -> type[ViewInspector] | None:
    auto_schema = _auto_schema()
    if auto_schema is None or not issubclass(base, auto_schema) or issubclass(base, mixins[0]):
        return None
    return type(f"{prefix}{base.__name__}", (*mixins, base), {})


@cache
def spectacular_parts() -> dict[str, Any]:
    """drf-spectacular helpers and the sync schema mixin, built on first use (importing this module never needs
    drf-spectacular): ``view_model``, ``pk_schema``, ``item_errors``, ``too_large``, ``BulkAutoSchemaMixin``."""
    from drf_spectacular.plumbing import build_basic_type as _build_basic_type
    from drf_spectacular.plumbing import get_view_model
    from drf_spectacular.types import OpenApiTypes

    # Typed Optional: it is None only for OpenApiTypes.NONE, never asked for here.
    build_basic_type = cast("Callable[[Any], dict[str, Any]]", _build_basic_type)

    def view_model(view: Any) -> Any:
        # drf-spectacular's own lookup (``queryset``, then ``get_queryset()`` guarded): a viewset scoping
        # rows to ``request.user`` cannot run ``get_queryset()`` for an anonymous schema request.
        model = get_view_model(view, emit_warnings=False)
        if model is None:
            model = getattr(getattr(getattr(view, "serializer_class", None), "Meta", None), "model", None)
        return model

    def pk_schema(view: Any) -> dict[str, Any]:
        model = view_model(view)
        if model is None:
            return build_basic_type(OpenApiTypes.STR)
        internal = model._meta.pk.get_internal_type()
        if internal == "UUIDField":
            return build_basic_type(OpenApiTypes.UUID)
        if internal.endswith("AutoField") or internal.endswith("IntegerField"):
            return build_basic_type(OpenApiTypes.INT)
        return build_basic_type(OpenApiTypes.STR)

    item_errors, too_large = _error_schemas()
    return {
        "view_model": view_model,
        "pk_schema": pk_schema,
        "item_errors": item_errors,
        "too_large": too_large,
        "BulkAutoSchemaMixin": _bulk_auto_schema_mixin(view_model, pk_schema, item_errors, too_large),
    }


def _error_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The bodies of a 400 (every failing item) and of a 413 (too many items)."""
    from drf_spectacular.plumbing import build_array_type, build_object_type
    from drf_spectacular.plumbing import build_basic_type as _build_basic_type
    from drf_spectacular.types import OpenApiTypes

    # Typed Optional: it is None only for OpenApiTypes.NONE, never asked for here.
    build_basic_type = cast("Callable[[Any], dict[str, Any]]", _build_basic_type)

    item_errors = build_object_type(
        description="Nothing was written. Every failing item, by its index in the array.",
        properties={
            "errors": build_array_type(
                build_object_type(
                    properties={
                        "index": build_basic_type(OpenApiTypes.INT),
                        "errors": build_object_type(
                            description='Field name (or "non_field_errors") -> [{"message", "code"}]',
                            additionalProperties=build_array_type(
                                build_object_type(
                                    properties={
                                        "message": build_basic_type(OpenApiTypes.STR),
                                        "code": build_basic_type(OpenApiTypes.STR),
                                    }
                                )
                            ),
                        ),
                    },
                    required=["index", "errors"],
                )
            )
        },
    )
    too_large = build_object_type(
        description="More items than BULK_DRF_SYNC_MAX_ITEMS (use the /bulk/ endpoint) or BULK_DRF_MAX_RECORDS.",
        properties={"detail": build_basic_type(OpenApiTypes.STR)},
    )
    return item_errors, too_large


def _bulk_action(view: Any, method: str) -> str | None:
    """The view's action when this request is one of the array routes' (``None`` for any other)."""
    action: str | None = getattr(view, "action", None)
    if action in ARRAY_ACTIONS or (action, method) in {("create", "POST"), ("bulk_destroy", "DELETE")}:
        return action
    return None


def _bulk_auto_schema_mixin(
    view_model: Callable[[Any], Any],
    pk_schema: Callable[[Any], dict[str, Any]],
    item_errors: dict[str, Any],
    too_large: dict[str, Any],
) -> type:
    """The sync schema mixin, built on first use (its methods call drf-spectacular's helpers)."""
    from drf_spectacular.plumbing import (
        build_array_type,
        build_media_type_object,
        build_object_type,
        force_instance,
    )
    from drf_spectacular.plumbing import build_basic_type as _build_basic_type
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    # Typed Optional: it is None only for OpenApiTypes.NONE, never asked for here.
    build_basic_type = cast("Callable[[Any], dict[str, Any]]", _build_basic_type)

    class BulkAutoSchemaMixin(_AutoSchema):
        """drf-spectacular ``AutoSchema`` additions for ``BulkOperationsMixin`` viewsets."""

        view: Any
        method: str

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())
            action = getattr(self.view, "action", None)
            if action == "list":
                params.append(
                    OpenApiParameter(
                        "ids",
                        OpenApiTypes.STR,
                        description="Comma-separated primary keys, e.g. 3,1,2 (rows come back in this order).",
                    )
                )
            elif action == "bulk_destroy":
                params.append(
                    OpenApiParameter(
                        "ids",
                        OpenApiTypes.STR,
                        description="Comma-separated primary keys of the rows to delete, e.g. 3,1,2 "
                        "(or send them as a JSON array in the body).",
                    )
                )
            if action in ARRAY_ACTIONS or action == "create":
                params.append(
                    OpenApiParameter(
                        "unique_fields",
                        OpenApiTypes.STR,
                        description="Upsert an array: comma-separated fields of a unique key to match rows on.",
                    )
                )
            return params

        def _get_request_body(self, direction: _Direction = "request") -> Any:
            """drf-spectacular documents no body for DELETE; a bulk delete takes an array of ids."""
            if self.method == "DELETE" and _bulk_action(self.view, self.method) == "bulk_destroy":
                ids = {
                    **build_array_type(pk_schema(self.view)),
                    "minItems": 1,
                    "description": "Primary keys of the rows to delete (or ?ids=1,2,3 instead of a body).",
                }
                return {"content": {"application/json": build_media_type_object(ids)}, "required": False}
            return super()._get_request_body(direction)  # type: ignore[no-untyped-call]  # unannotated upstream

        def _get_request_for_media_type(self, serializer: Any, direction: _Direction = "request") -> Any:
            schema, required = super()._get_request_for_media_type(serializer, direction)  # type: ignore[no-untyped-call]  # unannotated upstream
            action = _bulk_action(self.view, self.method)
            if action is None or schema is None:
                return schema, required
            if action in ARRAY_ACTIONS:
                # The item is the serializer's object plus the id. Inlined, not ``allOf`` with the component:
                # there the id is ``readOnly`` (the serializer never writes it), and a required read-only
                # property is a body no client (and no generator) can send.
                model = view_model(self.view)
                id_key = getattr(self.view, "bulk_id_field", None) or (model._meta.pk.name if model else "id")
                if self.method == "PATCH":  # as drf-spectacular does above: a PATCH item is partial
                    serializer = copy.copy(force_instance(serializer))
                    serializer.partial = True
                component = self.resolve_serializer(serializer, direction)
                body = dict(component.schema or {})
                body["properties"] = {**body.get("properties", {}), id_key: pk_schema(self.view)}
                body["required"] = [*[name for name in body.get("required", []) if name != id_key], id_key]
                return {**build_array_type(body), "minItems": 1}, True
            return {"oneOf": [schema, {**build_array_type(schema), "minItems": 1}]}, required

        def get_response_serializers(self) -> Any:
            serializers = super().get_response_serializers()
            action = _bulk_action(self.view, self.method)
            if action is None:
                return serializers
            if action == "bulk_destroy":
                deleted = build_object_type(
                    properties={
                        "deleted_count": build_basic_type(OpenApiTypes.INT),
                        "ids": build_array_type(pk_schema(self.view)),
                    },
                    required=["deleted_count", "ids"],
                )
                return {200: deleted, 400: item_errors, 413: too_large}
            component = self.resolve_serializer(serializers, "response")  # type: ignore[arg-type]  # a bulk action has one
            written = build_object_type(
                properties={
                    "created_count": build_basic_type(OpenApiTypes.INT),
                    "updated_count": build_basic_type(OpenApiTypes.INT),
                    "ids": build_array_type(pk_schema(self.view)),
                    "data": build_array_type(component.ref),
                },
                required=["created_count", "updated_count", "ids"],
            )
            if action == "create":
                return {201: {"oneOf": [component.ref, written]}, 200: written, 400: item_errors, 413: too_large}
            return {200: written, 400: item_errors, 413: too_large}

    return BulkAutoSchemaMixin
