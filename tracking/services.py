"""Every write of the tracking app: customers, lead and sale events, exchange rates."""

import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status

from apikeys.models import Project
from events.services import NewEvent, events_record_if_inserted, events_record_many
from salesledger.bulk import json_recordset
from salesledger.db import raw_prepared
from salesledger.errors import NotFound, ServiceError
from salesledger.money import (
    RATE_MAX,
    RATE_MIN,
    RATE_RANGE_MESSAGE,
    UnknownCurrency,
    convert,
    from_minor,
    normalize_currency,
    to_minor,
)
from salesledger.writes import checked_then_written, insert_sql
from tracking import ecb
from tracking.models import Customer, ExchangeRate, LeadEvent, SaleEvent, new_customer_public_id
from tracking.names import random_customer_name
from tracking.selectors import exchange_rate_table

# The keys a customer identity may be matched by, in order of preference.
IDENTITY_KEYS = ("external_id", "phone", "email")
LEAD_DUPLICATE_WINDOW = timedelta(days=7)
DEFAULT_DIRECT_LEAD_NAME = "Sign up"


class InvalidExchangeRates(ServiceError):
    code = "invalid_exchange_rates"


class MissingClickId(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "missing_click_id"


def customer_identity(identity: dict) -> tuple[str, str]:
    """The (key, value) an identity is matched by: the first of external_id, phone, email it has.

    Raises ValueError for an identity with none of them.
    """
    for key in IDENTITY_KEYS:
        if identity.get(key):
            return key, identity[key]
    raise ValueError("A customer identity needs an external_id, a phone or an email.")


def customers_get_or_create(*, project: Project, identities: list[dict]) -> dict[tuple[str, str], Customer]:
    """The customers of `project` for each identity, created when missing; keyed by `customer_identity()`.

    An identity is a dict with `external_id`, `phone` and/or `email`; it is matched by the first of those
    it has (an external id only matches that external id; a phone or an email matches the oldest customer
    with it). Missing customers are created with the identity's `name` (else its email, else a random
    readable name), `email`, `phone`, `avatar` and `click_id`. At most 3 lookups, one insert (batches of
    99 rows on SQLite) and 3 lookups again, whatever the number of identities. Races on one external id
    are settled by the unique constraint: the insert skips conflicts, the second lookup finds the winner.
    Raises ValueError for an identity without any key.
    """
    return _customers_get_or_create(project=project, identities=identities)[0]


def customer_ids_get_or_create(*, project: Project, identities: list[dict]) -> dict[tuple[str, str], Any]:
    """`customers_get_or_create`, answering only each customer's id: the customers found are read as
    ids (no model instance per customer), for callers that only link to them (an upload's sales)."""
    return _customers_get_or_create(project=project, identities=identities, only_ids=True)[0]


def _customers_get_or_create(*, project, identities, only_ids=False, none_found=False):
    """`customers_get_or_create`, plus the identity keys of the customers this call created. `none_found`: the
    caller's own lookup found none of them, so they are not looked up before the insert."""
    wanted: dict[tuple[str, str], dict] = {}
    for identity in identities:
        wanted.setdefault(customer_identity(identity), identity)
    found = {} if none_found else _customers_by_identity(project, wanted, only_ids=only_ids)
    missing = [key for key in wanted if key not in found]
    if not missing:
        return found, set()
    tried = _customers_insert([_new_customer(project, wanted[key]) for key in missing])
    again = _customers_by_identity(project, missing, only_ids=only_ids)
    found.update(again)
    return found, {key for key, customer in again.items() if getattr(customer, "pk", customer) in tried}


def _customers_by_identity(project, keys, *, only_ids=False) -> dict[tuple[str, str], Any]:
    """The customers with these identity keys (their ids with `only_ids`: no model instance per customer)."""
    values_by_key: dict[str, set[str]] = {}
    for key, value in keys:
        values_by_key.setdefault(key, set()).add(value)
    found = {}
    for key, values in values_by_key.items():
        # Oldest first, so a phone or an email shared by several customers maps to the oldest one.
        customers = Customer.objects.filter(project=project, **{f"{key}__in": values}).order_by("created_at")
        pairs = customers.values_list(key, "id") if only_ids else ((getattr(c, key), c) for c in customers)
        for value, customer in pairs:
            found.setdefault((key, value), customer)
    return found


def _new_customer(project, identity) -> dict:
    """The column values (attnames) of a new customer of `project` with `identity`."""
    email = identity.get("email") or ""
    return {
        "id": uuid.uuid4(),
        "public_id": new_customer_public_id(),
        "project_id": project.pk,
        "external_id": identity.get("external_id") or None,
        "name": identity.get("name") or email[: Customer._meta.get_field("name").max_length] or random_customer_name(),
        "email": email,
        "phone": identity.get("phone") or "",
        "avatar": identity.get("avatar") or "",
        "click_id": identity.get("click_id") or "",
        "created_at": timezone.now(),
    }


def _customers_insert(rows: list[dict]) -> set:
    """Insert the customers `rows` (from `_new_customer`), skipping any a concurrent request inserted
    first (same external id); returns the ids tried. On PostgreSQL one INSERT of the rows bound as one
    JSON document (`salesledger.bulk`), whatever their number (a bulk import creates thousands); else
    `bulk_create`."""
    if connection.vendor != "postgresql":
        Customer.objects.bulk_create([Customer(**row) for row in rows], ignore_conflicts=True)
    else:
        columns, select = json_recordset(Customer, list(rows[0]))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Customer._meta.db_table} ({columns}) {select} ON CONFLICT DO NOTHING",
                [msgspec.json.encode(rows).decode()],
            )
    return {row["id"] for row in rows}


CUSTOMER_EDITABLE_FIELDS = ("name", "email", "phone", "avatar")


def customer_update(*, customer: Customer, **changes) -> Customer:
    """Correct a customer's name, email, phone or avatar (its ids and attribution stay as tracked).

    Raises ValueError for another field and django's ValidationError for an invalid value.
    """
    unknown = set(changes) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(
            f"Only {', '.join(CUSTOMER_EDITABLE_FIELDS)} can be changed, not {', '.join(sorted(unknown))}."
        )
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.full_clean(exclude=["project"], validate_unique=False)
    with transaction.atomic():
        customer.save(update_fields=list(changes))
    return customer


def exchange_rate_on(*, currency: str, day: date) -> tuple[Decimal, date | None] | None:
    """(units of `currency` per 1 USD, its effective date) in effect on `day`: the latest rate dated
    on or before it; (1, None) for USD; None when the currency has no rate that old.

    Raises UnknownCurrency for a code that is not ISO 4217.
    """
    code = normalize_currency(currency)
    if code == "USD":
        return Decimal(1), None
    return (
        ExchangeRate.objects.filter(currency=code, effective_date__lte=day)
        .order_by("-effective_date")
        .values_list("rate", "effective_date")
        .first()
    )


@dataclass(frozen=True)
class Conversion:
    """An amount in US cents and the rate it was converted at; all None while the conversion is pending."""

    amount: int | None
    rate: Decimal | None = None
    rate_date: date | None = None


def usd_conversion(*, amount: int, currency: str, day: date) -> Conversion:
    """`amount` minor units of `currency` in US cents at the rate in effect on `day`: amount / rate,
    rounded half-up once. Pending (all None) when the currency has no rate yet.

    Raises UnknownCurrency for a code that is not ISO 4217.
    """
    found = exchange_rate_on(currency=currency, day=day)
    if found is None:
        return Conversion(amount=None)
    rate, rate_date = found
    return Conversion(amount=_usd_cents(amount, normalize_currency(currency), rate), rate=rate, rate_date=rate_date)


def _usd_cents(amount: int, code: str, rate: Decimal) -> int:
    return to_minor(convert(from_minor(amount, code), rate=rate, to_currency="USD"), "USD")


@dataclass(frozen=True)
class RatesLoaded:
    rates: int
    converted: int


def exchange_rates_load(*, rows: list[tuple[str, Decimal, date]]) -> RatesLoaded:
    """Store (currency, rate, effective date) rows; a row for an existing currency and date replaces its rate.
    Then the pending sale events of those currencies are converted (`sale_events_convert_pending`).

    One transaction, one batched upsert. Raises UnknownCurrency for a bad code.
    """
    rates = {(normalize_currency(code), day): rate for code, rate, day in rows}
    with transaction.atomic():
        ExchangeRate.objects.bulk_create(
            [ExchangeRate(currency=code, rate=rate, effective_date=day) for (code, day), rate in rates.items()],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["currency", "effective_date"],
            update_fields=["rate"],
        )
        converted = sale_events_convert_pending(currencies={code for code, _ in rates})
    return RatesLoaded(rates=len(rates), converted=converted)


def exchange_rate_save(*, rate: ExchangeRate) -> ExchangeRate:
    """Store one exchange rate, its currency upper-cased, and convert the pending sale events of its currency.

    Raises UnknownCurrency and django's ValidationError (in words, for the constraints too).
    """
    rate.currency = normalize_currency(rate.currency)
    rate.full_clean()
    with transaction.atomic():
        rate.save()
        sale_events_convert_pending(currencies={rate.currency})
    return rate


def sale_events_convert_pending(*, currencies: set[str]) -> int:
    """Convert the pending sale events in `currencies` (ISO codes) that now have a rate, and return how many.

    Each is converted at the rate in effect on its (UTC) date, or at its currency's first rate when it is
    older than every rate; a rate dated in the future does not apply yet. The events are locked, so a
    concurrent load converts each once. One query for the events, one for the rates, batched updates.
    """
    codes = {normalize_currency(code) for code in currencies}
    with transaction.atomic():
        pending = list(
            SaleEvent.objects.select_for_update()
            .filter(amount__isnull=True, original_currency__in=[code.lower() for code in codes])
            .only("id", "original_amount", "original_currency", "created_at")
        )
        if not pending:
            return 0
        table = exchange_rate_table(
            currencies={event.original_currency for event in pending}, until=timezone.localdate()
        )
        converted = []
        for event in pending:
            used = table.rate_on(event.original_currency, event.created_at.date())
            if used is None:
                continue
            event.exchange_rate, event.exchange_rate_date = used.rate, used.effective_date
            event.amount = _usd_cents(event.original_amount, used.currency, used.rate)
            converted.append(event)
        SaleEvent.objects.bulk_update(converted, ["amount", "exchange_rate", "exchange_rate_date"], batch_size=500)
    return len(converted)


def exchange_rates_parse(*, data: bytes, today: date) -> list[tuple[str, Decimal, date]]:
    """Rows of a file of rates: the ECB's reference rates (eurofxref-daily.xml, eurofxref-hist.xml, the
    history CSV or its zip), converted to units per 1 USD, or our `currency,rate[,date]` CSV.

    Raises InvalidExchangeRates (every bad line of a CSV by its number), so a file loads whole or not at all.
    """
    if ecb.looks_like_ecb(data):
        try:
            rows = ecb.per_usd_rows(ecb.parse(data))
        except ecb.InvalidReferenceRates as error:
            raise InvalidExchangeRates(str(error), errors=[str(error)]) from error
        errors = [f"{code} of {day}: rate {rate} per USD {RATE_RANGE_MESSAGE}" for code, rate, day in rows
                  if not RATE_MIN <= rate <= RATE_MAX]  # fmt: skip
        if errors:
            raise InvalidExchangeRates("; ".join(errors), errors=errors)
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidExchangeRates("not UTF-8 text", errors=["not UTF-8 text"]) from error
    return exchange_rates_from_csv(lines=text.splitlines(), today=today)


def exchange_rates_from_csv(*, lines: Iterable[str], today: date) -> list[tuple[str, Decimal, date]]:
    """Rows of a `currency,rate[,date]` CSV (an optional header line; no date means `today`).

    Raises InvalidExchangeRates naming every bad line by its number, so a file is loaded whole or not at all.
    """
    rate_field = ExchangeRate._meta.get_field("rate")
    rows, errors = [], []
    for number, cells in enumerate(csv.reader(lines), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or (number == 1 and cells[0].lower() == "currency"):
            continue
        if len(cells) not in (2, 3):
            errors.append(f"line {number}: expected currency,rate[,date], got {len(cells)} columns")
            continue
        try:
            code = normalize_currency(cells[0])
            rate = Decimal(cells[1])
            if not rate.is_finite() or rate <= 0:
                raise InvalidOperation
            if not RATE_MIN <= rate <= RATE_MAX:
                raise ValueError(f"rate '{cells[1]}' {RATE_RANGE_MESSAGE}")
            if rate != rate.quantize(Decimal(1).scaleb(-rate_field.decimal_places)) or rate.adjusted() >= (
                rate_field.max_digits - rate_field.decimal_places
            ):
                raise ValueError(f"rate '{cells[1]}' has more than {rate_field.decimal_places} decimals or is too big")
            day = _iso_date(cells[2]) if len(cells) == 3 and cells[2] else today
        except UnknownCurrency as error:
            errors.append(f"line {number}: {error}")
        except InvalidOperation:
            errors.append(f"line {number}: rate '{cells[1]}' is not a positive number")
        except ValueError as error:
            errors.append(f"line {number}: {error}")
        else:
            rows.append((code, rate, day))
    if errors:
        raise InvalidExchangeRates("; ".join(errors), errors=errors)
    return rows


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"date '{text}' is not a YYYY-MM-DD date ({error})") from error


@dataclass(frozen=True)
class TrackedLead:
    customer: Customer
    click_id: str
    recorded: int


def lead_event_track(
    *,
    project: Project,
    event_name: str,
    customer_external_id: str,
    click_id: str | None = None,
    customer_name: str | None = None,
    customer_email: str | None = None,
    customer_avatar: str | None = None,
    event_quantity: int = 1,
    metadata: dict | None = None,
    actor_key=None,
) -> TrackedLead:
    """Record `event_quantity` lead events for the customer, created when new with the click as attribution.

    Each lead event is also a `lead.created` event (one INSERT for all of them).

    A lead with the same customer and event name within 7 days is a duplicate: nothing is recorded
    (`recorded` is 0). The customer's row is locked, so concurrent duplicates record once.
    Raises MissingClickId when no click id is given and the customer has none.
    """
    with transaction.atomic():
        customer = _customer_for_event(
            project=project,
            external_id=customer_external_id,
            name=customer_name,
            email=customer_email,
            avatar=customer_avatar,
            click_id=click_id,
        )[0]
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if click_id and customer.click_id != click_id:
            # Last click wins: later leads and sales are attributed to the newest click.
            customer.click_id = click_id
            customer.save(update_fields=["click_id"])
        if not customer.click_id:
            raise MissingClickId(
                f"clickId: required, because customer '{customer_external_id}' has no click to attribute to."
            )
        now = timezone.now()
        duplicate = customer.lead_events.filter(event_name=event_name, created_at__gte=now - LEAD_DUPLICATE_WINDOW)
        if duplicate.exists():
            return TrackedLead(customer=customer, click_id=customer.click_id, recorded=0)
        leads = LeadEvent.objects.bulk_create(
            LeadEvent(
                project=project,
                customer=customer,
                event_name=event_name,
                click_id=customer.click_id,
                metadata=metadata or {},
                created_at=now,
            )
            for _ in range(event_quantity)
        )
        events_record_many(
            project_id=project.pk, events=[_conversion_event(lead, customer) for lead in leads], actor_key=actor_key
        )
    return TrackedLead(customer=customer, click_id=customer.click_id, recorded=event_quantity)


def sale_event_track(
    *,
    project: Project,
    customer_external_id: str,
    amount: int,
    currency: str = "usd",
    event_name: str = "Purchase",
    payment_processor: str = "custom",
    invoice_id: str | None = None,
    metadata: dict | None = None,
    lead_event_name: str | None = None,
    click_id: str | None = None,
    customer_name: str | None = None,
    customer_email: str | None = None,
    customer_avatar: str | None = None,
    actor_key=None,
) -> SaleEvent | None:
    """Record a sale of `amount` minor units of `currency` for the customer, converted to US cents at
    today's rate, or with its conversion pending when the currency has no rate yet (converted when one
    is loaded).

    Writes a `conversion.created` event (and `lead.created` for a lead recorded with it).

    Returns the sale event, or None for an amount of 0 (nothing is recorded). An unknown customer is
    created (direct sale tracking); for a customer created here, `lead_event_name` names the lead event
    recorded with it, otherwise it names an existing lead of the customer to link, and without it the
    sale links to the customer's latest lead. `invoice_id` is an idempotency key: when a sale with it
    exists, that sale is returned and nothing is recorded, also when requests race (the unique
    constraint decides: the insert does nothing and the call takes back the customer it created).
    Raises UnknownCurrency, and NotFound for an unknown `lead_event_name`.
    """
    if amount == 0:
        return None
    conversion = usd_conversion(amount=amount, currency=currency, day=timezone.localdate())
    with checked_then_written():
        try:
            customer, created, lead = _customer_and_lead(
                project=project,
                external_id=customer_external_id,
                name=customer_name,
                email=customer_email,
                avatar=customer_avatar,
                click_id=click_id,
                lead_event_name=lead_event_name,
            )
        except NotFound:
            # A replay answers with its sale, whatever lead it names.
            existing = _sale_by_invoice(project, invoice_id) if invoice_id is not None else None
            if existing is None:
                raise
            return existing
        sale = SaleEvent(
            project=project,
            customer=customer,
            lead_event=lead,
            event_name=event_name,
            amount=conversion.amount,
            exchange_rate=conversion.rate,
            exchange_rate_date=conversion.rate_date,
            original_amount=amount,
            original_currency=normalize_currency(currency).lower(),
            payment_processor=payment_processor,
            invoice_id=invoice_id,
            metadata=metadata or {},
        )
        # The unique invoice id tells a replay (or the loser of a race) without a check before nor a savepoint:
        # the insert does nothing, nor the events' with it; the call takes back the customer (and its lead) it
        # created and answers with the sale of that invoice id.
        names = [field.attname for field in SaleEvent._meta.concrete_fields]
        sql, params = insert_sql(SaleEvent, [{name: getattr(sale, name) for name in names}])
        new_lead = [_conversion_event(lead, customer)] if created and lead is not None else []
        if not events_record_if_inserted(
            insert=(f"{sql} ON CONFLICT DO NOTHING RETURNING 1", params), project_id=project.pk,
            events=[*new_lead, _conversion_event(sale, customer)], actor_key=actor_key,
        ):  # fmt: skip
            if created:
                Customer.objects.filter(pk=customer.pk).delete()
            return _sale_by_invoice(project, invoice_id)
        return sale


def _conversion_event(conversion: LeadEvent | SaleEvent, customer: Customer) -> NewEvent:
    """`lead.created` or `conversion.created`, with the conversion as `GET /api/v1/conversions/` lists it."""
    from tracking.api.native import conversion_data  # The native shape; the API imports these services.

    lead = isinstance(conversion, LeadEvent)
    row = {
        "id": conversion.pk, "kind": "lead" if lead else "sale", "customer_id": customer.pk,
        "customer_external_id": customer.external_id, "event_name": conversion.event_name,
        "click_id": conversion.click_id if lead else (conversion.lead_event or customer).click_id,
        "amount": None if lead else conversion.amount,
        "original_amount": None if lead else conversion.original_amount,
        "original_currency": None if lead else conversion.original_currency,
        "payment_processor": None if lead else conversion.payment_processor,
        "invoice_id": None if lead else conversion.invoice_id,
        "lead_event_id": None if lead else conversion.lead_event_id,
        "metadata": conversion.metadata, "created_at": conversion.created_at,
    }  # fmt: skip
    return NewEvent(
        "lead.created" if lead else "conversion.created", conversion_data(row), object_id=str(conversion.pk)
    )


def _sale_by_invoice(project, invoice_id) -> SaleEvent | None:
    return SaleEvent.objects.select_related("customer").filter(project=project, invoice_id=invoice_id).first()


def _customer_for_event(
    *, project, external_id, name, email, avatar, click_id, none_found=False
) -> tuple[Customer, bool]:
    identity = {"external_id": external_id, "name": name, "email": email, "avatar": avatar, "click_id": click_id}
    found, created = _customers_get_or_create(project=project, identities=[identity], none_found=none_found)
    key = customer_identity(identity)
    return found[key], key in created


def _customer_and_lead(*, project, external_id, name, email, avatar, click_id, lead_event_name):
    """The sale's customer (created when unknown), whether this call created it, and the lead the sale links to:
    for a customer created here, the lead named `lead_event_name` recorded with it (none without a name or a
    click id); otherwise the customer's latest lead, or its latest named `lead_event_name` (NotFound without
    one). A known customer and its lead are one query."""
    found = _customer_with_lead(project=project, external_id=external_id, lead_event_name=lead_event_name)
    if found is None:
        customer, created = _customer_for_event(
            project=project, external_id=external_id, name=name, email=email, avatar=avatar, click_id=click_id,
            none_found=True,
        )  # fmt: skip
        if created:
            if not lead_event_name and not customer.click_id:
                return customer, True, None
            lead = LeadEvent.objects.create(
                project_id=customer.project_id,
                customer=customer,
                event_name=lead_event_name or DEFAULT_DIRECT_LEAD_NAME,
                click_id=customer.click_id,
            )
            return customer, True, lead
        # A concurrent request created it first: read it as any known customer.
        found = _customer_with_lead(project=project, external_id=external_id, lead_event_name=lead_event_name)
    customer, lead = found
    if lead is None and lead_event_name is not None:
        raise NotFound(
            f"leadEventName: customer '{customer.external_id}' has no lead event named '{lead_event_name}'.",
            lead_event_name=lead_event_name,
        )
    return customer, False, lead


def _customer_with_lead(*, project, external_id, lead_event_name) -> tuple[Customer, LeadEvent | None] | None:
    """The customer of `project` with `external_id` and its latest lead (the latest named `lead_event_name` when
    given; None when it has none), or None without such a customer: one query, prepared once per connection.
    Plain SQL: the ORM spent longer composing the two lookups it replaces than the database running them. The
    lead is read as the sale uses it: its id and its click id."""
    quote = connection.ops.quote_name
    customers, leads = (quote(model._meta.db_table) for model in (Customer, LeadEvent))
    columns = ", ".join(f"c.{quote(field.column)}" for field in Customer._meta.concrete_fields)
    named = "" if lead_event_name is None else " AND event_name = %s"
    sql = (
        f"SELECT {columns}, l.id AS lead_id, l.click_id AS lead_click_id FROM {customers} c "
        f"LEFT JOIN {leads} l ON l.id = "
        f"(SELECT id FROM {leads} WHERE customer_id = c.id{named} ORDER BY created_at DESC LIMIT 1) "
        "WHERE c.project_id = %s AND c.external_id = %s"
    )
    params = [*([lead_event_name] if named else []), project.pk, external_id]
    name = "tracking_customer_latest_named_lead" if named else "tracking_customer_latest_lead"
    found = list(raw_prepared(Customer, name, sql, params))
    if not found:
        return None
    [customer] = found
    if customer.lead_id is None:
        return customer, None
    lead_id = LeadEvent._meta.pk.to_python(customer.lead_id)  # SQLite hands over the hex digits
    return customer, LeadEvent.from_db(connection.alias, ["id", "click_id"], [lead_id, customer.lead_click_id])
