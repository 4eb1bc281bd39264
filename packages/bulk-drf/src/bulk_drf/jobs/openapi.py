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
from .csv_options import ColumnDelimiter, LineEnding
from .serializers import BulkJobCreateSerializer, BulkJobSerializer, BulkJobStateSerializer
from .states import JobOperation, JobState

__all__ = ["JOB_ACTIONS", "BulkJobRoutesSchema", "BulkJobSchema"]

# drf-spectacular's direction argument.
_Direction = Literal["request", "response"]

if TYPE_CHECKING:  # the AutoSchema the mixins go before, for the type checker (at runtime plain mixins)
    from drf_spectacular.openapi import AutoSchema as _AutoSchema
else:
    _AutoSchema = object

JOB_ACTIONS = {"bulk", "bulk_patch", "bulk_put", "bulk_delete", "bulk_read"}  # one-shot /bulk/ routes
_OTHER_JOB_ACTIONS = {"bulk_jobs", "bulk_jobs_list", "bulk_export"}


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


def _csv_params() -> list[Any]:
    """``?column_delimiter=`` and ``?line_ending=``: a job's CSV options."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter(
            "column_delimiter",
            OpenApiTypes.STR,
            enum=ColumnDelimiter.values,
            description="The job's CSV cell separator (uploads and downloads); default COMMA.",
        ),
        OpenApiParameter(
            "line_ending",
            OpenApiTypes.STR,
            enum=LineEnding.values,
            description="The line ending of the job's CSV downloads; default CRLF.",
        ),
    ]


def _list_params() -> list[Any]:
    """The filters of a job list (``jobs.listing``)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter(
            "state", OpenApiTypes.STR, description=f"Comma-separated states: {', '.join(JobState.values)}."
        ),
        OpenApiParameter(
            "operation", OpenApiTypes.STR, description=f"Comma-separated operations: {', '.join(JobOperation.values)}."
        ),
        OpenApiParameter(
            "created_after", OpenApiTypes.STR, description="ISO 8601 date-time or date; jobs created then or later."
        ),
        OpenApiParameter(
            "created_before", OpenApiTypes.STR, description="ISO 8601 date-time or date; jobs created before then."
        ),
    ]


def _export_parts() -> tuple[list[Any], dict[str, Any]]:
    """An export's query parameters and its optional body."""
    from drf_spectacular.plumbing import build_array_type, build_basic_type, build_object_type
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    export_params = [
        OpenApiParameter("fields", OpenApiTypes.STR, description="Comma-separated fields to export (default: all)."),
        OpenApiParameter("ids", OpenApiTypes.STR, description="Comma-separated primary keys: only those rows."),
        *_csv_params(),
    ]
    export_body = build_object_type(
        description="Optional: each key may be a query parameter instead.",
        properties={
            "fields": build_array_type(build_basic_type(OpenApiTypes.STR)),
            "ids": {
                **build_array_type({"oneOf": [build_basic_type(OpenApiTypes.STR), build_basic_type(OpenApiTypes.INT)]}),
                "minItems": 1,
            },
            "column_delimiter": {"type": "string", "enum": ColumnDelimiter.values},
            "line_ending": {"type": "string", "enum": LineEnding.values},
        },
    )
    return export_params, export_body


def _job_list_answer() -> dict[str, Any]:
    """A page of a job list."""
    from drf_spectacular.plumbing import build_array_type, build_basic_type, build_object_type
    from drf_spectacular.types import OpenApiTypes

    return build_object_type(
        properties={
            "count": build_basic_type(OpenApiTypes.INT),
            "next": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "previous": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "results": build_array_type({"$ref": "#/components/schemas/BulkJob"}),
        },
        required=["count", "next", "previous", "results"],
    )


def _job_route_params() -> Callable[[str | None, str], list[Any]]:
    """``params(action, method)``: the query parameters a job route adds to the viewset's."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    csv_params, list_params = _csv_params(), _list_params()
    export_params = _export_parts()[0]
    dry_run_param = OpenApiParameter(
        "dry_run", OpenApiTypes.BOOL, description="Validate every record and write none (results as usual)."
    )
    page_params = [
        OpenApiParameter("limit", OpenApiTypes.INT, description="Jobs per page (1-500, default 50)."),
        OpenApiParameter("offset", OpenApiTypes.INT, description="Jobs to skip."),
    ]
    ids_param = OpenApiParameter(
        "ids", OpenApiTypes.STR, description="Comma-separated primary keys, e.g. 3,1,2 (read and delete jobs)."
    )
    unique_fields_param = OpenApiParameter(
        "unique_fields",
        OpenApiTypes.STR,
        description="An upsert job: comma-separated fields of a unique key to match rows on.",
    )

    def params(action: str | None, method: str) -> list[Any]:
        if action == "bulk_export":
            return list(export_params)
        if action == "bulk_jobs_list":
            return list_params + page_params
        if action not in JOB_ACTIONS:
            return []
        added = [ids_param] if method in ("GET", "DELETE") else []
        if method != "GET":
            added.append(dry_run_param)
        added += csv_params
        if method in ("POST", "PUT", "PATCH"):
            added.append(unique_fields_param)
        return added

    return params


def _job_routes_mixin() -> type:
    """The schema mixin of a ``BulkJobsMixin`` viewset's job routes."""
    from drf_spectacular.plumbing import build_array_type, build_media_type_object, build_object_type
    from drf_spectacular.plumbing import build_basic_type as _build_basic_type
    from drf_spectacular.types import OpenApiTypes

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
            "dry_run": build_basic_type(OpenApiTypes.BOOL),
            "total_records": build_basic_type(OpenApiTypes.INT),
            "status_url": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "results_url": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "job_id": {**build_basic_type(OpenApiTypes.UUID), "deprecated": True, "description": "Use id."},
        },
        required=["id", "state", "operation", "dry_run", "total_records", "status_url", "results_url", "job_id"],
        additionalProperties=True,
    )
    records, csv_records = _record_bodies()
    export_body = _export_parts()[1]
    job_list = _job_list_answer()
    route_params = _job_route_params()

    class JobRoutesSchemaMixin(_AutoSchema):
        """The ``bulk/`` (one-shot job) and ``bulk/jobs/`` (staged job) routes of a ``BulkJobsMixin`` viewset."""

        view: Any
        method: str

        def _job_action(self) -> str | None:
            action = getattr(self.view, "action", None)
            return action if action in JOB_ACTIONS or action in _OTHER_JOB_ACTIONS else None

        def get_filter_backends(self) -> list[Any]:
            action = self._job_action()
            if action is None:
                return super().get_filter_backends()  # type: ignore[misc,no-any-return]
            # An export filters as the list does; the other job routes take no filter parameters.
            return list(getattr(self.view, "filter_backends", [])) if action == "bulk_export" else []

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())  # type: ignore[misc]
            return params + route_params(self._job_action(), self.method)

        def _get_request_body(self, direction: _Direction = "request") -> Any:
            action = self._job_action()
            if action is None:
                return super()._get_request_body(direction)  # type: ignore[no-untyped-call]  # unannotated upstream
            if action == "bulk_jobs":
                component = self.resolve_serializer(BulkJobCreateSerializer, direction)
                return {"content": {"application/json": build_media_type_object(component.ref)}, "required": True}
            if action == "bulk_export":
                return {"content": {"application/json": build_media_type_object(export_body)}, "required": False}
            if self.method == "GET":  # bulk_jobs_list too
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
            answers = {
                "bulk_jobs": {201: BulkJobSerializer},
                "bulk_jobs_list": {200: job_list},
                "bulk_export": {202: job_started, 413: too_large},
            }
            return answers.get(action, {202: job_started, 400: item_errors, 413: too_large})

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
    list_params = _list_params()
    page_of_results = build_object_type(
        description=(
            "By offset (ingest jobs' JSON without locator/max_records): count, next, previous, results. By locator: "
            "count, locator, next_locator (also the Bulk-Locator header; null at the end), next, results."
        ),
        properties={
            "count": build_basic_type(OpenApiTypes.INT),
            "next": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "previous": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
            "locator": {**build_basic_type(OpenApiTypes.STR), "nullable": True},
            "next_locator": {**build_basic_type(OpenApiTypes.STR), "nullable": True},
            "results": build_array_type(
                build_object_type(
                    description=(
                        "succeeded/failed: index, pk, created, errors, data; unprocessed: index, data; "
                        "a query job's succeeded: the exported rows."
                    ),
                    properties={
                        "index": build_basic_type(OpenApiTypes.INT),
                        "pk": {**build_basic_type(OpenApiTypes.STR), "nullable": True},
                        "created": build_basic_type(OpenApiTypes.BOOL),
                        "errors": {"nullable": True},
                        "data": {"nullable": True},
                    },
                    additionalProperties=True,
                )
            ),
        },
        required=["count", "next", "results"],
    )
    ndjson_rows = {"type": "string", "description": "One JSON document per line."}
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
            params = list(super().get_override_parameters())  # type: ignore[misc]
            action = getattr(self.view, "action", None)
            if action == "results":
                params += [
                    OpenApiParameter("kind", OpenApiTypes.STR, enum=["succeeded", "failed", "unprocessed"]),
                    OpenApiParameter("offset", OpenApiTypes.INT, description=count_param),
                    OpenApiParameter("limit", OpenApiTypes.INT, description=count_param + " At most 10000."),
                    OpenApiParameter(
                        "locator", OpenApiTypes.STR, description="Where the page starts: a next_locator handed out."
                    ),
                    OpenApiParameter(
                        "max_records", OpenApiTypes.INT, description=count_param + " Rows in the page (default: all)."
                    ),
                    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "ndjson"]),
                ]
            elif action == "list":
                params += list_params
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
                content["application/x-ndjson"] = build_media_type_object(ndjson_rows)
                response["headers"] = {
                    "Bulk-Locator": {
                        "schema": build_basic_type(OpenApiTypes.STR),
                        "description": "The locator of the next page, or null (pages by locator).",
                    }
                }
            return response

    return BulkJobAutoSchemaMixin
