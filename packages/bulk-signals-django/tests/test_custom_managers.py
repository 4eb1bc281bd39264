import pytest

from tests.factories import BookFactory
from tests.models import Book

pytestmark = pytest.mark.django_db


def test_as_manager_queryset_methods_and_signals(log):
    BookFactory.create_batch(2, published=True)
    BookFactory.create(published=False)
    log.listen(Book)
    assert Book.objects.published().update(title="t") == 2
    assert len(log.event("bulk_post_update").new_records) == 2


def test_from_queryset_manager_fires(log):
    log.listen(Book)
    Book.shelf.bulk_create(BookFactory.build_batch(2))
    Book.shelf.published().delete()
    assert log.names == ["bulk_validate_create", "bulk_pre_create", "bulk_post_create"]  # none published
