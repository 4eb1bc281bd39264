"""factory-boy factories for the test models."""

import factory

from tests.models import Pair, Thing


class ThingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thing

    name = factory.Sequence(lambda n: f"thing {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    quantity = 1


class PairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pair

    left = factory.Sequence(lambda n: f"L{n}")
    right = factory.Sequence(lambda n: f"R{n}")
