"""Demo sales: one of each status on the demo products, the POS demo beside them, and a second run adds nothing."""

import pytest

from inventory import demo as inventory_demo
from sales.ledger import demo
from sales.ledger.models import Sale
from sales.pos import demo as pos_demo
from tests.helpers import levels

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(project, owner, issued_key):
    inventory_demo.seed(project=project, user=owner)
    demo.seed(project=project, user=owner, api_key=issued_key.api_key)
    pos_demo.seed(project=project, user=owner, api_key=issued_key.api_key)
    statuses = dict(Sale.objects.exclude(channel="connecteam").values_list("external_id", "status"))
    assert statuses == {
        "demo-sale-1": "confirmed", "demo-sale-2": "pending", "demo-sale-3": "cancelled", "demo-sale-4": "confirmed"
    }  # fmt: skip
    cable = project.products.get(external_id="demo-cable")
    stock = levels(cable)
    pos_sales = Sale.objects.filter(channel="connecteam").count()
    assert pos_sales > 0
    demo.seed(project=project, user=owner, api_key=issued_key.api_key)
    pos_demo.seed(project=project, user=owner, api_key=issued_key.api_key)
    assert Sale.objects.count() == 4 + pos_sales
    assert levels(cable) == stock == (198, 3)


def test_seed_without_demo_products_creates_nothing(project, owner):
    demo.seed(project=project, user=owner)
    assert not Sale.objects.exclude(channel="connecteam").exists()
