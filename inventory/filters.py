"""django-filter filtersets of the native inventory API."""

from datetime import UTC

import django_filters

from inventory.models import Product, StockMovement


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
    since = django_filters.IsoDateTimeFilter(
        method="filter_since", help_text="Movements at or after this time (ISO 8601)."
    )

    class Meta:
        model = StockMovement
        fields = ["product", "variant", "reason", "sale_id", "since"]

    def filter_since(self, queryset, name, value):
        # In UTC: the database refuses offsets beyond its range (+18:11 parses in Python).
        try:
            return queryset.filter(created_at__gte=value.astimezone(UTC))
        except OverflowError:
            # Before year 1 in UTC means everything; after year 9999, nothing.
            return queryset if value.utcoffset().total_seconds() > 0 else queryset.none()
