"""Real races on PostgreSQL: many connections at once never oversell and never deadlock."""

import pytest
from django.core.management import call_command

from inventory.models import Stock
from inventory.services.stock import InsufficientStock, stock_commit, stock_deduct, stock_reserve
from tests.concurrency import race
from tests.helpers import item, levels

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20


@pytest.mark.parametrize("service", [stock_reserve, stock_deduct])
def test_twenty_buyers_of_the_last_five_units(make_product, service):
    laptop = make_product(stock=5)

    results = race(THREADS, lambda index: service(items=[item(laptop, 1)]))

    succeeded = [result for result in results if result is None]
    refused = [result for result in results if isinstance(result, InsufficientStock)]
    assert len(succeeded) == 5 and len(refused) == THREADS - 5, results
    expected = (5, 5) if service is stock_reserve else (0, 0)
    assert levels(laptop) == expected
    call_command("check_stock")


def test_reserve_then_commit_under_contention(make_product):
    laptop = make_product(stock=5)
    race(THREADS, lambda index: stock_reserve(items=[item(laptop, 1)]))
    results = race(5, lambda index: stock_commit(items=[item(laptop, 1)]))
    assert results == [None] * 5
    assert levels(laptop) == (0, 0)
    call_command("check_stock")


def test_multi_line_sales_locking_in_opposite_orders_do_not_deadlock(make_product):
    products = [make_product(f"P{n}", stock=1000) for n in range(6)]

    def sale(index):
        lines = products if index % 2 == 0 else list(reversed(products))
        for _ in range(10):
            stock_reserve(items=[item(product, 1) for product in lines])
            stock_commit(items=[item(product, 1) for product in lines])

    results = race(THREADS, sale)

    assert results == [None] * THREADS, [r for r in results if r is not None]
    assert set(Stock.objects.filter(product__in=products).values_list("on_hand", "reserved")) == {(800, 0)}
    call_command("check_stock")
