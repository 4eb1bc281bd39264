"""factory-boy factories; ``build_batch`` gives unsaved objects for the bulk paths."""

from decimal import Decimal

import factory

from tests import models


class BaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True


class AccountFactory(BaseFactory):
    class Meta:
        model = models.Account

    name = factory.Sequence(lambda n: f"account {n}")
    balance = Decimal("10.00")
    status = "open"


class PlainAccountFactory(AccountFactory):
    class Meta:
        model = models.PlainAccount


class PlaceFactory(BaseFactory):
    class Meta:
        model = models.Place

    name = factory.Sequence(lambda n: f"place {n}")
    city = "Paris"


class RestaurantFactory(PlaceFactory):
    class Meta:
        model = models.Restaurant

    serves_pizza = False
    seats = 10


class ProductFactory(BaseFactory):
    class Meta:
        model = models.Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"product {n}")
    price = 100


class PlainProductFactory(ProductFactory):
    class Meta:
        model = models.PlainProduct


class MembershipFactory(BaseFactory):
    class Meta:
        model = models.Membership

    team = "red"
    member = factory.Sequence(lambda n: f"member {n}")


class BookFactory(BaseFactory):
    class Meta:
        model = models.Book

    title = factory.Sequence(lambda n: f"book {n}")


class AuthorFactory(BaseFactory):
    class Meta:
        model = models.Author

    name = factory.Sequence(lambda n: f"author {n}")
