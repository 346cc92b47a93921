"""Demo products with stock for `seed_demo`: created once, left alone when they exist."""

from decimal import Decimal

from inventory.models import Product
from inventory.services.catalogue import product_create

DEMO_PRODUCTS = [
    {"external_id": "demo-laptop", "name": "Laptop 14\"", "sku": "LAP-14", "ean": "6417182000014",
     "price": Decimal("999.00"), "cost": Decimal("720.00"), "stock_on_hand": 12},
    {"external_id": "demo-mouse", "name": "Wireless mouse", "sku": "MOU-1", "price": Decimal("29.90"),
     "cost": Decimal("11.50"), "variants": [
         {"name": "Black", "sku": "MOU-1-BLK", "stock_on_hand": 40},
         {"name": "Red", "sku": "MOU-1-RED", "price": Decimal("31.90"), "stock_on_hand": 3},
     ]},
    {"external_id": "demo-cable", "name": "USB-C cable 1 m", "sku": "CAB-C1", "price": Decimal("9.50"),
     "cost": Decimal("2.10"), "stock_on_hand": 200},
    {"external_id": "demo-dock", "name": "Docking station", "sku": "DOCK-1", "price": Decimal("189.00"),
     "stock_on_hand": 2},
]  # fmt: skip


def seed(*, project, user, api_key=None, stdout=None) -> list[Product]:
    """Create the demo products the project lacks (matched by external id); returns all of them."""
    existing = set(
        project.products.filter(external_id__in=[p["external_id"] for p in DEMO_PRODUCTS]).values_list(
            "external_id", flat=True
        )
    )
    created = [
        product_create(project=project, **data, actor_user=user)
        for data in DEMO_PRODUCTS
        if data["external_id"] not in existing
    ]
    if stdout is not None:
        stdout.write(f"  products: {len(created)} created, {len(existing)} already there")
    return list(project.products.filter(external_id__in=[p["external_id"] for p in DEMO_PRODUCTS]))
