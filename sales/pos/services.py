"""Every write of POS transactions (the connecteam dialect) and of the locations they happen at.

A transaction is a confirmed ledger `Sale` of channel `connecteam`, so it counts in the same reports
as every other sale: `subtotal` is the POS's `finalSaleAmount` (negative for a refund), `tax` its
`taxAmount`, and `total = subtotal + tax`.
"""

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core import serializers
from django.db import models, transaction
from django.utils import timezone

from sales.ledger.models import Sale, SaleChannel, SaleStatus
from sales.ledger.services import sale_events_record
from sales.pos.models import Location, TransactionDeletion
from sales.pos.selectors import locations_require, pos_transaction_get, pos_transactions_in_period
from salesledger.errors import Conflict, ServiceError
from salesledger.metrics import sales_written
from salesledger.money import normalize_currency, quantize

SALE_TYPES = (
    "SALE", "VOID", "REFUND", "SPLIT", "TRANSFER", "RECALL", "UPDATE", "FLOAT", "TRANSITORY", "CROSS_BL", "CANCEL",
    "MANUAL",
)  # fmt: skip
MAX_BATCH = 100


@dataclass(frozen=True)
class TransactionInput:
    """One POS transaction to record. `tax` and `currency` None mean the POS did not send them."""

    location_id: int
    sale_type: str
    created_at: datetime.datetime
    amount: Decimal
    tax: Decimal | None = None
    currency: str | None = None


class InvalidTransactions(ServiceError):
    """A batch the dialect never sends: empty or too long, or with a sale type it does not know."""

    code = "invalid_transactions"


class InvalidPeriod(ServiceError):
    code = "invalid_period"


class AlreadyRestored(Conflict):
    code = "already_restored"


def _sale(*, project, item: TransactionInput, user, api_key, now) -> Sale:
    currency = normalize_currency(item.currency or project.currency)
    amount = quantize(item.amount, currency)
    # Which optional fields the POS sent (as sent), so they are echoed back exactly when provided.
    sent = {}
    tax = Decimal(0)
    if item.tax is not None:
        sent["taxAmount"] = str(quantize(item.tax, currency))
        # The document gives taxAmount "in absolute value": a refund's tax is refunded with it.
        tax = -abs(quantize(item.tax, currency)) if amount < 0 else abs(quantize(item.tax, currency))
    if item.currency is not None:
        sent["currency"] = currency
    return Sale(
        project=project,
        channel=SaleChannel.CONNECTEAM,
        status=SaleStatus.CONFIRMED,
        currency=currency,
        subtotal=amount,
        tax=tax,
        total=amount + tax,
        location_id=item.location_id,
        sale_type=item.sale_type,
        user=user,
        api_key=api_key,
        extra=sent,
        created_at=item.created_at,
        confirmed_at=now,
    )


def pos_transactions_create(
    *, project, transactions: Sequence[TransactionInput], user=None, api_key=None
) -> list[Sale]:
    """Record 1..100 POS transactions, all or none, in a fixed number of queries (one locked read of
    the locations, one insert), whatever the batch size.

    Raises LocationsNotFound (404) naming every location id that is not the project's, InvalidTransactions
    for an empty or over-long batch or an unknown sale type, UnknownCurrency for a bad currency code.
    """
    if not 1 <= len(transactions) <= MAX_BATCH:
        raise InvalidTransactions(f"A batch has 1 to {MAX_BATCH} transactions, not {len(transactions)}.")
    unknown = {item.sale_type for item in transactions} - set(SALE_TYPES)
    if unknown:
        raise InvalidTransactions(f"Unknown sale types: {sorted(unknown)}.")
    now = timezone.now()
    sales = [_sale(project=project, item=item, user=user, api_key=api_key, now=now) for item in transactions]
    with transaction.atomic():
        locations_require(project=project, location_ids=[item.location_id for item in transactions], lock=True)
        sales = Sale.objects.bulk_create(sales)
        sale_events_record(changes=[("sale.created", sale) for sale in sales], lines=[], user=user, api_key=api_key)
        sales_written(channel=Sale.Channel.CONNECTEAM, count=len(sales))
        return sales


def _delete(*, project, location_id: int, sales: list[Sale], kind, start=None, end=None, user, api_key, request_id):
    """Delete `sales` (already locked) and record them (and a `sale.deleted` event each); the caller holds
    the transaction. POS transactions have no lines."""
    rows = json.loads(serializers.serialize("json", sales))
    sale_events_record(changes=[("sale.deleted", sale) for sale in sales], lines=[], user=user, api_key=api_key)
    Sale.objects.filter(pk__in=[sale.pk for sale in sales]).delete()
    return TransactionDeletion.objects.create(
        project=project,
        location_id=location_id,
        kind=kind,
        start_time=start,
        end_time=end,
        user=user,
        api_key=api_key,
        request_id=request_id,
        count=len(rows),
        rows=rows,
    )


def pos_transactions_delete_period(
    *,
    project,
    location_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    request_id: str,
    user=None,
    api_key=None,
) -> TransactionDeletion | None:
    """Delete one location's transactions with `start <= created_at < end` and record them for restore.

    The rows are locked first, so two overlapping deletes never both record the same transaction.
    Returns the deletion record, or None when the period held no transaction (nothing to record).
    Raises LocationsNotFound (404) when the location is not the project's, InvalidPeriod unless start < end.
    """
    if start >= end:
        raise InvalidPeriod("end must be after start.")
    with transaction.atomic():
        queryset = pos_transactions_in_period(project=project, location_id=location_id, start=start, end=end)
        sales = list(queryset.select_for_update())
        if not sales:
            return None
        return _delete(
            project=project, location_id=location_id, sales=sales, kind=TransactionDeletion.Kind.PERIOD,
            start=start, end=end, user=user, api_key=api_key, request_id=request_id,
        )  # fmt: skip


def pos_transaction_delete(*, project, transaction_id: str, request_id: str, user=None, api_key=None):
    """Delete one transaction of the project and record it for restore; returns the deletion record.

    Raises TransactionNotFound (404) for an unknown, malformed or another project's id.
    """
    with transaction.atomic():
        sale = pos_transaction_get(project=project, transaction_id=transaction_id, lock=True)
        return _delete(
            project=project, location_id=sale.location_id, sales=[sale], kind=TransactionDeletion.Kind.SINGLE,
            user=user, api_key=api_key, request_id=request_id,
        )  # fmt: skip


def _forget_what_is_gone(sales: list[Sale]) -> None:
    """Clear each SET_NULL reference (user, key, customer) to a row deleted since: what its deletion
    would have done to the sales had they not been deleted first. One query per such field."""
    for field in Sale._meta.concrete_fields:
        if not field.is_relation or field.remote_field.on_delete is not models.SET_NULL:
            continue
        ids = {getattr(sale, field.attname) for sale in sales} - {None}
        existing = (
            set(field.related_model._base_manager.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        )
        for sale in sales:
            if getattr(sale, field.attname) not in existing:
                setattr(sale, field.attname, None)


def pos_deletion_restore(*, deletion: TransactionDeletion, user=None) -> list[Sale]:
    """Put the transactions of one deletion back, with their original ids, and mark it restored.

    A user, key or customer deleted in the meantime is no longer named by the restored sales.
    Raises AlreadyRestored (409) when the deletion was restored before (checked under a row lock, so
    two staff members clicking at once restore it once).
    """
    with transaction.atomic():
        locked = TransactionDeletion.objects.select_for_update().get(pk=deletion.pk)
        if locked.restored_at is not None:
            raise AlreadyRestored(f"This deletion was already restored at {locked.restored_at:%Y-%m-%d %H:%M} UTC.")
        sales = [item.object for item in serializers.deserialize("python", locked.rows)]
        _forget_what_is_gone(sales)
        sales = Sale.objects.bulk_create(sales)
        sale_events_record(changes=[("sale.restored", sale) for sale in sales], lines=[], user=user)
        locked.restored_at = timezone.now()
        locked.restored_by = user
        locked.save(update_fields=["restored_at", "restored_by"])
    deletion.restored_at, deletion.restored_by = locked.restored_at, locked.restored_by
    return sales


def location_create(*, project, name: str, address: str = "", time_zone: str = "", active: bool = True) -> Location:
    """Create a location (a shop, a till) of the project. Raises django's ValidationError for a bad time zone."""
    location = Location(project=project, name=name, address=address, time_zone=time_zone, active=active)
    location.full_clean(exclude=["project"])
    with transaction.atomic():
        location.save(force_insert=True)
    return location


def location_update(
    *,
    location: Location,
    name: str | None = None,
    address: str | None = None,
    time_zone: str | None = None,
    active: bool | None = None,
) -> Location:
    """Change the given fields of a location (None leaves a field as it is).

    Raises django's ValidationError for a bad time zone or an empty name.
    """
    changes = {"name": name, "address": address, "time_zone": time_zone, "active": active}
    changes = {field: value for field, value in changes.items() if value is not None}
    for field, value in changes.items():
        setattr(location, field, value)
    location.full_clean(exclude=["project"])
    with transaction.atomic():
        location.save(update_fields=list(changes))
    return location


def location_deactivate(*, location: Location) -> Location:
    """Mark a location inactive: it keeps its id and its transactions, and still accepts late syncs."""
    return location_update(location=location, active=False)


def location_delete(*, location: Location) -> bool:
    """Delete a location that never had a transaction; deactivate one that has (or had, restorably).

    Returns True when the location was deleted. The location's row is locked first, so a concurrent
    batch either lands before (and the location is only deactivated) or finds it gone (404).
    """
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        if locked.sales.exists() or locked.deletions.exists():
            location_deactivate(location=locked)
            location.active = False
            return False
        locked.delete()
    return True
