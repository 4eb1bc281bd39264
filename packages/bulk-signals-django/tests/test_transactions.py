import pytest
from bulk_signals_django.decorators import after_create, after_update, before_update, validate_update
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.transaction import TransactionManagementError

from tests.factories import AccountFactory
from tests.models import Account


@pytest.mark.django_db(transaction=True)
def test_on_commit_receiver_runs_after_the_outermost_commit():
    calls = []

    @after_create(Account, on_commit=True)
    def later(sender, event):
        calls.append(len(event.new_records))

    with transaction.atomic():
        Account.objects.bulk_create(AccountFactory.build_batch(2))
        with transaction.atomic():
            Account.objects.create(name="x")
        assert calls == []
    assert calls == [2, 1]


@pytest.mark.django_db(transaction=True)
def test_on_commit_receiver_never_runs_after_a_rollback():
    calls = []

    @after_create(Account, on_commit=True)
    def later(sender, event):
        calls.append(event)

    with pytest.raises(RuntimeError), transaction.atomic():
        Account.objects.create(name="x")
        raise RuntimeError("abort")
    assert calls == [] and Account.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_commit_receiver_sees_only_matching_rows():
    from bulk_signals_django import ChangesTo

    accounts = AccountFactory.create_batch(3)
    calls = []

    @after_update(Account, when=ChangesTo("status", "closed"), on_commit=True)
    def later(sender, event):
        calls.append([n.pk for n in event.new_records])

    accounts[1].status = "closed"
    Account.objects.bulk_update(accounts, ["status"])
    assert calls == [[accounts[1].pk]]


@pytest.mark.django_db(transaction=True)
def test_after_receiver_error_rolls_back_save_outside_any_transaction():
    account = AccountFactory.create(status="open")

    @after_update(Account)
    def boom(sender, event):
        raise RuntimeError("no")

    account.status = "closed"
    with pytest.raises(RuntimeError):
        account.save()
    assert Account.objects.get().status == "open"


@pytest.mark.django_db(transaction=True)
def test_inside_an_atomic_block_a_failed_write_marks_it_for_rollback_as_django_does():
    # No savepoint of ours: a before receiver's error is like a pre_save receiver's error in Django.
    AccountFactory.create()
    other = Account.objects.create(name="written before")

    @before_update(Account)
    def refuse(sender, event):
        raise ValueError("refused")

    with transaction.atomic():
        with pytest.raises(ValueError):
            Account.objects.update(status="x")
        with pytest.raises(TransactionManagementError):
            Account.objects.count()
        assert transaction.get_rollback()
    assert Account.objects.filter(pk=other.pk).exists()  # written outside the block


@pytest.mark.django_db(transaction=True)
def test_a_validate_receivers_error_leaves_the_outer_block_usable():
    # Validation runs before anything is written, and is caught like full_clean()'s error: the caller's
    # earlier writes in the block must not be rolled back silently when the block ends.
    AccountFactory.create()

    @validate_update(Account)
    def refuse(sender, event):
        raise ValidationError("refused")

    with transaction.atomic():
        kept = Account.objects.create(name="kept")
        with pytest.raises(ValidationError):
            Account.objects.update(status="x")
        assert not transaction.get_rollback()
    assert Account.objects.filter(pk=kept.pk).exists()
    assert not Account.objects.filter(status="x").exists()


@pytest.mark.django_db
def test_a_signalled_write_inside_a_transaction_adds_no_transaction_statement(log):
    from tests.conftest import count

    account = AccountFactory.create()
    log.listen(Account)
    account.status = "x"
    for write in (
        lambda: Account.objects.bulk_create([Account(name="n")]),
        lambda: Account.objects.bulk_update([account], ["status"]),
        lambda: Account.objects.filter(pk=account.pk).update(status="y"),
        lambda: account.save(),
        lambda: Account.objects.filter(name="n").delete(),
    ):
        assert count(write).tx == 0


@pytest.mark.django_db
def test_receiver_type_error_propagates_and_runs_once():
    # Peer bug: a TypeError inside a handler was swallowed and the handler called again.
    calls = []

    @after_create(Account)
    def broken(sender, event):
        calls.append(1)
        raise TypeError("bug in receiver")

    with pytest.raises(TypeError, match="bug in receiver"):
        Account.objects.bulk_create(AccountFactory.build_batch(2))
    assert calls == [1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["instance", "queryset"])
def test_a_protected_delete_raises_before_any_receiver_and_leaves_the_block_usable(path, log):
    from django.db.models import ProtectedError

    from tests.models import Guard, Vault

    vault = Vault.objects.create()
    Guard.objects.create(vault=vault)
    log.listen(Vault)
    with transaction.atomic():
        with pytest.raises(ProtectedError):
            vault.delete() if path == "instance" else Vault.objects.filter(pk=vault.pk).delete()
        assert not transaction.get_rollback()
        assert Vault.objects.filter(pk=vault.pk).exists()
    assert log.calls == []


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_a_refused_validation_rolls_back_what_it_touched():
    AccountFactory.create()

    @validate_update(Account)
    def refuse(sender, event):
        Account.objects.create(name="written by the validator", bypass_signals=True)
        raise ValidationError("refused")

    with pytest.raises(ValidationError):
        Account.objects.update(status="x")
    assert not Account.objects.filter(name="written by the validator").exists()
    assert not Account.objects.filter(status="x").exists()
