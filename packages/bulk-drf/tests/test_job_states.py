"""The job state machine: the transition table, the one place that applies it, its signal and its 409."""

from __future__ import annotations

from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.jobs import progress
from bulk_drf.jobs.errors import IllegalTransition
from bulk_drf.jobs.http import as_api_exception
from bulk_drf.jobs.states import FINAL_STATES, TRANSITIONS, JobState, can_transition
from bulk_drf.models import BulkJob
from bulk_drf.signals import job_state_changed
from bulk_signals_core.testing import record
from django.db import transaction

from tests import jobs_fixtures
from tests.jobs_fixtures import GADGET_VIEWSET, client_for, gadgets

alice = jobs_fixtures.alice

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.jobs_urls")]

LEGAL = {
    ("Open", "UploadComplete"),
    ("Open", "Aborted"),
    ("UploadComplete", "InProgress"),
    ("UploadComplete", "Aborted"),
    ("UploadComplete", "Failed"),
    ("InProgress", "JobComplete"),
    ("InProgress", "Failed"),
    ("InProgress", "Aborted"),
}


@pytest.mark.parametrize("from_state", JobState.values)
@pytest.mark.parametrize("to_state", JobState.values)
def test_transition_table_is_salesforce_bulk_2(from_state: str, to_state: str) -> None:
    assert can_transition(from_state, to_state) is ((from_state, to_state) in LEGAL)


def test_final_states_have_no_way_out() -> None:
    assert {"JobComplete", "Failed", "Aborted"} == FINAL_STATES
    assert all(not TRANSITIONS[state] for state in FINAL_STATES)


def _job(owner: Any) -> BulkJob:
    return jobs.create_job(owner=owner, viewset=GADGET_VIEWSET, operation="insert")


def test_every_transition_is_stamped_and_signalled(alice: Any, django_capture_on_commit_callbacks: Any) -> None:
    with record(job_state_changed) as seen, django_capture_on_commit_callbacks(execute=True):
        job = _job(alice)
        jobs.transition(job, JobState.UPLOAD_COMPLETE)
        jobs.transition(job, JobState.IN_PROGRESS)
        jobs.transition(job, JobState.FAILED, error_message="database went away")
    job.refresh_from_db()
    assert [(p.from_state, p.to_state) for _, p in seen.calls] == [
        ("", "Open"),
        ("Open", "UploadComplete"),
        ("UploadComplete", "InProgress"),
        ("InProgress", "Failed"),
    ]
    assert all(sender is BulkJob and p.job_id == job.pk for sender, p in seen.calls)
    assert seen.calls[-1][1].error_message == "database went away"
    assert job.state == "Failed" and job.error_message == "database went away"
    assert job.created_at <= job.upload_complete_at <= job.started_at <= job.failed_at
    assert job.completed_at is None and job.aborted_at is None
    assert [state for state, _ in job.state_history()] == ["Open", "UploadComplete", "InProgress", "Failed"]


def test_illegal_transition_names_both_states_and_changes_nothing(alice: Any) -> None:
    job = _job(alice)
    with record(job_state_changed) as seen, pytest.raises(IllegalTransition) as info:
        jobs.transition(job, JobState.JOB_COMPLETE)
    assert str(info.value.detail) == "a job cannot move from Open to JobComplete"
    assert as_api_exception(info.value).status_code == 409  # the job views answer it 409
    assert seen.calls == []
    job.refresh_from_db()
    assert job.state == "Open" and job.completed_at is None


def test_a_racing_writer_loses_against_the_state_it_finds(alice: Any) -> None:
    """Two copies of the same Open job: one aborts; the other's close is judged against Aborted."""
    job = _job(alice)
    stale = BulkJob.objects.get(pk=job.pk)
    jobs.abort(job)
    with pytest.raises(IllegalTransition, match="from Aborted to UploadComplete"):
        jobs.transition(stale, JobState.UPLOAD_COMPLETE)
    assert BulkJob.objects.get(pk=job.pk).state == "Aborted"


def test_patch_to_an_illegal_state_is_a_409_naming_both_states(alice: Any) -> None:
    job = _job(alice)
    jobs.abort(job)
    response = client_for(alice).patch(f"/api/bulk-jobs/{job.pk}/", {"state": "UploadComplete"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "a job cannot move from Aborted to UploadComplete"}


def test_patch_accepts_only_the_client_states(alice: Any) -> None:
    job = _job(alice)
    response = client_for(alice).patch(f"/api/bulk-jobs/{job.pk}/", {"state": "JobComplete"}, format="json")
    assert response.status_code == 400
    assert "state" in response.json()
    assert BulkJob.objects.get(pk=job.pk).state == "Open"


def test_data_upload_to_a_closed_job_is_a_409(alice: Any) -> None:
    client = client_for(alice)
    job = _job(alice)
    assert client.put(f"/api/bulk-jobs/{job.pk}/data/", gadgets(2), format="json").status_code == 201
    jobs.transition(job, JobState.UPLOAD_COMPLETE)
    response = client.put(f"/api/bulk-jobs/{job.pk}/data/", gadgets(2), format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "data can only be added to an Open job; this job is UploadComplete"}
    assert BulkJob.objects.get(pk=job.pk).total_records == 2


class _Rollback(Exception):
    pass


def test_state_signals_are_sent_after_the_commit_and_never_for_a_rolled_back_move(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A receiver that sends an email must not fire for a transition its transaction rolled back."""
    job = _job(alice)
    with (
        record(job_state_changed) as seen,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(_Rollback),
        transaction.atomic(),
    ):
        jobs.abort(job)
        assert seen.calls == []  # inside the transaction: not yet
        raise _Rollback
    assert seen.calls == []
    assert BulkJob.objects.get(pk=job.pk).state == "Open"
    assert progress.get_status(job.pk) is None  # nor is the rolled-back state published
    with record(job_state_changed) as seen, django_capture_on_commit_callbacks(execute=True):
        jobs.abort(BulkJob.objects.get(pk=job.pk))
    assert [(p.from_state, p.to_state) for _, p in seen.calls] == [("Open", "Aborted")]


def test_a_failing_state_receiver_cannot_undo_or_break_a_committed_move(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _job(alice)

    def broken(sender: Any, payload: Any) -> None:
        raise RuntimeError("smtp down")

    job_state_changed.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(alice).patch(f"/api/bulk-jobs/{job.pk}/", {"state": "Aborted"}, format="json")
    finally:
        job_state_changed.disconnect(broken)
    assert response.status_code == 200 and response.json()["state"] == "Aborted"
    assert BulkJob.objects.get(pk=job.pk).state == "Aborted"
