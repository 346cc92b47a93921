"""django-filter filtersets of the native inventory API."""

import django_filters

from inventory.models import Product, StockMovement
from salesledger.filters import UTCDateTimeFilter


class ProductFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Name contains (case-insensitive).")
    available_lte = django_filters.NumberFilter(
        field_name="available", lookup_expr="lte", help_text="Low stock: available units at most this many."
    )

    class Meta:
        model = Product
        fields = ["sku", "ean", "external_id", "name", "active", "available_lte"]


class StockMovementFilter(django_filters.FilterSet):
    product = django_filters.UUIDFilter(field_name="product_id")
    variant = django_filters.UUIDFilter(field_name="variant_id")
    reason = django_filters.ChoiceFilter(choices=StockMovement.Reason.choices)
    sale_id = django_filters.UUIDFilter()
    since = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Movements at or after this time (ISO 8601)."
    )

    class Meta:
        model = StockMovement
        fields = ["product", "variant", "reason", "sale_id", "since"]
