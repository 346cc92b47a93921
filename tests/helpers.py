"""What tests share beyond fixtures: API clients that know their key, and readers of the ledgers."""

import base64

from django.db import connection
from rest_framework.test import APIClient

from inventory.models import Stock, StockMovement
from inventory.services.stock import StockItem
from sales.ledger.models import Sale, SaleLine


class KeyedClient(APIClient):
    """An APIClient that sends JSON by default and knows its project and key."""

    def __init__(self, project=None, issued=None, **kwargs):
        super().__init__(**kwargs)
        self.project = project
        self.issued = issued

    def generic(self, method, path, data="", content_type="application/json", **extra):
        return super().generic(method, path, data, content_type, **extra)


def keyed_client(project, issued, style="bearer") -> KeyedClient:
    client = KeyedClient(project=project, issued=issued)
    if style == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    elif style == "header":
        client.credentials(HTTP_X_API_KEY=issued.secret)
    elif style == "basic":
        token = base64.b64encode(f"{issued.secret}:".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    else:
        raise ValueError(style)
    return client


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


def ledger_size() -> tuple[int, int]:
    """How many sales and sale lines exist: the proof that a refused request wrote nothing."""
    return Sale.objects.count(), SaleLine.objects.count()


def prepared_plans(like: str) -> list[tuple[str, int, bool]]:
    """The session's prepared statements named LIKE `like`: (name, times run, whether a generic plan ran)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans + custom_plans, generic_plans > 0 FROM pg_prepared_statements "
            "WHERE name LIKE %s ORDER BY name",
            [like],
        )
        return cursor.fetchall()
