"""The database itself refuses stock that would go negative, whoever writes it."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from inventory.models import Stock, StockMovement
from inventory.services.stock import InsufficientStock, stock_change
from salesledger.writes import run_together
from tests.helpers import item

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


def test_a_change_the_constraints_refuse_is_insufficient_stock_never_a_crash(make_product):
    laptop = make_product("Laptop", stock=5)
    with pytest.raises(InsufficientStock) as refused, transaction.atomic():
        change = stock_change(items=[item(laptop, 4)], reason=StockMovement.Reason.DEDUCT)
        # A write that bypassed the row lock (here: after the check, in the same transaction) took units away.
        Stock.objects.filter(product=laptop).update(on_hand=2)
        with change.refused_by_constraints():
            run_together(change.statements)
    assert refused.value.status_code == 409
    assert refused.value.client_data == {"requested": 4, "available": 5}  # as the check read it
    assert Stock.objects.get(product=laptop).on_hand == 5
    assert StockMovement.objects.filter(product=laptop).count() == 1  # the initial stock only
