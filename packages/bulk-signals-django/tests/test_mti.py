import pytest
from bulk_signals_django.decorators import after_create, after_update

from tests.factories import RestaurantFactory
from tests.models import Place, Restaurant

pytestmark = pytest.mark.django_db


def test_bulk_create_of_mti_children_inserts_both_tables(log):
    log.listen(Restaurant)
    objs = RestaurantFactory.build_batch(5)
    Restaurant.objects.bulk_create(objs)
    assert all(o.pk and o.place_ptr_id == o.pk for o in objs)
    assert Place.objects.count() == 5 and Restaurant.objects.count() == 5
    assert sorted(r.name for r in Restaurant.objects.all()) == sorted(o.name for o in objs)
    assert log.names == ["bulk_validate_create", "bulk_pre_create", "bulk_post_create"]


def test_bulk_create_of_mti_children_without_receivers():
    objs = RestaurantFactory.build_batch(3, seats=7)
    Restaurant.objects.bulk_create(objs)
    assert list(Restaurant.objects.values_list("seats", flat=True)) == [7, 7, 7]


def test_parent_receivers_get_child_events_with_the_concrete_model():
    seen = []

    @after_create(Place)
    def on_place(sender, event):
        seen.append((sender, event.model, len(event.new_records)))

    Restaurant.objects.bulk_create(RestaurantFactory.build_batch(2))
    Place.objects.create(name="p")
    assert seen == [(Restaurant, Restaurant, 2), (Place, Place, 1)]


def test_create_and_save_of_an_mti_child_work(log):
    log.listen(Restaurant)
    restaurant = Restaurant.objects.create(name="r", seats=3)
    restaurant.seats = 4
    restaurant.save()
    assert log.names == ["bulk_pre_create", "bulk_post_create", "bulk_pre_update", "bulk_post_update"]
    assert Restaurant.objects.get().seats == 4


def test_update_of_parent_fields_through_the_child(log):
    RestaurantFactory.create_batch(2, city="Paris")
    seen = []

    @after_update(Place)
    def on_place(sender, event):
        seen.extend((o.city, n.city, type(n)) for n, o in event.pairs())

    Restaurant.objects.update(city="Lyon")
    assert seen == [("Paris", "Lyon", Restaurant)] * 2
    assert set(Place.objects.values_list("city", flat=True)) == {"Lyon"}


def test_bulk_update_of_parent_and_child_fields(log):
    restaurants = RestaurantFactory.create_batch(2)
    log.listen(Restaurant)
    for r in restaurants:
        r.city, r.seats = "Nice", 99
    Restaurant.objects.bulk_update(restaurants)
    assert log.event("bulk_post_update").update_fields == ("city", "seats")
    assert set(Restaurant.objects.values_list("city", "seats")) == {("Nice", 99)}


def test_queryset_delete_of_children_removes_parent_rows(log):
    RestaurantFactory.create_batch(2)
    log.listen(Place)
    Restaurant.objects.all().delete()
    assert Place.objects.count() == 0
    assert log.event("bulk_post_delete").model is Restaurant


def test_plain_connect_and_django_receiver_for_a_parent_get_child_events():
    from bulk_signals_django.signals import bulk_post_create
    from django.dispatch import receiver

    seen = []

    def plain(sender, event):
        seen.append(("plain", sender, event.model))

    bulk_post_create.connect(plain, sender=Place)

    @receiver(bulk_post_create, sender=Place, weak=False)
    def django_style(sender, **kwargs):
        seen.append(("django", sender, kwargs["event"].model))

    Restaurant.objects.bulk_create(RestaurantFactory.build_batch(2))
    assert seen == [("plain", Restaurant, Restaurant), ("django", Restaurant, Restaurant)]


def test_parent_and_child_receivers_run_once_each_in_priority_order():
    from bulk_signals_core import Priority
    from bulk_signals_django.signals import bulk_post_create

    order = []

    def any_sender(sender, event):
        order.append("any")

    def child_low(sender, event):
        order.append("child-low")

    def parent_high(sender, event):
        order.append("parent-high")

    bulk_post_create.connect(any_sender, priority=Priority.NORMAL)
    bulk_post_create.connect(child_low, sender=Restaurant, priority=Priority.LOW)
    bulk_post_create.connect(parent_high, sender=Place, priority=Priority.HIGH)
    bulk_post_create.connect(parent_high, sender=Restaurant, priority=Priority.HIGH)  # already has it: no second call
    Restaurant.objects.create(name="r")
    assert order == ["parent-high", "any", "child-low"]


def test_disconnecting_a_parent_receiver_disconnects_it_from_the_children():
    from bulk_signals_django.signals import bulk_post_create

    seen = []

    def plain(sender, event):
        seen.append(sender)

    bulk_post_create.connect(plain, sender=Place)
    assert bulk_post_create.disconnect(plain, sender=Place) is True
    assert not bulk_post_create.has_receivers(Restaurant)
    bulk_post_create.connect(plain, sender=Place, id="plain")
    assert bulk_post_create.disconnect(id="plain") is True
    bulk_post_create.connect(plain, sender=Place, dispatch_uid="uid")
    assert bulk_post_create.disconnect(sender=Place, dispatch_uid="uid") is True
    Restaurant.objects.create(name="r")
    assert seen == [] and not bulk_post_create.has_receivers(Restaurant)


def test_a_weak_parent_receiver_that_dies_leaves_no_child_connection():
    import gc

    from bulk_signals_django.signals import bulk_post_create

    def plain(sender, event):
        return None

    bulk_post_create.connect(plain, sender=Place)
    assert bulk_post_create.has_receivers(Restaurant)
    del plain
    gc.collect()
    assert not bulk_post_create.has_receivers(Restaurant)


def test_a_receiver_of_a_child_does_not_make_the_parent_pay():
    from bulk_signals_django.signals import bulk_post_create

    bulk_post_create.connect(lambda sender, event: None, sender=Restaurant, weak=False)
    assert bulk_post_create.has_receivers(Restaurant) and not bulk_post_create.has_receivers(Place)
