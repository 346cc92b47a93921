"""Reads of the tracking app: customers with their totals, lead and sale events as one list of conversions,
the exchange rates in effect on given days."""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import models
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apikeys.models import Project
from salesledger.money import convert, normalize_currency, quantize, to_decimal
from tracking.models import Customer, ExchangeRate, LeadEvent, SaleEvent

# The columns both kinds of event share in the conversion list, in the order the union needs.
CONVERSION_COLUMNS = [
    "id", "kind", "customer_id", "customer_external_id", "event_name", "click_id", "amount", "original_amount",
    "original_currency", "payment_processor", "invoice_id", "lead_event_id", "metadata", "created_at",
]  # fmt: skip


def _per_customer(queryset, aggregate):
    """One correlated subquery per customer: two counts by joins would multiply each other's rows."""
    per_customer = queryset.filter(customer=OuterRef("pk")).order_by().values("customer")
    return Subquery(per_customer.annotate(total=aggregate).values("total"))


def customers_with_totals(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers annotated with `lead_count`, `sale_count` and `revenue_usd_cents`, in the same one query."""
    return queryset.annotate(
        lead_count=Coalesce(_per_customer(LeadEvent.objects, Count("pk")), 0, output_field=models.IntegerField()),
        sale_count=Coalesce(_per_customer(SaleEvent.objects, Count("pk")), 0, output_field=models.IntegerField()),
        revenue_usd_cents=Coalesce(
            _per_customer(SaleEvent.objects, Sum("amount")), 0, output_field=models.BigIntegerField()
        ),
    )


def conversions(*, project: Project, leads: QuerySet[LeadEvent], sales: QuerySet[SaleEvent]) -> QuerySet:
    """The project's lead and sale events (already filtered) as one list of dicts, newest first."""
    none_int = Value(None, output_field=models.BigIntegerField())
    none_text = Value(None, output_field=models.CharField())
    leads = leads.filter(project=project).annotate(
        kind=Value("lead", output_field=models.CharField()),
        customer_external_id=F("customer__external_id"),
        amount=none_int,
        original_amount=none_int,
        original_currency=none_text,
        payment_processor=none_text,
        invoice_id=none_text,
        lead_event_id=Value(None, output_field=models.UUIDField()),
    )
    sales = sales.filter(project=project).annotate(
        kind=Value("sale", output_field=models.CharField()),
        customer_external_id=F("customer__external_id"),
        click_id=Coalesce(F("lead_event__click_id"), F("customer__click_id")),
    )
    return (
        leads.order_by()
        .values(*CONVERSION_COLUMNS)
        .union(sales.order_by().values(*CONVERSION_COLUMNS), all=True)
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class UsedRate:
    """A rate a conversion used: units of `currency` per 1 USD from `effective_date` on."""

    currency: str
    rate: Decimal
    effective_date: date


@dataclass
class RateTable:
    """The rates of some currencies up to a day, to convert amounts as of any day before it.

    The rate of a day is the latest one dated on or before it; a day older than every rate of its
    currency takes the currency's first rate. `used` collects the rates conversions took.
    """

    rates: dict[str, list[tuple[date, Decimal]]]
    used: set[UsedRate] = field(default_factory=set)

    def rate_on(self, currency: str, day: date) -> UsedRate | None:
        code = normalize_currency(currency)
        if code == "USD":
            return UsedRate(currency="USD", rate=Decimal(1), effective_date=day)
        known = self.rates.get(code)
        if not known:
            return None
        effective_date, rate = known[max(bisect_right(known, day, key=lambda pair: pair[0]) - 1, 0)]
        return UsedRate(currency=code, rate=rate, effective_date=effective_date)

    def convert(self, amount, *, from_currency: str, to_currency: str, day: date) -> Decimal | None:
        """`amount` in `to_currency` as of `day`, rounded once to its decimals; None without a rate for either."""
        if normalize_currency(from_currency) == normalize_currency(to_currency):
            return quantize(amount, to_currency)
        source, target = self.rate_on(from_currency, day), self.rate_on(to_currency, day)
        if source is None or target is None:
            return None
        self.used.update(rate for rate in (source, target) if rate.currency != "USD")
        return convert(to_decimal(amount) * target.rate, rate=source.rate, to_currency=to_currency)


def exchange_rate_table(*, currencies: Iterable[str], until: date) -> RateTable:
    """The rates of `currencies` dated up to `until` (a rate dated later does not apply yet), in one query."""
    codes = {normalize_currency(code) for code in currencies} - {"USD"}
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    if codes:
        rows = (
            ExchangeRate.objects.filter(currency__in=codes, effective_date__lte=until)
            .order_by("currency", "effective_date")
            .values_list("currency", "effective_date", "rate")
        )
        for code, day, rate in rows:
            rates.setdefault(code, []).append((day, rate))
    return RateTable(rates=rates)
