"""Demo POS data for `seed_demo`: two locations and yesterday's connecteam transactions (so the dashboard's
"last 30 days" shows them), never duplicated."""

import datetime
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from sales.pos.models import Location
from sales.pos.selectors import pos_transactions
from sales.pos.services import TransactionInput, location_create, pos_transactions_create

DEMO_LOCATIONS = {
    "Main Street store": ("1 Main Street", "Europe/Helsinki"),
    "Airport kiosk": ("Terminal 2", "Europe/Helsinki"),
}
# (location name, sale type, hours after the day's opening, amount, tax or None)
DEMO_TRANSACTIONS = [
    ("Main Street store", "SALE", 1, Decimal("99.99"), Decimal("8.50")),
    ("Main Street store", "REFUND", 2, Decimal("-25.00"), None),
    ("Main Street store", "SALE", 3, Decimal("42.00"), Decimal("3.57")),
    ("Airport kiosk", "SALE", 4, Decimal("150.00"), Decimal("12.75")),
    ("Airport kiosk", "VOID", 5, Decimal("0.00"), None),
]
OPENING_HOUR = 8


def _opening(time_zone: str) -> datetime.datetime:
    """Yesterday's opening time, in the demo locations' time zone."""
    zone = zoneinfo.ZoneInfo(time_zone)
    yesterday = timezone.localdate(timezone=zone) - datetime.timedelta(days=1)
    return datetime.datetime.combine(yesterday, datetime.time(OPENING_HOUR), tzinfo=zone)


def seed(*, project, user, api_key=None, stdout=None) -> None:
    """Create the demo locations the project lacks (by name), then the demo transactions if none of its
    locations has any yet."""
    locations = {location.name: location for location in Location.objects.filter(project=project)}
    for name, (address, time_zone) in DEMO_LOCATIONS.items():
        if name not in locations:
            locations[name] = location_create(project=project, name=name, address=address, time_zone=time_zone)
    demo_ids = [locations[name].id for name in DEMO_LOCATIONS]
    if pos_transactions(project=project).filter(location_id__in=demo_ids).exists():
        return
    opening = _opening(DEMO_LOCATIONS[next(iter(DEMO_LOCATIONS))][1])
    pos_transactions_create(
        project=project,
        transactions=[
            TransactionInput(
                location_id=locations[name].id,
                sale_type=sale_type,
                created_at=opening + datetime.timedelta(hours=hours),
                amount=amount,
                tax=tax,
                currency=project.currency,
            )
            for name, sale_type, hours, amount, tax in DEMO_TRANSACTIONS
        ],
        user=user,
        api_key=api_key,
    )
    if stdout is not None:
        ids = ", ".join(str(location_id) for location_id in demo_ids)
        stdout.write(f"  connecteam: locations {ids}, {len(DEMO_TRANSACTIONS)} transactions")
