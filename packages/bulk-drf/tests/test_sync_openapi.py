"""drf-spectacular documents the bulk endpoints as arrays (peers document single objects)."""

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


@pytest.fixture(scope="module")
def schema():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(generated)  # a valid OpenAPI 3 document
    return generated


def body(operation):
    return operation["requestBody"]["content"]["application/json"]["schema"]


def params(operation):
    return {p["name"] for p in operation.get("parameters", [])}


def test_patch_and_put_take_an_array_of_items_carrying_id(schema):
    for method, component in (("patch", "PatchedThing"), ("put", "Thing")):
        request = body(schema["paths"]["/things/"][method])
        assert request["type"] == "array"
        assert request["minItems"] == 1
        item = request["items"]
        # the component's object, inlined with the id writable and required (in the component, the id is
        # read-only: a required read-only property would be a body no client could send)
        stored = schema["components"]["schemas"][component]
        assert stored["properties"]["id"]["readOnly"] is True
        assert item["properties"] == {**stored["properties"], "id": {"type": "integer"}}
        assert item["required"] == [*(name for name in stored.get("required", []) if name != "id"), "id"]
        assert schema["paths"]["/things/"][method]["requestBody"]["required"] is True


def test_post_takes_an_object_or_an_array(schema):
    one, many = body(schema["paths"]["/things/"]["post"])["oneOf"]
    assert one == {"$ref": "#/components/schemas/Thing"}
    assert many["type"] == "array"
    assert many["items"] == one
    assert "unique_fields" in params(schema["paths"]["/things/"]["post"])


def test_responses_and_errors_are_described(schema):
    patch = schema["paths"]["/things/"]["patch"]["responses"]
    ok = patch["200"]["content"]["application/json"]["schema"]
    assert set(ok["properties"]) == {"created_count", "updated_count", "ids", "data"}
    assert ok["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Thing"}
    errors = patch["400"]["content"]["application/json"]["schema"]["properties"]["errors"]
    assert set(errors["items"]["required"]) == {"index", "errors"}
    assert "413" in patch


def test_delete_and_ids_parameters(schema):
    delete = schema["paths"]["/things/"]["delete"]
    assert "ids" in params(delete)
    assert set(delete["responses"]["200"]["content"]["application/json"]["schema"]["properties"]) == {
        "deleted_count",
        "ids",
    }
    assert "ids" in params(schema["paths"]["/things/"]["get"])


def test_delete_takes_an_array_of_ids_in_the_body_or_ids_in_the_query(schema):
    delete = schema["paths"]["/things/"]["delete"]
    assert delete["requestBody"]["required"] is False  # ?ids= works without a body
    assert body(delete) == {
        "type": "array",
        "items": {"type": "integer"},
        "minItems": 1,
        "description": "Primary keys of the rows to delete (or ?ids=1,2,3 instead of a body).",
    }
    (ids,) = [p for p in delete["parameters"] if p["name"] == "ids"]
    assert ids.get("required", False) is False
    # detail routes keep DRF's body-less single-object DELETE
    assert "requestBody" not in schema["paths"]["/things/{id}/"]["delete"]


def test_plain_viewsets_and_detail_routes_are_untouched(schema):
    assert set(schema["paths"]["/plain/"]) == {"get", "post"}
    assert body(schema["paths"]["/plain/"]["post"]) == {"$ref": "#/components/schemas/Thing"}
    assert body(schema["paths"]["/things/{id}/"]["patch"]) == {"$ref": "#/components/schemas/PatchedThing"}


def test_without_drf_spectacular_the_project_schema_class_is_used_unchanged():
    from rest_framework.schemas.openapi import AutoSchema as DRFAutoSchema
    from rest_framework.settings import api_settings

    from tests.views import ThingViewSet

    with override_settings(REST_FRAMEWORK={"DEFAULT_SCHEMA_CLASS": "rest_framework.schemas.openapi.AutoSchema"}):
        assert api_settings.DEFAULT_SCHEMA_CLASS is DRFAutoSchema
        assert type(ThingViewSet().schema) is DRFAutoSchema
    assert type(ThingViewSet().schema).__name__ == "BulkAutoSchema"


def test_the_job_routes_document_their_bodies_and_answers(schema):
    one_shot = schema["paths"]["/things/bulk/"]
    assert body(one_shot["post"])["type"] == "array" and "text/csv" in one_shot["post"]["requestBody"]["content"]
    assert set(one_shot["post"]["responses"]) == {"202", "400", "413"}
    assert "ids" in params(one_shot["get"]) and "requestBody" not in one_shot["get"]
    started = one_shot["post"]["responses"]["202"]["content"]["application/json"]["schema"]
    assert set(started["required"]) == {
        "id",
        "state",
        "operation",
        "dry_run",
        "total_records",
        "status_url",
        "results_url",
        "job_id",
    }
    assert started["properties"]["job_id"]["deprecated"] is True
    assert {"dry_run", "column_delimiter", "line_ending"} <= params(one_shot["post"])
    staged = schema["paths"]["/things/bulk/jobs/"]["post"]
    assert body(staged) == {"$ref": "#/components/schemas/BulkJobCreate"}
    assert staged["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BulkJob"
    }


@pytest.mark.urls("tests.jobs_urls")
def test_the_job_resource_documents_each_action():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(generated)
    paths = generated["paths"]
    assert body(paths["/api/bulk-jobs/{id}/"]["patch"]) == {"$ref": "#/components/schemas/BulkJobState"}
    assert set(paths["/api/bulk-jobs/{id}/data/"]["put"]["requestBody"]["content"]) == {"application/json", "text/csv"}
    uploaded = paths["/api/bulk-jobs/{id}/data/"]["put"]["responses"]["201"]["content"]["application/json"]
    assert set(uploaded["schema"]["required"]) == {"id", "state", "received", "total_records"}
    results = paths["/api/bulk-jobs/{id}/results/"]["get"]
    assert {"kind", "offset", "limit"} <= params(results)
    assert {"locator", "max_records", "format"} <= params(results)
    page = results["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(page["required"]) == {"count", "next", "results"}
    assert {"previous", "locator", "next_locator"} <= set(page["properties"])
    assert {"text/csv", "application/x-ndjson"} <= set(results["responses"]["200"]["content"])
    assert "Bulk-Locator" in results["responses"]["200"]["headers"]
    assert {"state", "operation", "created_after", "created_before"} <= params(paths["/api/bulk-jobs/"]["get"])
    # an export documents the viewset's own filters, the field selection, the ids and the CSV options
    export = paths["/searchable-gadgets/bulk/export/"]["post"]
    assert {"search", "ordering", "fields", "ids", "column_delimiter", "line_ending"} <= params(export)
    assert set(export["responses"]) == {"202", "413"} and export["requestBody"]["required"] is False
    listed = paths["/gadgets/bulk/jobs/"]["get"]
    assert {"state", "operation", "created_after", "created_before", "limit", "offset"} <= params(listed)
    assert listed["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["results"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/BulkJob"},
    }
    aggregates = paths["/api/bulk-jobs/{id}/aggregates/"]
    answer = aggregates["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(answer["required"]) == {"id", "aggregates", "job_id"}
    assert answer["properties"]["job_id"]["deprecated"] is True
    # a viewset whose get_queryset() needs a signed-in user: the anonymous schema request still works
    scoped = body(paths["/scoped-gadgets/"]["patch"])["items"]
    assert scoped["properties"]["id"] == {"type": "integer"} and "id" in scoped["required"]
