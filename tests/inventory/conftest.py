"""Fixtures of the inventory tests: products are made through the services, like everywhere else."""

from decimal import Decimal

import pytest

from inventory.models import Stock, StockMovement
from inventory.services import StockItem, product_create


@pytest.fixture
def make_product(project):
    """`make_product(stock=5)` or `make_product(variants=[("Red", 2), ("Blue", 0)])`."""

    def make(name="Laptop", *, stock=0, variants=(), price="10.00", target_project=None, **fields):
        return product_create(
            project=target_project or project,
            name=name,
            price=Decimal(price),
            stock_on_hand=stock,
            variants=[{"name": variant, "stock_on_hand": quantity} for variant, quantity in variants],
            **fields,
        )

    return make


def item(product, quantity, variant=None) -> StockItem:
    return StockItem(product_id=product.pk, variant_id=variant.pk if variant is not None else None, quantity=quantity)


def levels(product, variant=None) -> tuple[int, int]:
    """(on hand, reserved) of a product without variants, or of one variant."""
    stock = Stock.objects.get(product=product, variant=variant)
    return stock.on_hand, stock.reserved


def ledger(product) -> list[tuple]:
    """The product's movements, oldest first: (reason, variant name, delta on hand, delta reserved, sale id)."""
    rows = StockMovement.objects.filter(product=product).select_related("variant").order_by("created_at", "id")
    return [
        (m.reason, m.variant.name if m.variant else None, m.delta_on_hand, m.delta_reserved, m.sale_id) for m in rows
    ]


@pytest.fixture
def api(api):
    """Project A's client, sending JSON bodies without `format="json"` on every call."""
    api.default_format = "json"
    return api


@pytest.fixture
def other_api(other_api):
    other_api.default_format = "json"
    return other_api
