import pytest
from bulk_signals_django import Operation
from bulk_signals_django.decorators import validate_create, validate_update
from django.core.exceptions import ValidationError

from tests.factories import AccountFactory
from tests.models import Account

pytestmark = pytest.mark.django_db


def _require_name(sender, event):
    for account in event.new_records:
        if not account.name:
            raise ValidationError({"name": "name is required"})


def test_full_clean_runs_validate_create_for_a_new_record():
    validate_create(Account)(_require_name)
    with pytest.raises(ValidationError) as info:
        Account(name="", note="n").full_clean(exclude=["name"])
    assert info.value.message_dict == {"name": ["name is required"]}


def test_clean_runs_validate_update_with_the_old_record():
    account = AccountFactory.create(status="open")
    seen = []

    @validate_update(Account)
    def look(sender, event):
        seen.append((event.operation, event.old_records[0].status, event.new_records[0].status, event.update_fields))

    account.status = "closed"
    account.clean()
    assert seen == [(Operation.UPDATE, "open", "closed", ("status",))]


def test_save_does_not_run_validation():
    validate_create(Account)(_require_name)
    Account(name="").save()
    assert Account.objects.count() == 1
