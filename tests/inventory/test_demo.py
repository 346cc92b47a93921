"""The demo products: created with stock by seed_demo, once."""

import io

import pytest
from django.core.management import call_command

from inventory.models import Product, StockMovement

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_products_with_stock_once():
    call_command("seed_demo", stdout=io.StringIO())
    products = Product.objects.filter(project__slug="demo")
    assert products.count() >= 4
    movements = StockMovement.objects.count()
    assert movements > 0
    assert products.get(external_id="demo-mouse").variants.count() == 2

    call_command("seed_demo", stdout=io.StringIO())
    assert Product.objects.filter(project__slug="demo").count() == products.count()
    assert StockMovement.objects.count() == movements
    call_command("check_stock", stdout=io.StringIO())
