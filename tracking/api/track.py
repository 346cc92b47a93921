"""The track dialect: POST /track/sale and POST /track/lead, as the official clients of that API call them."""

import json
from collections.abc import Mapping

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from apikeys.api.base import DialectView
from salesledger.errors import TRACK, ServiceError
from salesledger.money import UnknownCurrency, normalize_currency
from salesledger.serializers import ShallowFieldsSerializer
from tracking.api.fast import FastCall
from tracking.models import Customer, PaymentProcessor, SaleEvent
from tracking.services import lead_event_track, sale_event_track

METADATA_MAX_CHARS = 10_000
# The largest integer a JavaScript client can send exactly.
MAX_SAFE_INTEGER = 2**53 - 1


class WholeNumberField(serializers.IntegerField):
    """An integer as JSON sends it: 1.5, "12" and true are refused, never rounded or parsed."""

    def to_internal_value(self, data):
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class MetadataField(serializers.DictField):
    """A JSON object of at most 10,000 characters when stringified (as JavaScript's JSON.stringify does)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        size = len(text)
        # PostgreSQL's jsonb cannot store the NUL character: refuse it here rather than fail at the insert.
        if "\\u0000" in text:
            raise serializers.ValidationError("must not contain the NUL character (\\u0000).")
        if size > METADATA_MAX_CHARS:
            raise serializers.ValidationError(
                f"must be at most {METADATA_MAX_CHARS:,} characters as JSON; this one is {size:,}."
            )
        return value


class TrackRequestSerializer(ShallowFieldsSerializer):  # metadata's child validates nothing, reads no context
    """Fields shared by both calls. An explicit `null` means the field was not sent (so its default applies);
    unknown keys are ignored."""

    customerExternalId = serializers.CharField(
        min_length=1, max_length=100, required=False, allow_null=True, help_text="The customer's id in your system."
    )
    externalId = serializers.CharField(
        min_length=1,
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Deprecated alias of `customerExternalId`.",
    )
    customerId = serializers.CharField(
        min_length=1,
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Deprecated alias of `customerExternalId`.",
    )
    clickId = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)
    customerName = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    customerEmail = serializers.EmailField(max_length=100, required=False, allow_null=True, allow_blank=True)
    customerAvatar = serializers.CharField(max_length=2048, required=False, allow_null=True, allow_blank=True)
    metadata = MetadataField(required=False, allow_null=True, help_text="At most 10,000 characters as JSON.")

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            data = {key: value for key, value in data.items() if value is not None}
        return super().to_internal_value(data)

    def validate(self, attrs):
        external_id = attrs.get("customerExternalId") or attrs.get("externalId") or attrs.get("customerId")
        if external_id is None:
            # The dialect answers a missing customer id with 400, not with a 422 validation error.
            raise ServiceError("customerExternalId: required (or its older names externalId, customerId).")
        return {
            "customer_external_id": external_id,
            "click_id": attrs.get("clickId") or None,
            "customer_name": attrs.get("customerName") or None,
            "customer_email": attrs.get("customerEmail") or None,
            "customer_avatar": attrs.get("customerAvatar") or None,
            "metadata": attrs.get("metadata"),
            **self.validate_call(attrs),
        }

    def validate_call(self, attrs) -> dict:
        raise NotImplementedError


class TrackSaleRequestSerializer(TrackRequestSerializer):
    amount = WholeNumberField(
        min_value=0,
        max_value=MAX_SAFE_INTEGER,
        help_text="Minor units (cents); zero-decimal currencies such as JPY in whole units.",
    )
    currency = serializers.CharField(
        default="usd", allow_null=True, min_length=3, max_length=3, help_text="ISO 4217, any case."
    )
    eventName = serializers.CharField(default="Purchase", allow_null=True, min_length=1, max_length=255)
    paymentProcessor = serializers.ChoiceField(choices=PaymentProcessor.choices, default="custom", allow_null=True)
    invoiceId = serializers.CharField(
        min_length=1,
        max_length=255,
        required=False,
        allow_null=True,
        help_text="Idempotency key: one sale per invoice id.",
    )
    leadEventName = serializers.CharField(min_length=1, max_length=255, required=False, allow_null=True)

    def validate_currency(self, value):
        try:
            return normalize_currency(value).lower()
        except UnknownCurrency as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_call(self, attrs):
        return {
            "amount": attrs["amount"],
            "currency": attrs["currency"],
            "event_name": attrs["eventName"],
            "payment_processor": attrs["paymentProcessor"],
            "invoice_id": attrs.get("invoiceId"),
            "lead_event_name": attrs.get("leadEventName"),
        }


class TrackLeadRequestSerializer(TrackRequestSerializer):
    eventName = serializers.CharField(min_length=1, max_length=255)
    mode = serializers.ChoiceField(
        choices=["async", "wait", "deferred"],
        default="async",
        allow_null=True,
        help_text="Accepted for compatibility: SalesLedger always records the lead before it answers.",
    )
    eventQuantity = WholeNumberField(
        min_value=1, max_value=100, required=False, allow_null=True, help_text="Record this many lead events."
    )

    def validate_call(self, attrs):
        return {"event_name": attrs["eventName"], "event_quantity": attrs.get("eventQuantity", 1)}


class TrackCustomerSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="`cus_...`")
    name = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    avatar = serializers.CharField(allow_null=True)
    externalId = serializers.CharField(allow_null=True)


CONVERSION_HELP = (
    "Sales in any ISO 4217 currency are recorded. With a rate for the currency (the ECB reference rates "
    "ship with SalesLedger; `load_exchange_rates` adds newer ones) the sale is converted to US cents at "
    "the latest rate: `amount` is in US cents and `currency` is `usd`. Without one, the sale is recorded "
    "in its own currency with its conversion pending (`amount` in minor units of that `currency`) and "
    "converted when a rate for it is loaded."
)


class TrackConversionSerializer(serializers.Serializer):
    """Beyond the dialect's document: how the amount was converted (clients ignore unknown keys)."""

    status = serializers.ChoiceField(choices=["converted", "pending"], help_text=CONVERSION_HELP)
    originalAmount = serializers.IntegerField(help_text="Minor units of the original currency, as sent.")
    originalCurrency = serializers.CharField(help_text="ISO 4217, lower case, as sent.")
    rate = serializers.FloatField(
        allow_null=True, help_text="Units of the original currency per 1 USD (1 for USD); null while pending."
    )
    rateDate = serializers.DateField(allow_null=True, help_text="The rate's effective date; null for USD or pending.")


class TrackSaleSerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="US cents once converted; minor units of `currency` while pending.")
    currency = serializers.CharField(help_text="`usd` once converted; the sale's own currency while pending.")
    paymentProcessor = serializers.CharField()
    invoiceId = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(allow_null=True)


class TrackSaleResponseSerializer(serializers.Serializer):
    """The seed's flat fields and the newer nested ones: every key present, null where there is no value."""

    eventName = serializers.CharField()
    customerId = serializers.CharField(allow_null=True)
    amount = serializers.IntegerField(help_text="US cents once converted; minor units of `currency` while pending.")
    paymentProcessor = serializers.CharField()
    invoiceId = serializers.CharField(allow_null=True)
    currency = serializers.CharField(help_text="`usd` once converted; the sale's own currency while pending.")
    metadata = serializers.DictField(allow_null=True)
    customer = TrackCustomerSerializer(allow_null=True)
    sale = TrackSaleSerializer(allow_null=True)
    conversion = TrackConversionSerializer(allow_null=True, help_text="Null when nothing was recorded (amount 0).")


class TrackClickSerializer(serializers.Serializer):
    id = serializers.CharField()


class TrackLeadCustomerSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    avatar = serializers.CharField(allow_null=True)
    externalId = serializers.CharField(allow_null=True)


class TrackLeadResponseSerializer(serializers.Serializer):
    click = TrackClickSerializer()
    link = serializers.JSONField(allow_null=True, help_text="Always null: SalesLedger has no short links.")
    customer = TrackLeadCustomerSerializer()


class TrackErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["bad_request", "unauthorized", "forbidden", "not_found", "conflict", "unprocessable_entity",
                 "rate_limit_exceeded", "internal_server_error"]
    )  # fmt: skip
    message = serializers.CharField()
    doc_url = serializers.URLField()


class TrackErrorSerializer(serializers.Serializer):
    error = TrackErrorDetailSerializer()


def _error(description):
    return OpenApiResponse(TrackErrorSerializer, description=description)


TRACK_ERRORS = {
    400: _error("Not JSON, no customer id, or a lead without a click to attribute to (`bad_request`)."),
    401: _error("Missing or invalid API key (`unauthorized`)."),
    422: _error("A field is invalid; the message names it (`unprocessable_entity`)."),
}


def customer_body(customer: Customer) -> dict:
    return {
        "id": customer.public_id,
        "name": customer.name,
        "email": customer.email or None,
        "avatar": customer.avatar or None,
        "externalId": customer.external_id,
    }


def sale_body(event: SaleEvent) -> dict:
    conversion = {
        "status": "pending" if event.conversion_pending else "converted",
        "originalAmount": event.original_amount,
        "originalCurrency": event.original_currency,
        "rate": None if event.exchange_rate is None else float(event.exchange_rate),
        "rateDate": None if event.exchange_rate_date is None else event.exchange_rate_date.isoformat(),
    }
    sale = {
        "amount": event.original_amount if event.conversion_pending else event.amount,
        "currency": event.original_currency if event.conversion_pending else "usd",
        "paymentProcessor": event.payment_processor,
        "invoiceId": event.invoice_id,
        "metadata": event.metadata,
    }
    return {"eventName": event.event_name, "customerId": event.customer.public_id, **sale,
            "customer": customer_body(event.customer), "sale": sale, "conversion": conversion}  # fmt: skip


def untracked_sale_body(data: dict) -> dict:
    """An amount of 0 records nothing: the call is echoed, with nulls where a recorded sale has values."""
    return {
        "eventName": data["event_name"],
        "customerId": None,
        "amount": 0,
        "paymentProcessor": data["payment_processor"],
        "invoiceId": data["invoice_id"],
        "currency": "usd",
        "metadata": data["metadata"] or {},
        "customer": None,
        "sale": None,
        "conversion": None,
    }


class TrackView(DialectView):
    dialect = TRACK

    def handle_exception(self, exc):
        # A body that is not JSON is a 400 in this dialect, whatever content type it was labelled with.
        if isinstance(exc, exceptions.UnsupportedMediaType):
            exc = exceptions.ParseError(
                f"The body must be JSON, not '{self.request.content_type or 'without a content type'}'."
            )
        return super().handle_exception(exc)

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class TrackSaleView(TrackView):
    """Track a sale in any ISO 4217 currency: converted to US cents at the latest rate, or recorded with its
    conversion pending until a rate for its currency is loaded; `invoiceId` makes retries safe."""

    @extend_schema(
        operation_id="trackSale",
        request=TrackSaleRequestSerializer,
        responses={
            200: TrackSaleResponseSerializer,
            **TRACK_ERRORS,
            404: _error("`leadEventName` names no lead event of the customer (`not_found`)."),
        },
        tags=["track"],
    )
    def post(self, request):
        data = _fast_sale_call(request) or self.validated(TrackSaleRequestSerializer)
        event = sale_event_track(project=self.project, **data, actor_key=request.auth)
        return Response(untracked_sale_body(data) if event is None else sale_body(event))


_fast_sale_call = FastCall(TrackSaleRequestSerializer)


class TrackLeadView(TrackView):
    """Track a lead; the same customer and event name within 7 days is recorded once."""

    @extend_schema(
        operation_id="trackLead",
        request=TrackLeadRequestSerializer,
        responses={200: TrackLeadResponseSerializer, **TRACK_ERRORS},
        tags=["track"],
    )
    def post(self, request):
        tracked = lead_event_track(
            project=self.project, **self.validated(TrackLeadRequestSerializer), actor_key=request.auth
        )
        customer = customer_body(tracked.customer)
        del customer["id"]
        return Response({"click": {"id": tracked.click_id}, "link": None, "customer": customer})
