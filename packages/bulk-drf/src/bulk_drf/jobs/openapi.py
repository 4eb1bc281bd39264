"""OpenAPI of the job routes (drf-spectacular, ``bulk-drf[openapi]``), layered as ``sync.openapi`` layers its own.

- ``BulkJobRoutesSchema`` (``BulkJobsMixin.schema``): the ``bulk/`` and ``bulk/jobs/`` routes of a viewset,
  plus the synchronous mixin's documentation when the viewset is also a ``BulkOperationsMixin``.
- ``BulkJobSchema`` (``BulkJobViewSet.schema``): the job resource's actions' real bodies and answers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

from ..sync.mixins import BulkOperationsMixin
from ..sync.openapi import BulkSchema, spectacular_parts
from .serializers import BulkJobCreateSerializer, BulkJobSerializer, BulkJobStateSerializer

__all__ = ["JOB_ACTIONS", "BulkJobRoutesSchema", "BulkJobSchema"]

# drf-spectacular's direction argument.
_Direction = Literal["request", "response"]

if TYPE_CHECKING:  # the AutoSchema the mixins go before, for the type checker (at runtime plain mixins)
    from drf_spectacular.openapi import AutoSchema as _AutoSchema
else:
    _AutoSchema = object

JOB_ACTIONS = {"bulk", "bulk_patch", "bulk_put", "bulk_delete", "bulk_read"}  # one-shot /bulk/ routes


class BulkJobRoutesSchema(BulkSchema):
    """A ``BulkJobsMixin`` viewset's schema: the job routes, and the array routes when it has them."""

    def schema_mixins(self, view: Any) -> tuple[type, ...]:
        mixins = _job_mixins()
        if isinstance(view, BulkOperationsMixin):
            return (mixins["JobRoutesSchemaMixin"], *super().schema_mixins(view))
        return (mixins["JobRoutesSchemaMixin"],)


class BulkJobSchema(BulkSchema):
    """The job resource's schema (``/api/bulk-jobs/``): its actions' real bodies and answers."""

    name_prefix = "BulkJob"

    def schema_mixins(self, view: Any) -> tuple[type, ...]:
        return (_job_mixins()["BulkJobAutoSchemaMixin"],)


@cache
def _job_mixins() -> dict[str, type]:
    """Build the spectacular mixins on first use, so importing this module never needs drf-spectacular."""
    return {"JobRoutesSchemaMixin": _job_routes_mixin(), "BulkJobAutoSchemaMixin": _job_resource_mixin()}


def _record_bodies() -> tuple[dict[str, Any], dict[str, Any]]:
    """The two bodies a job's records come in: a JSON array of objects, and CSV."""
    from drf_spectacular.plumbing import build_array_type, build_object_type

    records = {
        **build_array_type(build_object_type(additionalProperties=True)),
        "minItems": 1,
        "description": "The records (objects as the target serializer takes them; with id to update).",
    }
    csv_records = {"type": "string", "description": "CSV: a header line naming the columns, a line per record."}
    return records, csv_records


def _job_routes_mixin() -> type:
    """The schema mixin of a ``BulkJobsMixin`` viewset's job routes."""
    from drf_spectacular.plumbing import build_array_type, build_media_type_object, build_object_type
    from drf_spectacular.plumbing import build_basic_type as _build_basic_type
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    # Typed Optional: it is None only for OpenApiTypes.NONE, never asked for here.
    build_basic_type = cast("Callable[[Any], dict[str, Any]]", _build_basic_type)

    parts = spectacular_parts()
    pk_schema, item_errors, too_large = parts["pk_schema"], parts["item_errors"], parts["too_large"]

    job_started = build_object_type(
        description=(
            "The job is created, its records stored, and it is queued: its status document (as GET status_url "
            "answers it); poll status_url."
        ),
        properties={
            "id": build_basic_type(OpenApiTypes.UUID),
            "state": build_basic_type(OpenApiTypes.STR),
            "operation": build_basic_type(OpenApiTypes.STR),
            "total_records": build_basic_type(OpenApiTypes.INT),
            "status_url": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "results_url": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "job_id": {**build_basic_type(OpenApiTypes.UUID), "deprecated": True, "description": "Use id."},
        },
        required=["id", "state", "operation", "total_records", "status_url", "results_url", "job_id"],
        additionalProperties=True,
    )
    records, csv_records = _record_bodies()
    ids_param = OpenApiParameter(
        "ids", OpenApiTypes.STR, description="Comma-separated primary keys, e.g. 3,1,2 (read and delete jobs)."
    )

    class JobRoutesSchemaMixin(_AutoSchema):
        """The ``bulk/`` (one-shot job) and ``bulk/jobs/`` (staged job) routes of a ``BulkJobsMixin`` viewset."""

        view: Any
        method: str

        def _job_action(self) -> str | None:
            action = getattr(self.view, "action", None)
            return action if action in JOB_ACTIONS or action == "bulk_jobs" else None

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())
            if self._job_action() in JOB_ACTIONS:
                if self.method in ("GET", "DELETE"):
                    params.append(ids_param)
                if self.method in ("POST", "PUT", "PATCH"):
                    params.append(
                        OpenApiParameter(
                            "unique_fields",
                            OpenApiTypes.STR,
                            description="An upsert job: comma-separated fields of a unique key to match rows on.",
                        )
                    )
            return params

        def _get_request_body(self, direction: _Direction = "request") -> Any:
            action = self._job_action()
            if action is None:
                return super()._get_request_body(direction)  # type: ignore[no-untyped-call]  # unannotated upstream
            if action == "bulk_jobs":
                component = self.resolve_serializer(BulkJobCreateSerializer, direction)
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
                return super().get_response_serializers()
            if action == "bulk_jobs":
                return {201: BulkJobSerializer}
            return {202: job_started, 400: item_errors, 413: too_large}

    return JobRoutesSchemaMixin


def _job_resource_mixin() -> type:
    """The schema mixin of ``BulkJobViewSet`` (the job resource)."""
    from drf_spectacular.plumbing import build_array_type, build_media_type_object, build_object_type
    from drf_spectacular.plumbing import build_basic_type as _build_basic_type
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    # Typed Optional: it is None only for OpenApiTypes.NONE, never asked for here.
    build_basic_type = cast("Callable[[Any], dict[str, Any]]", _build_basic_type)

    records, csv_records = _record_bodies()
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
                        "pk": {**build_basic_type(OpenApiTypes.STR), "nullable": True},
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
            "id": build_basic_type(OpenApiTypes.UUID),
            "aggregates": build_object_type(additionalProperties=True),
            "job_id": {**build_basic_type(OpenApiTypes.UUID), "deprecated": True, "description": "Use id."},
        },
        required=["id", "aggregates", "job_id"],
    )
    count_param = "A count: ASCII digits, at most 15 of them."

    class BulkJobAutoSchemaMixin(_AutoSchema):
        """drf-spectacular ``AutoSchema`` additions for ``BulkJobViewSet``: each action's real body and answer."""

        view: Any
        method: str

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())
            if getattr(self.view, "action", None) == "results":
                params += [
                    OpenApiParameter("kind", OpenApiTypes.STR, enum=["succeeded", "failed", "unprocessed"]),
                    OpenApiParameter("offset", OpenApiTypes.INT, description=count_param),
                    OpenApiParameter("limit", OpenApiTypes.INT, description=count_param + " At most 10000."),
                ]
            return params

        def _get_request_body(self, direction: _Direction = "request") -> Any:
            action = getattr(self.view, "action", None)
            if action == "partial_update":
                component = self.resolve_serializer(BulkJobStateSerializer, direction)
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
                    additionalProperties={
                        "oneOf": [
                            build_basic_type(OpenApiTypes.STR),
                            build_array_type(build_basic_type(OpenApiTypes.STR)),
                        ]
                    },
                )
                return {"content": {"application/json": build_media_type_object(spec)}, "required": True}
            return super()._get_request_body(direction)  # type: ignore[no-untyped-call]  # unannotated upstream

        def get_response_serializers(self) -> Any:
            action = getattr(self.view, "action", None)
            if action == "data":
                return {201: uploaded}
            if action == "results":
                return {200: page_of_results}
            if action == "aggregates":
                return {200: aggregates_answer}
            return super().get_response_serializers()

        def _get_response_for_code(self, serializer: Any, status_code: Any, *args: Any, **kwargs: Any) -> Any:
            response = super()._get_response_for_code(serializer, status_code, *args, **kwargs)  # type: ignore[no-untyped-call]  # unannotated upstream
            if getattr(self.view, "action", None) == "results" and str(status_code) == "200":
                content = response.get("content", {})
                content["text/csv"] = build_media_type_object(csv_records)
            return response

    return BulkJobAutoSchemaMixin
