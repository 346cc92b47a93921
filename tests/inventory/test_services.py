"""The stock services: levels and movements after each change; a refused change changes nothing."""

import uuid

import pytest
from django.core.management import call_command

from inventory.models import Stock, StockMovement
from inventory.services.catalogue import VariantNotAllowed, product_create, product_delete, variant_create
from inventory.services.stock import (
    ActorRequired,
    InsufficientReservation,
    InsufficientStock,
    InvalidQuantity,
    ReasonRequired,
    StockItem,
    VariantRequired,
    stock_adjust,
    stock_commit,
    stock_deduct,
    stock_release,
    stock_reserve,
    stock_restore,
)
from salesledger.errors import NotFound
from tests.helpers import item, ledger, levels

pytestmark = pytest.mark.django_db
SALE = uuid.UUID("00000000-0000-0000-0000-00000000000a")


def snapshot():
    return list(Stock.objects.order_by("pk").values_list("on_hand", "reserved")), StockMovement.objects.count()


def test_create_records_initial_stock_per_product_and_per_variant(make_product):
    laptop = make_product("Laptop", stock=5)
    mouse = make_product("Mouse", variants=[("Red", 2), ("Blue", 0)])
    assert levels(laptop) == (5, 0)
    assert ledger(laptop) == [("initial", None, 5, 0, None)]
    red, blue = mouse.variants.get(name="Red"), mouse.variants.get(name="Blue")
    assert levels(mouse, red) == (2, 0) and levels(mouse, blue) == (0, 0)
    assert ledger(mouse) == [("initial", "Red", 2, 0, None)]


def test_reserve_then_commit(make_product, owner):
    laptop = make_product(stock=5)
    stock_reserve(items=[item(laptop, 3)], sale_id=SALE, actor_user=owner, note="order 1")
    assert levels(laptop) == (5, 3)
    stock_commit(items=[item(laptop, 3)], sale_id=SALE)
    assert levels(laptop) == (2, 0)
    assert ledger(laptop)[1:] == [("reserve", None, 0, 3, SALE), ("commit", None, -3, -3, SALE)]
    reserve = StockMovement.objects.get(reason="reserve")
    assert (reserve.actor_user, reserve.note) == (owner, "order 1")


def test_reserve_then_release(make_product):
    laptop = make_product(stock=5)
    stock_reserve(items=[item(laptop, 2)], sale_id=SALE)
    stock_release(items=[item(laptop, 2)], sale_id=SALE)
    assert levels(laptop) == (5, 0)
    assert ledger(laptop)[1:] == [("reserve", None, 0, 2, SALE), ("release", None, 0, -2, SALE)]


def test_deduct_then_restore(make_product):
    laptop = make_product(stock=5)
    stock_deduct(items=[item(laptop, 4)], sale_id=SALE)
    assert levels(laptop) == (1, 0)
    stock_restore(items=[item(laptop, 4)], sale_id=SALE)
    assert levels(laptop) == (5, 0)
    assert ledger(laptop)[1:] == [("deduct", None, -4, 0, SALE), ("restore", None, 4, 0, SALE)]


def test_deduct_cannot_take_reserved_units(make_product):
    laptop = make_product(stock=5)
    stock_reserve(items=[item(laptop, 4)])
    with pytest.raises(InsufficientStock) as error:
        stock_deduct(items=[item(laptop, 2)])
    assert error.value.shortages[0]["available"] == 1


def test_many_items_one_movement_each_and_duplicates_summed(make_product):
    laptop = make_product("Laptop", stock=5)
    mouse = make_product("Mouse", variants=[("Red", 4), ("Blue", 4)])
    red, blue = mouse.variants.get(name="Red"), mouse.variants.get(name="Blue")
    stock_reserve(items=[item(laptop, 1), item(mouse, 1, red), item(laptop, 2), item(mouse, 3, blue)], sale_id=SALE)
    assert levels(laptop) == (5, 3)
    assert (levels(mouse, red), levels(mouse, blue)) == ((4, 1), (4, 3))
    assert StockMovement.objects.filter(reason="reserve").count() == 3
    assert ledger(laptop)[-1] == ("reserve", None, 0, 3, SALE)


def test_shortfall_names_every_short_item_and_changes_nothing(make_product):
    laptop = make_product("Laptop", stock=1)
    mouse = make_product("Mouse", variants=[("Red", 0), ("Blue", 9)])
    cable = make_product("Cable", stock=10)
    red, blue = mouse.variants.get(name="Red"), mouse.variants.get(name="Blue")
    before = snapshot()
    with pytest.raises(InsufficientStock) as error:
        stock_reserve(items=[item(cable, 2), item(laptop, 3), item(mouse, 2, red), item(mouse, 1, blue)])
    assert snapshot() == before
    assert error.value.status_code == 409 and error.value.code == "insufficient_stock"
    assert str(error.value) == (
        "Insufficient stock: Laptop (requested 3, available 1); Mouse / Red (requested 2, available 0)"
    )
    assert error.value.shortages == [
        {"product_id": str(laptop.pk), "variant_id": None, "name": "Laptop", "requested": 3, "available": 1},
        {"product_id": str(mouse.pk), "variant_id": str(red.pk), "name": "Mouse / Red", "requested": 2,
         "available": 0},
    ]  # fmt: skip


@pytest.mark.parametrize("service", [stock_deduct, stock_reserve])
def test_every_taking_service_refuses_a_shortfall(make_product, service):
    laptop = make_product(stock=2)
    before = snapshot()
    with pytest.raises(InsufficientStock):
        service(items=[item(laptop, 3)])
    assert snapshot() == before


@pytest.mark.parametrize("service", [stock_release, stock_commit])
def test_release_and_commit_refuse_more_than_reserved(make_product, service):
    laptop = make_product(stock=5)
    stock_reserve(items=[item(laptop, 1)])
    before = snapshot()
    with pytest.raises(InsufficientReservation) as error:
        service(items=[item(laptop, 2)])
    assert snapshot() == before
    assert error.value.shortages[0]["reserved"] == 1


def test_product_with_variants_needs_a_variant(make_product):
    mouse = make_product("Mouse", variants=[("Red", 3)])
    before = snapshot()
    with pytest.raises(VariantRequired) as error:
        stock_reserve(items=[item(mouse, 1)])
    assert error.value.code == "variant_required" and error.value.status_code == 400
    assert snapshot() == before


def test_variant_of_another_product_and_unknown_ids_are_not_found(make_product):
    laptop = make_product("Laptop", stock=3)
    mouse = make_product("Mouse", variants=[("Red", 3)])
    red = mouse.variants.get()
    with pytest.raises(NotFound):
        stock_reserve(items=[item(laptop, 1, red)])
    with pytest.raises(NotFound):
        stock_reserve(items=[StockItem(product_id=uuid.uuid4(), variant_id=None, quantity=1)])
    with pytest.raises(NotFound):
        stock_reserve(items=[StockItem(product_id=mouse.pk, variant_id=uuid.uuid4(), quantity=1)])
    assert levels(laptop) == (3, 0) and levels(mouse, red) == (3, 0)


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True, "2"])
def test_quantity_must_be_a_positive_whole_number(make_product, quantity):
    laptop = make_product(stock=3)
    with pytest.raises(InvalidQuantity):
        stock_reserve(items=[item(laptop, quantity)])
    assert levels(laptop) == (3, 0)


def test_no_items_is_refused():
    with pytest.raises(InvalidQuantity):
        stock_deduct(items=[])


def test_a_product_made_without_stock_rows_gets_them(project):
    from inventory.models import Product

    bare = Product.objects.create(project=project, name="Bare", price=1)
    stock_restore(items=[item(bare, 2)])
    assert levels(bare) == (2, 0)


def test_adjust_up_and_down_records_reason_and_actor(make_product, owner):
    laptop = make_product(stock=5)
    movement = stock_adjust(product=laptop, delta=-2, reason="  broken in transit ", actor_user=owner)
    assert (movement.reason, movement.delta_on_hand, movement.note, movement.actor_user) == (
        "adjustment", -2, "broken in transit", owner,
    )  # fmt: skip
    stock_adjust(product=laptop, delta=10, reason="delivery", actor_user=owner)
    assert levels(laptop) == (13, 0)


def test_adjust_cannot_go_below_available(make_product, owner):
    laptop = make_product(stock=5)
    stock_reserve(items=[item(laptop, 3)])
    before = snapshot()
    with pytest.raises(InsufficientStock) as error:
        stock_adjust(product=laptop, delta=-3, reason="count", actor_user=owner)
    assert error.value.shortages[0] | {"product_id": None} == {
        "product_id": None, "variant_id": None, "name": "Laptop", "requested": 3, "available": 2,
    }  # fmt: skip
    assert snapshot() == before


def test_adjust_a_variant(make_product, owner):
    mouse = make_product("Mouse", variants=[("Red", 1)])
    red = mouse.variants.get()
    stock_adjust(product=mouse, variant=red, delta=4, reason="found", actor_user=owner)
    assert levels(mouse, red) == (5, 0)
    with pytest.raises(VariantRequired):
        stock_adjust(product=mouse, delta=4, reason="found", actor_user=owner)


def test_adjust_needs_reason_actor_and_a_whole_delta(make_product, owner, issued_key):
    laptop = make_product(stock=5)
    with pytest.raises(ReasonRequired):
        stock_adjust(product=laptop, delta=1, reason=" ", actor_user=owner)
    with pytest.raises(ActorRequired):
        stock_adjust(product=laptop, delta=1, reason="count")
    for delta in (0, 1.5, True):
        with pytest.raises(InvalidQuantity):
            stock_adjust(product=laptop, delta=delta, reason="count", actor_user=owner)
    stock_adjust(product=laptop, delta=1, reason="count", actor_key=issued_key.api_key)
    assert levels(laptop) == (6, 0)


def test_adjust_a_variant_of_another_product_is_not_found(make_product, owner):
    laptop = make_product("Laptop", stock=1)
    mouse = make_product("Mouse", variants=[("Red", 1)])
    with pytest.raises(NotFound):
        stock_adjust(product=laptop, variant=mouse.variants.get(), delta=1, reason="x", actor_user=owner)


def test_services_nest_in_the_callers_transaction(make_product):
    from django.db import transaction

    laptop = make_product(stock=5)
    with pytest.raises(RuntimeError), transaction.atomic():
        stock_deduct(items=[item(laptop, 2)])
        raise RuntimeError("the sale failed later")
    assert levels(laptop) == (5, 0)
    assert StockMovement.objects.filter(reason="deduct").count() == 0


def test_query_count_does_not_grow_with_the_number_of_items(make_product, django_assert_max_num_queries):
    products = [make_product(f"P{n}", stock=10) for n in range(30)]
    with django_assert_max_num_queries(5) as one:
        stock_reserve(items=[item(products[0], 1)])
    with django_assert_max_num_queries(len(one.captured_queries)):
        stock_reserve(items=[item(product, 1) for product in products])
    with django_assert_max_num_queries(len(one.captured_queries)):
        stock_commit(items=[item(product, 1) for product in products])


def test_variants_are_refused_while_the_product_holds_stock(make_product, owner):
    laptop = make_product(stock=2)
    with pytest.raises(VariantNotAllowed):
        variant_create(product=laptop, name="Big")
    stock_adjust(product=laptop, delta=-2, reason="moving stock to variants", actor_user=owner)
    big = variant_create(product=laptop, name="Big", stock_on_hand=2)
    assert levels(laptop, big) == (2, 0)


def test_create_refuses_stock_on_a_product_with_variants_and_negative_stock(project):
    with pytest.raises(InvalidQuantity):
        product_create(project=project, name="X", price=1, stock_on_hand=1, variants=[{"name": "A"}])
    with pytest.raises(InvalidQuantity):
        product_create(project=project, name="X", price=1, stock_on_hand=-1)


def test_delete_removes_an_unsold_product_and_deactivates_a_sold_one(make_product):
    unsold, sold = make_product("Unsold", stock=2), make_product("Sold", stock=2)
    stock_deduct(items=[item(sold, 1)], sale_id=SALE)
    assert product_delete(product=unsold) == "deleted"
    assert product_delete(product=sold) == "deactivated"
    sold.refresh_from_db()
    assert not sold.active
    assert levels(sold) == (1, 0) and len(ledger(sold)) == 2
    call_command("check_stock")


def test_counters_never_overflow_their_column(make_product, owner):
    laptop = make_product(stock=2_000_000_000)
    with pytest.raises(InvalidQuantity):
        stock_restore(items=[item(laptop, 2_000_000_000)])
    with pytest.raises(InvalidQuantity):
        stock_adjust(product=laptop, delta=2**31, reason="x", actor_user=owner)
    with pytest.raises(InvalidQuantity):
        stock_reserve(items=[item(laptop, 2**31)])
    assert levels(laptop) == (2_000_000_000, 0)


def test_delete_deactivates_a_product_that_sale_lines_point_at(make_product, project):
    from tests.factories import SaleLineFactory

    laptop = make_product("Laptop", stock=2)
    SaleLineFactory(sale__project=project, product=laptop)
    assert product_delete(product=laptop) == "deactivated"
    laptop.refresh_from_db()
    assert not laptop.active
