"""Native API of the tracking app: customers with their totals, and their conversions (lead and sale events)."""

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apikeys.api.base import ProjectScopedViewSet
from salesledger.money import from_minor
from tracking import selectors
from tracking.filters import ConversionFilter, CustomerFilter
from tracking.models import Customer, LeadEvent, SaleEvent

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


@extend_schema_field(OpenApiTypes.DECIMAL)
class USDCentsField(serializers.Field):
    """US cents as stored, shown as a dollar amount: 1234 -> 12.34 (a JSON number)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return from_minor(value, "USD")


class CustomerSerializer(serializers.ModelSerializer):
    lead_count = serializers.IntegerField(read_only=True)
    sale_count = serializers.IntegerField(read_only=True)
    revenue_usd = USDCentsField(source="revenue_usd_cents", help_text="Total of the customer's sales, in USD.")

    class Meta:
        model = Customer
        fields = [
            "id", "public_id", "external_id", "name", "email", "phone", "avatar", "click_id", "created_at",
            "lead_count", "sale_count", "revenue_usd",
        ]  # fmt: skip


class ConversionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(source="kind", choices=["lead", "sale"])
    customer = serializers.UUIDField(source="customer_id")
    customer_external_id = serializers.CharField(allow_null=True)
    event_name = serializers.CharField()
    click_id = serializers.CharField(allow_null=True)
    amount_usd = USDCentsField(source="amount", allow_null=True, help_text="Sales: the amount in USD; leads: null.")
    original_amount = serializers.SerializerMethodField(help_text="Sales: the amount as sent, in its currency.")
    original_currency = serializers.CharField(allow_null=True)
    payment_processor = serializers.CharField(allow_null=True)
    invoice_id = serializers.CharField(allow_null=True)
    lead_event = serializers.UUIDField(source="lead_event_id", allow_null=True, help_text="The lead a sale follows.")
    metadata = serializers.JSONField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True))
    def get_original_amount(self, row):
        if row["original_amount"] is None:
            return None
        return from_minor(row["original_amount"], row["original_currency"])


_TIME = serializers.DateTimeField()


def conversion_data(row: dict) -> dict:
    """What `ConversionSerializer` writes of `row`, built directly: a lead's or a sale's event object. A
    serializer pass (its fields copied for each instance) cost about a tenth of a track sale's CPU; a test
    holds the two together."""

    def text(value):
        return None if value is None else str(value)

    original_amount, original_currency = row["original_amount"], row["original_currency"]
    return {
        "id": str(row["id"]),
        "type": row["kind"],
        "customer": str(row["customer_id"]),
        "customer_external_id": text(row["customer_external_id"]),
        "event_name": str(row["event_name"]),
        "click_id": text(row["click_id"]),
        "amount_usd": None if row["amount"] is None else from_minor(row["amount"], "USD"),
        "original_amount": None if original_amount is None else from_minor(original_amount, original_currency),
        "original_currency": text(original_currency),
        "payment_processor": text(row["payment_processor"]),
        "invoice_id": text(row["invoice_id"]),
        "lead_event": text(row["lead_event_id"]),
        "metadata": row["metadata"],
        "created_at": _TIME.to_representation(row["created_at"]),
    }


@extend_schema(tags=["native"])
class CustomerViewSet(ProjectScopedViewSet):
    """The project's customers, each with its lead and sale counts and total revenue in USD."""

    http_method_names = ["get", "head", "options"]
    queryset = selectors.customers_with_totals(Customer.objects.all())
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["created_at", "name"]
    ordering = ["-created_at"]
    lookup_value_regex = UUID_PATTERN


@extend_schema(tags=["native"])
class ConversionViewSet(ProjectScopedViewSet):
    """The project's lead and sale events in one list, newest first."""

    http_method_names = ["get", "head", "options"]
    queryset = LeadEvent.objects.all()
    serializer_class = ConversionSerializer
    filterset_class = ConversionFilter
    # Documents the filters; `get_queryset` applies them to both halves (a union cannot be filtered afterwards).
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        # Both halves are filtered first, then scoped to the key's project by the selector.
        leads, sales = (self._filtered(model.objects.all()) for model in (LeadEvent, SaleEvent))
        return selectors.conversions(project=self.project, leads=leads, sales=sales)

    def filter_queryset(self, queryset):
        return queryset

    def get_object(self):
        pk = self.kwargs[self.lookup_field]
        leads, sales = (model.objects.filter(pk=pk) for model in (LeadEvent, SaleEvent))
        row = selectors.conversions(project=self.project, leads=leads, sales=sales).first()
        if row is None:
            raise Http404
        return row

    def _filtered(self, queryset):
        filterset = self.filterset_class(self.request.query_params, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs
