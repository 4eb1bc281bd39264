"""OpenAPI for the bulk endpoints: arrays where the endpoints take arrays (drf-spectacular, ``bulk-drf[openapi]``).

``BulkOperationsMixin.schema`` is a ``BulkSchema``: like DRF's ``DefaultSchema`` it builds the
project's ``DEFAULT_SCHEMA_CLASS``; when that is drf-spectacular's ``AutoSchema`` (or a subclass),
it adds ``BulkAutoSchemaMixin`` on top, so ``PUT``/``PATCH`` document an array of items carrying
``id``, ``POST`` an object or an array, ``DELETE`` an optional array of ids (or ``?ids=``),
``?ids=``/``?unique_fields=`` appear as parameters, and the bulk responses and error bodies are
described. Without drf-spectacular nothing changes.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from rest_framework.schemas.inspectors import DefaultSchema, ViewInspector

__all__ = ["BulkJobSchema", "BulkSchema"]

ARRAY_ACTIONS = {"bulk_update", "partial_bulk_update"}
JOB_ACTIONS = {"bulk", "bulk_patch", "bulk_put", "bulk_delete", "bulk_read"}  # one-shot /bulk/ routes


class BulkSchema(DefaultSchema):
    """The project's schema class, with bulk awareness added when it is drf-spectacular's."""

    mixin = "BulkAutoSchemaMixin"

    def __get__(self, instance: Any, owner: Any) -> Any:
        inspector = super().__get__(instance, owner)
        if instance is None:
            return inspector
        bulk_class = _bulk_class(type(inspector), self.mixin)
        if bulk_class is None:
            return inspector
        bulk = bulk_class()
        bulk.view = instance
        return bulk


class BulkJobSchema(BulkSchema):
    """The job resource's schema (``/api/bulk-jobs/``): its actions' real bodies and answers."""

    mixin = "BulkJobAutoSchemaMixin"


@cache
def _bulk_class(base: type[ViewInspector], mixin_name: str = "BulkAutoSchemaMixin") -> type[ViewInspector] | None:
    try:
        from drf_spectacular.openapi import AutoSchema
    except ImportError:  # the openapi extra is not installed
        return None
    mixin = _mixins()[mixin_name]
    if not issubclass(base, AutoSchema) or issubclass(base, mixin):
        return None
    return type(f"{mixin_name.removesuffix('AutoSchemaMixin')}{base.__name__}", (mixin, base), {})


@cache
def _mixins() -> dict[str, type]:
    """Build the spectacular mixins on first use, so importing this module never needs drf-spectacular."""
    from drf_spectacular.plumbing import (
        build_array_type,
        build_basic_type,
        build_media_type_object,
        build_object_type,
        force_instance,
        get_view_model,
    )
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    from .serializers import BulkJobCreateSerializer, BulkJobSerializer, BulkJobStateSerializer

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

    class BulkAutoSchemaMixin:
        """drf-spectacular ``AutoSchema`` additions for ``BulkOperationsMixin`` viewsets."""

        view: Any
        method: str

        def _bulk_action(self) -> str | None:
            action = getattr(self.view, "action", None)
            if action in ARRAY_ACTIONS or (action, self.method) in {("create", "POST"), ("bulk_destroy", "DELETE")}:
                return action
            return None

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())  # type: ignore[misc]
            action = getattr(self.view, "action", None)
            if action == "list":
                params.append(
                    OpenApiParameter(
                        "ids", OpenApiTypes.STR,
                        description="Comma-separated primary keys, e.g. 3,1,2 (rows come back in this order).",
                    )
                )
            elif action == "bulk_destroy":
                params.append(
                    OpenApiParameter(
                        "ids", OpenApiTypes.STR,
                        description="Comma-separated primary keys of the rows to delete, e.g. 3,1,2 "
                        "(or send them as a JSON array in the body).",
                    )
                )
            if action in ARRAY_ACTIONS or action == "create":
                params.append(
                    OpenApiParameter(
                        "unique_fields", OpenApiTypes.STR,
                        description="Upsert an array: comma-separated fields of a unique key to match rows on.",
                    )
                )
            return params

        def _get_request_body(self, direction: str = "request") -> Any:
            """drf-spectacular documents no body for DELETE; a bulk delete takes an array of ids."""
            if self.method == "DELETE" and self._bulk_action() == "bulk_destroy":
                ids = {
                    **build_array_type(pk_schema(self.view)),
                    "minItems": 1,
                    "description": "Primary keys of the rows to delete (or ?ids=1,2,3 instead of a body).",
                }
                return {"content": {"application/json": build_media_type_object(ids)}, "required": False}
            return super()._get_request_body(direction)  # type: ignore[misc]

        def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
            schema, required = super()._get_request_for_media_type(serializer, direction)  # type: ignore[misc]
            action = self._bulk_action()
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
                component = self.resolve_serializer(serializer, direction)  # type: ignore[attr-defined]
                body = dict(component.schema or {})
                body["properties"] = {**body.get("properties", {}), id_key: pk_schema(self.view)}
                body["required"] = [*[name for name in body.get("required", []) if name != id_key], id_key]
                return {**build_array_type(body), "minItems": 1}, True
            return {"oneOf": [schema, {**build_array_type(schema), "minItems": 1}]}, required

        def get_response_serializers(self) -> Any:
            serializers = super().get_response_serializers()  # type: ignore[misc]
            action = self._bulk_action()
            if action is None:
                return serializers
            if action == "bulk_destroy":
                deleted = build_object_type(
                    properties={"deleted_count": build_basic_type(OpenApiTypes.INT),
                                "ids": build_array_type(pk_schema(self.view))},
                    required=["deleted_count", "ids"],
                )
                return {200: deleted, 400: item_errors, 413: too_large}
            component = self.resolve_serializer(serializers, "response")  # type: ignore[attr-defined]
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

    job_started = build_object_type(
        description="The job is created, its records stored, and it is queued; poll status_url.",
        properties={
            "job_id": build_basic_type(OpenApiTypes.UUID),
            "state": build_basic_type(OpenApiTypes.STR),
            "operation": build_basic_type(OpenApiTypes.STR),
            "total_records": build_basic_type(OpenApiTypes.INT),
            "status_url": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
        },
        required=["job_id", "state", "operation", "total_records", "status_url"],
    )
    records = {
        **build_array_type(build_object_type(additionalProperties=True)),
        "minItems": 1,
        "description": "The records (objects as the target serializer takes them; with id to update).",
    }
    csv_records = {"type": "string", "description": "CSV: a header line naming the columns, a line per record."}
    ids_param = OpenApiParameter(
        "ids", OpenApiTypes.STR, description="Comma-separated primary keys, e.g. 3,1,2 (read and delete jobs)."
    )

    class JobRoutesSchemaMixin:
        """The ``bulk/`` (one-shot job) and ``bulk/jobs/`` (staged job) routes of a ``BulkOperationsMixin`` viewset."""

        view: Any
        method: str

        def _job_action(self) -> str | None:
            action = getattr(self.view, "action", None)
            return action if action in JOB_ACTIONS or action == "bulk_jobs" else None

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())  # type: ignore[misc]
            if self._job_action() in JOB_ACTIONS:
                if self.method in ("GET", "DELETE"):
                    params.append(ids_param)
                if self.method in ("POST", "PUT", "PATCH"):
                    params.append(OpenApiParameter(
                        "unique_fields", OpenApiTypes.STR,
                        description="An upsert job: comma-separated fields of a unique key to match rows on.",
                    ))
            return params

        def _get_request_body(self, direction: str = "request") -> Any:
            action = self._job_action()
            if action is None:
                return super()._get_request_body(direction)  # type: ignore[misc]
            if action == "bulk_jobs":
                component = self.resolve_serializer(BulkJobCreateSerializer, direction)  # type: ignore[attr-defined]
                return {"content": {"application/json": build_media_type_object(component.ref)}, "required": True}
            if self.method == "GET":
                return None
            if self.method == "DELETE":
                ids = {**build_array_type(pk_schema(self.view)), "minItems": 1}
                return {"content": {"application/json": build_media_type_object(ids)}, "required": False}
            return {
                "content": {
                    "application/json": build_media_type_object(records),
                    "text/csv": build_media_type_object(csv_records),
                },
                "required": True,
            }

        def get_response_serializers(self) -> Any:
            action = self._job_action()
            if action is None:
                return super().get_response_serializers()  # type: ignore[misc]
            if action == "bulk_jobs":
                return {201: BulkJobSerializer}
            return {202: job_started, 400: item_errors, 413: too_large}

    class BulkAndJobRoutesSchemaMixin(JobRoutesSchemaMixin, BulkAutoSchemaMixin):
        """Both: the list route's bulk methods and the job routes."""

    page_of_results = build_object_type(
        properties={
            "count": build_basic_type(OpenApiTypes.INT),
            "next": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "previous": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "results": build_array_type(
                build_object_type(
                    description="succeeded/failed: index, pk, created, errors, data; unprocessed: index, data.",
                    properties={
                        "index": build_basic_type(OpenApiTypes.INT),
                        "pk": build_basic_type(OpenApiTypes.STR),
                        "created": build_basic_type(OpenApiTypes.BOOL),
                        "errors": {"nullable": True},
                        "data": {"nullable": True},
                    },
                    required=["index"],
                )
            ),
        },
        required=["count", "next", "previous", "results"],
    )
    uploaded = build_object_type(
        properties={
            "id": build_basic_type(OpenApiTypes.UUID),
            "state": build_basic_type(OpenApiTypes.STR),
            "received": build_basic_type(OpenApiTypes.INT),
            "total_records": build_basic_type(OpenApiTypes.INT),
        },
        required=["id", "state", "received", "total_records"],
    )
    aggregates_answer = build_object_type(
        properties={
            "job_id": build_basic_type(OpenApiTypes.UUID),
            "aggregates": build_object_type(additionalProperties=True),
        },
        required=["job_id", "aggregates"],
    )
    count_param = "A count: ASCII digits, at most 15 of them."

    class BulkJobAutoSchemaMixin:
        """drf-spectacular ``AutoSchema`` additions for ``BulkJobViewSet``: each action's real body and answer."""

        view: Any
        method: str

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())  # type: ignore[misc]
            if getattr(self.view, "action", None) == "results":
                params += [
                    OpenApiParameter("kind", OpenApiTypes.STR, enum=["succeeded", "failed", "unprocessed"]),
                    OpenApiParameter("offset", OpenApiTypes.INT, description=count_param),
                    OpenApiParameter("limit", OpenApiTypes.INT, description=count_param + " At most 10000."),
                ]
            return params

        def _get_request_body(self, direction: str = "request") -> Any:
            action = getattr(self.view, "action", None)
            if action == "partial_update":
                component = self.resolve_serializer(BulkJobStateSerializer, direction)  # type: ignore[attr-defined]
                return {"content": {"application/json": build_media_type_object(component.ref)}, "required": True}
            if action == "data":
                return {
                    "content": {
                        "application/json": build_media_type_object(records),
                        "text/csv": build_media_type_object(csv_records),
                    },
                    "required": True,
                }
            if action == "aggregates":
                if self.method != "POST":
                    return None
                spec = build_object_type(
                    description='{"sum": ["amount"], "count": ["*"], "custom": ["name"]}',
                    additionalProperties={"oneOf": [build_basic_type(OpenApiTypes.STR),
                                                    build_array_type(build_basic_type(OpenApiTypes.STR))]},
                )
                return {"content": {"application/json": build_media_type_object(spec)}, "required": True}
            return super()._get_request_body(direction)  # type: ignore[misc]

        def get_response_serializers(self) -> Any:
            action = getattr(self.view, "action", None)
            if action == "data":
                return {201: uploaded}
            if action == "results":
                return {200: page_of_results}
            if action == "aggregates":
                return {200: aggregates_answer}
            return super().get_response_serializers()  # type: ignore[misc]

        def _get_response_for_code(self, serializer: Any, status_code: Any, *args: Any, **kwargs: Any) -> Any:
            response = super()._get_response_for_code(serializer, status_code, *args, **kwargs)  # type: ignore[misc]
            if getattr(self.view, "action", None) == "results" and str(status_code) == "200":
                content = response.get("content", {})
                content["text/csv"] = build_media_type_object(csv_records)
            return response

    return {
        "BulkAutoSchemaMixin": BulkAndJobRoutesSchemaMixin,
        "BulkJobAutoSchemaMixin": BulkJobAutoSchemaMixin,
    }
