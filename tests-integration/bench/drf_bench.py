"""bulk-drf's synchronous endpoints against DRF's own ways and django-bulk-drf, through the full DRF stack.

Run it with ``.venv/bin/hatch run bench:drf`` (or ``python tests-integration/bench/drf_bench.py`` in the
``bench`` environment); ``--repeats N``, ``--sizes 100,1000``, ``--quick`` for a smoke run. SQLite in
memory by default; with ``DATABASE_URL=postgres://...`` PostgreSQL, in its own database
``bulk_bench_drf``.

Every request goes through ``APIClient`` (routing, parsing, the viewset, the serializer, rendering).
Flavours, each on its own table with the same columns (``name``, unique ``sku``, ``quantity``):

- ``bulk-drf``: ``BulkOperationsMixin`` on a ``BulkSignalModelMixin`` model (no receivers connected);
  POST an array, PATCH an array of ``{"id", ...}``.
- ``DRF many=True``: a ``ModelViewSet`` whose ``create`` uses ``get_serializer(data=..., many=True)``
  (DRF's ``ListSerializer``: a UniqueValidator SELECT and an INSERT per item).
- ``DRF loop``: one single-object ``PATCH /items/{id}/`` request per item (DRF has no bulk update).
- ``django-bulk-drf``: its ``BulkModelViewSet`` + ``BulkModelSerializer``; POST an array, and its
  collection ``PUT`` (its bulk update by ``id``). Routed by hand: its ``BulkRouter`` would change DRF's
  routes for every router in the process.

Every update item carries the same fields (``id``, ``name``, ``sku``, ``quantity``) for every flavour.
Prints, per case, the median wall time, requests per second, items per second, the queries of one
request (counted in a separate, untimed run) and the ratio of each flavour's time to bulk-drf's.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from bench_project import ensure_database

BENCH_DB = "bulk_bench_drf"


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    parts = urlparse(url)
    ensure_database(url, BENCH_DB)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": BENCH_DB,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def configure() -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "bulk_signals_django",
            "bulk_drf",
        ],
        DATABASES={"default": _database()},
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
            "UNAUTHENTICATED_USER": None,
        },
        BULK_DRF_SYNC_MAX_ITEMS=100_000,
        BULK_DRF_MAX_IDS=100_000,
    )
    django.setup()


configure()

# Django is configured: the models, views and URLs of the bench.
from bulk_drf.mixins import BulkOperationsMixin  # noqa: E402
from bulk_signals_django import BulkSignalModelMixin  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import path  # noqa: E402
from django_bulk_drf import BulkModelSerializer, BulkModelViewSet  # noqa: E402
from rest_framework import serializers, status, viewsets  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.routers import SimpleRouter  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402


def _columns() -> dict[str, Any]:
    return {
        "name": models.CharField(max_length=100),
        "sku": models.CharField(max_length=32, unique=True),
        "quantity": models.IntegerField(default=0),
    }


def _model(name: str, bases: tuple[type, ...]) -> type[models.Model]:
    meta = type("Meta", (), {"app_label": "bench"})
    return type(name, bases, {"__module__": __name__, "Meta": meta, **_columns()})


OursItem = _model("OursItem", (BulkSignalModelMixin, models.Model))
DrfItem = _model("DrfItem", (models.Model,))
PeerItem = _model("PeerItem", (models.Model,))
FIELDS = ["id", "name", "sku", "quantity"]


def _serializer(model: type[models.Model], base: type = serializers.ModelSerializer) -> type:
    meta = type("Meta", (), {"model": model, "fields": FIELDS})
    return type(f"{model.__name__}Serializer", (base,), {"Meta": meta})


class OursViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = OursItem.objects.all()
    serializer_class = _serializer(OursItem)


class DrfViewSet(viewsets.ModelViewSet):
    """DRF as documented for lists: ``many=True`` on create, single-object updates."""

    queryset = DrfItem.objects.all()
    serializer_class = _serializer(DrfItem)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data, many=isinstance(request.data, list))
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class PeerViewSet(BulkModelViewSet):
    queryset = PeerItem.objects.all()
    serializer_class = _serializer(PeerItem, BulkModelSerializer)
    unique_fields = ["sku"]  # its default, ["id"], refuses new rows (they have no id yet)


router = SimpleRouter()
router.register("ours", OursViewSet, basename="ours")
router.register("drf", DrfViewSet, basename="drf")
_peer_actions = {"get": "list", "post": "create", "put": "update", "patch": "partial_update", "delete": "destroy"}
urlpatterns = [
    *router.urls,
    path("peer/", PeerViewSet.as_view(_peer_actions)),
    path("peer/<int:pk>/", PeerViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"})),
]


# -- the cases --------------------------------------------------------------------------------------


def items(n: int, tag: str = "") -> list[dict[str, Any]]:
    return [{"name": f"item {i}{tag}", "sku": f"SKU-{i:06d}", "quantity": i} for i in range(n)]


def reset(model: type[models.Model], n_existing: int) -> list[int]:
    # TRUNCATE on PostgreSQL: a DELETE leaves dead index entries that every later INSERT's unique check
    # walks until autovacuum runs, so each flavour's timings would drift with its own history.
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}")
    model._base_manager.bulk_create(model(**item) for item in items(n_existing))
    return list(model._base_manager.order_by("pk").values_list("pk", flat=True))


def update_payload(pks: list[int]) -> list[dict[str, Any]]:
    return [{"id": pk, **item} for pk, item in zip(pks, items(len(pks), " v2"), strict=True)]


Case = Callable[[APIClient, int], Callable[[], int]]  # setup -> run (returns the number of requests)


def create_case(model: type[models.Model], url: str) -> Case:
    def setup(client: APIClient, n: int) -> Callable[[], int]:
        reset(model, 0)
        payload = items(n)

        def run() -> int:
            response = client.post(url, payload, format="json")
            assert response.status_code == 201, (url, response.status_code, str(response.data)[:300])
            return 1

        return run

    return setup


def bulk_update_case(model: type[models.Model], url: str, method: str) -> Case:
    def setup(client: APIClient, n: int) -> Callable[[], int]:
        payload = update_payload(reset(model, n))

        def run() -> int:
            response = getattr(client, method)(url, payload, format="json")
            assert response.status_code == 200, (url, response.status_code, str(response.data)[:300])
            return 1

        return run

    return setup


def loop_update_case(model: type[models.Model], url: str) -> Case:
    def setup(client: APIClient, n: int) -> Callable[[], int]:
        payload = update_payload(reset(model, n))

        def run() -> int:
            for item in payload:
                response = client.patch(f"{url}{item['id']}/", item, format="json")
                assert response.status_code == 200, (url, response.status_code, str(response.data)[:300])
            return len(payload)

        return run

    return setup


CASES: dict[str, dict[str, Case]] = {
    "POST": {
        "bulk-drf": create_case(OursItem, "/ours/"),
        "DRF many=True": create_case(DrfItem, "/drf/"),
        "django-bulk-drf": create_case(PeerItem, "/peer/"),
    },
    "PATCH": {
        "bulk-drf": bulk_update_case(OursItem, "/ours/", "patch"),
        "DRF loop": loop_update_case(DrfItem, "/drf/"),
        "django-bulk-drf": bulk_update_case(PeerItem, "/peer/", "put"),
    },
}


def measure(cases: dict[str, Case], n: int, repeats: int) -> dict[str, tuple[float, int, int]]:
    """Per flavour: median seconds of ``repeats`` runs (fresh rows each), requests per run, queries of one run.

    Round-robin (every flavour once per round), so drift on a shared machine hits all flavours alike.
    """
    client = APIClient()
    times: dict[str, list[float]] = {flavour: [] for flavour in cases}
    requests: dict[str, int] = {}
    for _ in range(repeats):
        for flavour, case in cases.items():
            run = case(client, n)
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                requests[flavour] = run()
                times[flavour].append(time.perf_counter() - start)
            finally:
                gc.enable()
    results = {}
    for flavour, case in cases.items():
        run = case(client, n)
        with CaptureQueriesContext(connection) as queries:
            run()
        results[flavour] = (statistics.median(times[flavour]), requests[flavour], len(queries.captured_queries))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--quick", action="store_true", help="one repeat, 100 items")
    args = parser.parse_args()
    repeats, sizes = (1, [100]) if args.quick else (args.repeats, [int(s) for s in args.sizes.split(",")])

    with connection.schema_editor() as editor:
        for model in (OursItem, DrfItem, PeerItem):
            editor.execute(f"DROP TABLE IF EXISTS {model._meta.db_table}")
            editor.create_model(model)

    versions = ", ".join(
        f"{dist} {importlib.metadata.version(dist)}"
        for dist in ("django", "djangorestframework", "bulk-drf", "django-bulk-drf")
    )
    print(f"# bulk-drf sync endpoints, full DRF stack (APIClient) -- {connection.vendor}")
    print(f"Python {platform.python_version()}, {versions}; median of {repeats} run(s).\n")
    print("| case | items | flavour | median ms | requests/s | items/s | queries | time / bulk-drf |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, flavours in CASES.items():
        for n in sizes:
            results = measure(flavours, n, repeats)
            ours = results["bulk-drf"][0]
            for flavour, (seconds, requests, queries) in results.items():
                print(
                    f"| {name} | {n} | {flavour} | {seconds * 1000:.1f} | {requests / seconds:,.1f} | "
                    f"{n / seconds:,.0f} | {queries} | {seconds / ours:.2f}x |"
                )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
