"""Real races on PostgreSQL: 20 buyers of the last 5 units, through each dialect that takes stock."""

import pytest

from inventory.models import StockMovement
from sales.ledger.models import Sale
from tests.concurrency import race
from tests.helpers import keyed_client, levels

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BUYERS = 20
UNITS = 5


def _race(project, issued_key, path, body):
    def buy(_):
        return keyed_client(project, issued_key).post(path, body, format="json").status_code

    return race(BUYERS, buy)


def test_twenty_buyers_of_five_units_through_sells(project, issued_key, make_product):
    product = make_product("Last units", stock=UNITS)
    results = _race(project, issued_key, "/sells", {"products": [{"productId": str(product.id), "quantity": 1}]})
    assert sorted(results) == [201] * UNITS + [409] * (BUYERS - UNITS)
    assert levels(product) == (UNITS, UNITS)
    assert Sale.objects.filter(status="pending").count() == UNITS
    assert StockMovement.objects.filter(product=product, reason="reserve").count() == UNITS


def test_twenty_buyers_of_five_units_through_costtrack(project, issued_key, make_product):
    product = make_product("Last units", stock=UNITS)
    body = {"productId": str(product.id), "quantity": 1, "sellingPrice": 10, "deductInventory": True}
    results = _race(project, issued_key, "/api/sales/create", body)
    assert sorted(results) == [200] * UNITS + [400] * (BUYERS - UNITS)
    assert levels(product) == (0, 0)
    assert Sale.objects.filter(status="confirmed").count() == UNITS
    assert StockMovement.objects.filter(product=product, reason="deduct").count() == UNITS


def test_confirm_and_cancel_of_one_sale_at_once_apply_exactly_one(project, issued_key, make_product):
    product = make_product("Contested", stock=UNITS)
    client = keyed_client(project, issued_key)
    sale_id = client.post("/sells", {"products": [{"productId": str(product.id), "quantity": 2}]}, format="json")
    sale_id = sale_id.json()["sell"]["id"]

    def move(index):
        action = "confirm" if index % 2 else "cancel"
        return keyed_client(project, issued_key).put(f"/sells/{action}/{sale_id}", format="json").status_code

    results = race(10, move)
    sale = Sale.objects.get(pk=sale_id)
    # Either the first move was a confirm (then one cancel restores), or a cancel (then nothing else applies).
    if sale.confirmed_at is not None:
        assert sorted(results) == [200, 200] + [409] * 8
        assert levels(product) == (UNITS, 0)
    else:
        assert sorted(results) == [200] + [409] * 9
        assert levels(product) == (UNITS, 0)
    assert sale.status == "cancelled"
