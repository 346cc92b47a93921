"""Demo sales for `seed_demo`, one of each status; made through the services, never duplicated."""

from decimal import Decimal

from sales.ledger.models import Sale, SaleChannel
from sales.ledger.services import LineInput, sale_cancel, sale_confirm, sale_create

# external_id -> (channel, lines as (product external_id, quantity, unit price or None), what happens next).
DEMO_SALES = {
    "demo-sale-1": (SaleChannel.SELLS, [("demo-laptop", 1, None), ("demo-cable", 2, None)], sale_confirm),
    "demo-sale-2": (SaleChannel.SELLS, [("demo-cable", 3, None)], None),
    "demo-sale-3": (SaleChannel.SELLS, [("demo-dock", 1, None)], sale_cancel),
    "demo-sale-4": (SaleChannel.COSTTRACK, [("demo-laptop", 1, Decimal("950.00"))], None),
}


def seed(*, project, user, api_key=None, stdout=None) -> None:
    """Create the demo sales the project lacks (matched by channel and external id)."""
    products = set(project.products.values_list("external_id", flat=True))
    existing = set(project.sales.filter(external_id__in=DEMO_SALES).values_list("external_id", flat=True))
    created = 0
    for external_id, (channel, lines, then) in DEMO_SALES.items():
        if external_id in existing or not {ref for ref, _, _ in lines} <= products:
            continue
        costtrack = channel == SaleChannel.COSTTRACK
        sale = sale_create(
            project=project,
            channel=channel,
            status=Sale.Status.CONFIRMED if costtrack else Sale.Status.PENDING,
            deduct_stock=not costtrack,
            category="Online Sales" if costtrack else "",
            lines=[LineInput(product=ref, quantity=Decimal(n), unit_price=price) for ref, n, price in lines],
            external_id=external_id,
            user=user,
            api_key=api_key,
            note="demo data",
        )
        if then is not None:
            then(sale=sale, user=user, api_key=api_key, note="demo data")
        created += 1
    if stdout is not None:
        stdout.write(f"  sales: {created} created, {len(existing)} already there")
