"""Schemathesis fuzzes the example API from its own OpenAPI schema (drf-spectacular), in process (WSGI).

Every operation of ``/api/`` (the ledger's sync endpoints, their ``bulk/`` and ``bulk/jobs/`` routes, the
``bulk-jobs`` resource) gets generated requests, valid and invalid (schemathesis' positive and negative
modes), each sent as one of two users (alice or bob, HTTP Basic). Checks, per request:

- no 5xx (``not_a_server_error``);
- a documented answer matches its schema (``response_schema_conformance``);
- a 4xx wrote nothing: every table the API writes is the same before and after.

``BULK_FUZZ_EXAMPLES`` examples per operation (``make test``: 25, about a minute, derandomized so CI is
repeatable; ``make fuzz``: 200, over 5,000 requests, a new random draw each run). The number of requests
sent is printed at the end.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
import schemathesis
from bulk_drf.jobs import export, processing
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.models import BulkJob, BulkJobDataChunk, BulkJobKeyClaim, BulkJobResult, BulkJobResultPage
from django.contrib.auth.models import User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ledger.models import Account, AuditEntry, Transaction
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = int(os.environ.get("BULK_FUZZ_EXAMPLES", "25"))
USERS = ("alice", "bob")
WRITTEN_TABLES = (
    Account,
    Transaction,
    AuditEntry,
    BulkJob,
    BulkJobDataChunk,
    BulkJobResult,
    BulkJobResultPage,
    BulkJobKeyClaim,
    User,
)

# Known ids the generated path parameters are swapped for half of the time: random integers and UUIDs
# would almost never name a row, and the interesting answers (another user's row, an Open job, a
# completed job's results) need real ones. Filled by the ``world`` fixture before the first request.
KNOWN: dict[str, list[Any]] = {"job": [], "account": [], "transaction": []}
SENT: dict[str, int] = {"requests": 0, "4xx": 0, "other": 0}


def _schema() -> Any:
    document = SchemaGenerator().get_schema(request=None, public=True)
    document["paths"].pop("/api/schema/", None)  # the schema view itself is drf-spectacular's
    return schemathesis.openapi.from_dict(document)


schema = _schema()


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    """Half of the time, an id the database holds (either user's): the other half stays as generated."""
    path = context.operation.path
    if "{id}" not in path or not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    kind = "job" if path.startswith("/api/bulk-jobs/") else "account" if "/accounts/" in path else "transaction"
    if not KNOWN[kind]:
        return st.just(path_parameters)
    known = st.sampled_from(KNOWN[kind]).map(lambda pk: {**path_parameters, "id": str(pk)})
    return st.one_of(st.just(path_parameters), known)


def _state() -> list[list[tuple[Any, ...]]]:
    return [list(model.objects.order_by("pk").values_list()) for model in WRITTEN_TABLES]


@pytest.fixture
def world(django_user_model: Any, settings: Any) -> dict[str, str]:
    """Two users with accounts, transactions and jobs in every state; their Basic auth headers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast Basic auth: tests only
    settings.BULK_DRF_CHUNK_SIZE = 50
    headers = {}
    for kind in KNOWN.values():
        kind.clear()
    for name in USERS:
        user = django_user_model.objects.create_user(name, password="pw")
        accounts = Account.objects.bulk_create(Account(owner=user, name=f"{name}-{i}") for i in range(3))
        rows = Transaction.objects.bulk_create(
            Transaction(owner=user, account=accounts[i % 3], reference=f"{name}-{i}", amount=i) for i in range(4)
        )
        open_job = jobs.create_job(owner=user, viewset="ledger.views.TransactionViewSet", operation="insert")
        records = [{"account": accounts[0].pk, "reference": f"{name}-job-{i}", "amount": "1.00"} for i in range(3)]
        done = jobs.create_job(owner=user, viewset="ledger.views.TransactionViewSet", operation="insert")
        jobs.add_records(done, records)
        jobs.transition(done, "UploadComplete")
        processing.run_job(done.pk)
        aborted = jobs.create_job(owner=user, viewset="ledger.views.AccountViewSet", operation="delete")
        jobs.add_records(aborted, [accounts[2].pk])
        jobs.abort(aborted)
        exported = jobs.create_job(
            owner=user,
            viewset="ledger.views.TransactionViewSet",
            operation="query",
            query={"filters": [["ordering", "-amount"]], "fields": [], "columns": ["id", "reference"], "ids": None},
        )
        jobs.transition(exported, "UploadComplete")
        export.run_export(exported.pk)
        dry = jobs.create_job(owner=user, viewset="ledger.views.TransactionViewSet", operation="insert", dry_run=True)
        jobs.add_records(dry, records)
        jobs.transition(dry, "UploadComplete")
        processing.run_job(dry.pk)
        KNOWN["job"] += [open_job.pk, done.pk, aborted.pk, exported.pk, dry.pk]
        KNOWN["account"] += [a.pk for a in accounts]
        KNOWN["transaction"] += [t.pk for t in rows]
        headers[name] = "Basic " + base64.b64encode(f"{name}:pw".encode()).decode()
    return headers


@pytest.fixture(scope="module")
def wsgi_app() -> Any:
    """Django's WSGI handler, in this process. As Django's test client does, requests keep the test's
    database connection (``close_old_connections`` would close it, and with it the test transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def summary() -> str:
    """One line for the end of the run (``conftest.pytest_terminal_summary`` prints it)."""
    return (
        f"fuzzer: {SENT['requests']} requests ({SENT['other']} 2xx/3xx, {SENT['4xx']} 4xx, no 5xx), "
        f"{EXAMPLES} examples per operation"
    )


@pytest.mark.django_db
@schema.parametrize()
@schema.given(user=st.sampled_from(USERS))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 50,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api(case: Any, user: str, world: dict[str, str], wsgi_app: Any) -> None:
    before = _state()
    response = case.call(app=wsgi_app, headers={"Authorization": world[user]})
    SENT["requests"] += 1
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if 400 <= response.status_code < 500:
        SENT["4xx"] += 1
        assert _state() == before, f"{case.method} {case.formatted_path} answered {response.status_code} and wrote"
    else:
        SENT["other"] += 1
