"""Fixtures of the sales tests: products and stock are made through the inventory services."""

from decimal import Decimal

import pytest

from inventory.models import Stock
from inventory.services import product_create
from sales.models import Sale, SaleLine


@pytest.fixture
def make_product(project):
    """`make_product("Laptop", stock=5, price="1299.99")`, or with `variants=[("Red", 2, None)]`."""

    def make(name="Laptop", *, stock=0, price="10.00", variants=(), target_project=None, **fields):
        return product_create(
            project=target_project or project,
            name=name,
            price=Decimal(price),
            stock_on_hand=stock,
            variants=[
                {"name": variant, "stock_on_hand": quantity, "price": None if price is None else Decimal(price)}
                for variant, quantity, price in variants
            ],
            **fields,
        )

    return make


def levels(product, variant=None) -> tuple[int, int]:
    """(on hand, reserved) of a product without variants, or of one of its variants."""
    stock = Stock.objects.get(product=product, variant=variant)
    return stock.on_hand, stock.reserved


def ledger_size() -> tuple[int, int]:
    """How many sales and sale lines exist: the proof that a refused request wrote nothing."""
    return Sale.objects.count(), SaleLine.objects.count()
