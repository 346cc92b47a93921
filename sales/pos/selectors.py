"""Reads of POS transactions (connecteam sales) and their locations, always within one project."""

import datetime
import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from sales.ledger.models import Sale, SaleChannel
from sales.pos.models import Location
from salesledger.errors import NotFound


class LocationsNotFound(NotFound):
    """Some location ids are not locations of the project; the message names each once, sorted."""

    code = "location_not_found"

    def __init__(self, location_ids: Iterable[int]):
        ids = sorted(set(location_ids))
        super().__init__(f"Locations with IDs {ids} not found", location_ids=ids)


class TransactionNotFound(NotFound):
    """No connecteam transaction of the project has this id (also for a malformed id)."""

    code = "transaction_not_found"

    def __init__(self, transaction_id):
        super().__init__(f"Transaction with ID '{transaction_id}' not found", transaction_id=str(transaction_id))


def pos_transactions(*, project) -> QuerySet[Sale]:
    """The project's connecteam transactions: sales of other channels are never touched through this dialect."""
    return Sale.objects.filter(project=project, channel=SaleChannel.CONNECTEAM)


def locations_require(*, project, location_ids: Iterable[int], lock: bool = False) -> dict[int, Location]:
    """The project's locations with these ids, by id, in one query.

    With `lock`, each row is locked (FOR NO KEY UPDATE, in id order) until the transaction ends, so a
    concurrent `location_delete` cannot remove a location that sales are being written for.
    Raises LocationsNotFound listing every id that is not a location of `project`.
    """
    ids = set(location_ids)
    queryset = Location.objects.filter(project=project, id__in=ids).order_by("id")
    if lock:
        queryset = queryset.select_for_update(no_key=True)
    found = {location.id: location for location in queryset}
    if len(found) != len(ids):
        raise LocationsNotFound(ids - set(found))
    return found


def pos_transactions_in_period(
    *, project, location_id: int, start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Sale]:
    """One location's transactions with `start <= created_at < end`, oldest first.

    Raises LocationsNotFound when the location is not the project's.
    """
    locations_require(project=project, location_ids=[location_id])
    return (
        pos_transactions(project=project)
        .filter(location_id=location_id, created_at__gte=start, created_at__lt=end)
        .order_by("created_at", "id")
    )


def pos_transaction_get(*, project, transaction_id: str, lock: bool = False) -> Sale:
    """One connecteam transaction of the project by its id; with `lock`, its row locked FOR UPDATE.

    Raises TransactionNotFound.
    """
    try:
        sale_id = uuid.UUID(str(transaction_id))
    except ValueError:
        raise TransactionNotFound(transaction_id) from None
    queryset = pos_transactions(project=project).filter(pk=sale_id)
    sale = (queryset.select_for_update() if lock else queryset).first()
    if sale is None:
        raise TransactionNotFound(transaction_id)
    return sale
