"""The database itself refuses stock that would go negative, whoever writes it."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from inventory.models import Stock

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change",
    [
        {"on_hand": -1},
        {"reserved": -1},
        {"reserved": F("on_hand") + 1},
    ],
    ids=["on_hand below zero", "reserved below zero", "reserved above on hand"],
)
def test_direct_write_that_would_go_negative_is_rejected(make_product, change):
    laptop = make_product(stock=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(product=laptop).update(**change)
    assert Stock.objects.get(product=laptop).on_hand == 3


def test_bulk_update_bypassing_validators_is_rejected_too(make_product):
    laptop = make_product(stock=3)
    stock = Stock.objects.get(product=laptop)
    stock.on_hand = -5
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.bulk_update([stock], ["on_hand"])


def test_only_one_stock_row_per_product_without_variant(make_product):
    laptop = make_product(stock=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.create(product=laptop)
