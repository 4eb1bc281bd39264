"""The job admin (needs ``django.contrib.admin``, which only the example project installs)."""

from __future__ import annotations

from typing import Any

import pytest
from bulk_drf.models import BulkJob
from django.contrib.auth.models import User
from django.utils import timezone


@pytest.mark.django_db
def test_the_admin_shows_results_purged_at_read_only(client: Any) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    purged_at = timezone.now()
    job = BulkJob.objects.create(
        owner=admin,
        viewset="ledger.views.TransactionViewSet",
        operation="insert",
        state="JobComplete",
        completed_at=purged_at,
        results_purged_at=purged_at,
    )
    client.force_login(admin)
    listing = client.get("/admin/bulk_drf/bulkjob/")
    assert listing.status_code == 200 and b"column-results_purged_at" in listing.content
    page = client.get(f"/admin/bulk_drf/bulkjob/{job.pk}/change/")
    assert page.status_code == 200
    assert b'<div class="readonly">' in page.content and b"Results purged at" in page.content
    assert b'name="results_purged_at' not in page.content  # read-only: no input


@pytest.mark.django_db
def test_a_job_deleted_in_the_admin_is_gone_from_the_api(client: Any) -> None:
    """Its cached status went with it (it used to answer 200 from the cache for a day)."""
    from bulk_drf.jobs import progress
    from rest_framework.test import APIClient

    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    job = BulkJob.objects.create(owner=admin, viewset="ledger.views.TransactionViewSet", operation="insert")
    api = APIClient()
    api.force_authenticate(admin)
    assert api.get(f"/api/bulk-jobs/{job.pk}/").status_code == 200  # now cached
    assert progress.get_status(job.pk) is not None
    client.force_login(admin)
    deleted = client.post(f"/admin/bulk_drf/bulkjob/{job.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302, deleted.content[:300]
    assert not BulkJob.objects.filter(pk=job.pk).exists()
    assert api.get(f"/api/bulk-jobs/{job.pk}/").status_code == 404
