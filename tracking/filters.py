"""django-filter filtersets of the native tracking API."""

import django_filters

from salesledger.filters import UTCDateTimeFilter
from tracking.models import Customer, LeadEvent, PaymentProcessor, SaleEvent

EVENT_MODELS = {"lead": LeadEvent, "sale": SaleEvent}


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact", help_text="Email (case-insensitive).")

    class Meta:
        model = Customer
        fields = ["external_id", "email"]


class ConversionFilter(django_filters.FilterSet):
    """Applied to lead events and to sale events alike, before the two are listed together."""

    type = django_filters.ChoiceFilter(choices=[(kind, kind) for kind in EVENT_MODELS], method="filter_type")
    customer = django_filters.UUIDFilter(field_name="customer_id", help_text="The customer's id (UUID).")
    customer_external_id = django_filters.CharFilter(field_name="customer__external_id")
    event_name = django_filters.CharFilter()
    payment_processor = django_filters.ChoiceFilter(
        choices=PaymentProcessor.choices, method="filter_payment_processor", help_text="Sales by this processor."
    )
    since = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="At or after this date or time (ISO 8601)."
    )
    until = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Before this date or time (ISO 8601)."
    )

    def filter_type(self, queryset, name, value):
        return queryset if queryset.model is EVENT_MODELS[value] else queryset.none()

    def filter_payment_processor(self, queryset, name, value):
        if queryset.model is not SaleEvent:
            return queryset.none()
        return queryset.filter(payment_processor=value)
