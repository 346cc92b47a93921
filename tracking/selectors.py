"""Reads of the tracking app: customers with their totals, lead and sale events as one list of conversions."""

from django.db import models
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apikeys.models import Project
from tracking.models import Customer, LeadEvent, SaleEvent

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
