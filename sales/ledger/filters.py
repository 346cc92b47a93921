"""django-filter sets of the native sales API."""

import django_filters
from django.db.models import Exists, OuterRef

from sales.ledger.models import Sale, SaleLine
from salesledger.filters import UTCDateTimeFromToRangeFilter


class SaleFilter(django_filters.FilterSet):
    created = UTCDateTimeFromToRangeFilter(
        field_name="created_at", label="Created between (created_after, created_before; ISO 8601)"
    )
    customer = django_filters.UUIDFilter(field_name="customer_id")
    # Bounded to the id column's 64 bits: past them SQLite raises OverflowError (a 500), not "no match".
    location = django_filters.NumberFilter(field_name="location_id", min_value=1, max_value=2**63 - 1)
    product = django_filters.UUIDFilter(method="filter_product", label="Sales with a line of this product")

    class Meta:
        model = Sale
        fields = ["status", "channel", "category", "external_id"]

    def filter_product(self, queryset, name, value):
        # EXISTS rather than a join: a sale with two lines of the product is listed once.
        return queryset.filter(Exists(SaleLine.objects.filter(sale=OuterRef("pk"), product_id=value)))
