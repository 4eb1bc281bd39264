import pytest
from bulk_signals_django import Source
from bulk_signals_django.decorators import after_delete, before_delete, validate_delete
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.factories import AccountFactory, AuthorFactory
from tests.models import Account, Author, Post

pytestmark = pytest.mark.django_db


def test_model_delete_sends_old_record_with_its_pk(log):
    account = AccountFactory.create()
    pk = account.pk
    log.listen(Account)
    assert account.delete() == (1, {"tests.Account": 1})
    assert log.names == ["bulk_pre_delete", "bulk_post_delete"]
    event = log.event("bulk_post_delete")
    assert event.source is Source.DELETE and event.old_records[0].pk == pk and event.new_records == ()


def test_queryset_delete_sends_rows_and_returns_django_result(log):
    AccountFactory.create_batch(3, status="old")
    AccountFactory.create(status="keep")
    log.listen(Account)
    assert Account.objects.filter(status="old").delete() == (3, {"tests.Account": 3})
    assert log.names == ["bulk_validate_delete", "bulk_pre_delete", "bulk_post_delete"]
    assert log.event("bulk_post_delete").source is Source.QUERYSET_DELETE
    assert Account.objects.count() == 1


def test_queryset_delete_is_one_delete_statement_for_1000_rows(log):
    Account.objects.bulk_create([Account(name=str(i)) for i in range(1000)])
    log.listen(Account)
    from tests.conftest import count

    counted = count(lambda: Account.objects.all().delete())
    deletes = [sql for sql in counted.sql if sql.startswith("DELETE")]
    assert len(deletes) == 1 and counted.data == 2


def test_bulk_delete_orders_old_records_like_objs(log):
    accounts = AccountFactory.create_batch(3)
    log.listen(Account)
    objs = [accounts[2], accounts[0]]
    assert Account.objects.bulk_delete(objs) == (2, {"tests.Account": 2})
    event = log.event("bulk_post_delete")
    assert event.source is Source.BULK_DELETE
    assert [o.pk for o in event.old_records] == [accounts[2].pk, accounts[0].pk]


def test_bulk_delete_without_receivers():
    accounts = AccountFactory.create_batch(2)
    assert Account.objects.bulk_delete(accounts) == (2, {"tests.Account": 2})


def test_before_delete_raising_deletes_nothing():
    AccountFactory.create_batch(2)

    @before_delete(Account)
    def refuse(sender, event):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError), transaction.atomic():
        Account.objects.all().delete()
    assert Account.objects.count() == 2


def test_validate_delete_runs_on_bulk_paths():
    AccountFactory.create()

    @validate_delete(Account)
    def refuse(sender, event):
        raise ValidationError("keep it")

    with pytest.raises(ValidationError):
        Account.objects.all().delete()
    Account.objects.all().delete(bypass_validation=True)
    assert Account.objects.count() == 0


def test_cascades_still_delete_related_rows():
    author = AuthorFactory.create()
    Post.objects.create(author=author, title="t")
    seen = []

    @after_delete(Author)
    def after(sender, event):
        seen.extend(o.pk for o in event.old_records)

    assert Author.objects.all().delete() == (2, {"tests.Post": 1, "tests.Author": 1})
    assert seen == [author.pk] and Post.objects.count() == 0


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_adelete_paths_fire(log):
    a = await Account.objects.acreate(name="a")
    await Account.objects.acreate(name="b")
    c = await Account.objects.acreate(name="c")
    log.listen(Account)
    await a.adelete()
    await Account.objects.filter(name="b").adelete()
    await Account.objects.abulk_delete([c])
    assert log.names.count("bulk_post_delete") == 3


@pytest.mark.parametrize("posts", [0, 2])
def test_queryset_delete_returns_exactly_what_django_returns(posts):
    # The same data deleted with signals and without (Django's own delete): the same tuple.
    from tests.factories import RestaurantFactory
    from tests.models import Place, Restaurant

    def data():
        for author in AuthorFactory.create_batch(2):
            for i in range(posts):
                Post.objects.create(author=author, title=str(i))
        RestaurantFactory.create_batch(2)
        AccountFactory.create_batch(2)

    calls = [
        lambda **kw: Author.objects.all().delete(**kw),
        lambda **kw: Restaurant.objects.all().delete(**kw),
        lambda **kw: Place.objects.all().delete(**kw),
        lambda **kw: Account.objects.all().delete(**kw),
        lambda **kw: Account.objects.filter(name="nobody").delete(**kw),
    ]
    data()
    vanilla = [call(bypass_signals=True) for call in calls]
    data()
    for model in (Author, Place, Account):
        after_delete(model)(lambda sender, event: None)
    assert [call() for call in calls] == vanilla
    assert vanilla[1] == (4, {"tests.Restaurant": 2, "tests.Place": 2})
