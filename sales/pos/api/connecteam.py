"""The connecteam dialect: POS transactions at /sales/v1/transactions, errors in FastAPI's `detail` shapes."""

import datetime
import re
import uuid
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apikeys.api.base import DialectView
from sales.pos.selectors import pos_transactions_in_period
from sales.pos.services import (
    MAX_BATCH,
    SALE_TYPES,
    TransactionInput,
    pos_transaction_delete,
    pos_transactions_create,
    pos_transactions_delete_period,
)
from salesledger import times
from salesledger.errors import CONNECTEAM
from salesledger.money import UnknownCurrency, normalize_currency, to_decimal

INTEGER = re.compile(r"-?[0-9]+")
MAX_UNIX_SECONDS = int(times.LATEST.timestamp())  # 2200-12-31T23:59:59Z, the business range's end
MAX_DATABASE_ID = 2**63 - 1
MAX_AMOUNT = Decimal(10) ** 15  # below the ledger's 16 integer digits, whatever the rounding
DEFAULT_PAGE = 100
MAX_PAGE = 500  # as every list of the API (apikeys.api.pagination)
PERIOD_BOUND = (
    "The period is half-open: a transaction is inside it when `startTime <= createdAt < endTime` "
    "(so consecutive periods never share a transaction); `endTime` must be greater than `startTime`."
)


def request_id(request) -> str:
    """The document's `requestId`, a UUID: the request's own id (the X-Request-ID middleware's) when
    that is a UUID, else a fresh one. Deletion records keep the same id the client was answered with."""
    try:
        return str(uuid.UUID(str(getattr(request, "request_id", ""))))
    except ValueError:
        return str(uuid.uuid4())


class IntegerField(serializers.IntegerField):
    """An integer as pydantic reads one: a JSON integer or a string of digits; never 12.5, true or "12a"."""

    default_error_messages = {
        "type_error.integer": "value is not a valid integer",
        "min_value": "ensure this value is greater than or equal to {min_value}",
        "max_value": "ensure this value is less than or equal to {max_value}",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or not INTEGER.fullmatch(str(data).strip()):
            self.fail("type_error.integer")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.NUMBER)
class AmountField(serializers.Field):
    """A JSON number read as an exact Decimal (rounded to the currency later, by the service)."""

    default_error_messages = {
        "type_error.float": "value is not a valid float",
        "value_error.number.not_lt": f"ensure this value is less than {MAX_AMOUNT} in absolute value",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("type_error.float")
        amount = to_decimal(data)
        if abs(amount) >= MAX_AMOUNT:
            self.fail("value_error.number.not_lt")
        return amount


class CurrencyField(serializers.CharField):
    """An ISO 4217 code, in any case; read as its upper-case form."""

    default_error_messages = {
        "type_error.str": "str type expected",
        "value_error.currency": "value is not a valid ISO 4217 currency code",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type_error.str")
        try:
            return normalize_currency(data)
        except UnknownCurrency:
            self.fail("value_error.currency")


@extend_schema_field(OpenApiTypes.INT)
class UnixSecondsField(serializers.Field):
    """A datetime written as whole Unix seconds (UTC)."""

    def to_representation(self, value):
        return int(value.timestamp())


def from_unix(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


class ObjectSerializer(serializers.Serializer):
    """A serializer whose input must be a JSON object, refused in pydantic's words otherwise."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            error = serializers.ErrorDetail("value is not a valid dict", code="type_error.dict")
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [error]})
        return super().to_internal_value(data)


class TransactionCreateSerializer(ObjectSerializer):
    locationId = IntegerField(min_value=1, max_value=MAX_DATABASE_ID, help_text="An id from the Locations API.")
    saleType = serializers.ChoiceField(
        choices=SALE_TYPES,
        error_messages={
            "invalid_choice": "value is not a valid enumeration member; permitted: "
            + ", ".join(f"'{sale_type}'" for sale_type in SALE_TYPES)
        },
    )
    createdAt = IntegerField(min_value=0, max_value=MAX_UNIX_SECONDS, help_text="Unix seconds, UTC.")
    finalSaleAmount = AmountField(help_text="After discounts, before tax; negative for a refund.")
    taxAmount = AmountField(required=False, allow_null=True, help_text="An amount, not a percentage.")
    currency = CurrencyField(required=False, allow_null=True, help_text="ISO 4217; the project's currency when absent.")


class TransactionsCreateRequestSerializer(ObjectSerializer):
    transactionsCreateRequest = TransactionCreateSerializer(
        many=True,
        min_length=1,
        max_length=MAX_BATCH,
        error_messages={
            "not_a_list": "value is not a valid list",
            "min_length": "ensure this value has at least 1 items",
            "max_length": f"ensure this value has at most {MAX_BATCH} items",
        },
    )

    def transactions(self) -> list[TransactionInput]:
        return [
            TransactionInput(
                location_id=item["locationId"],
                sale_type=item["saleType"],
                created_at=from_unix(item["createdAt"]),
                amount=item["finalSaleAmount"],
                tax=item.get("taxAmount"),
                currency=item.get("currency"),
            )
            for item in self.validated_data["transactionsCreateRequest"]
        ]


class TransactionSerializer(serializers.Serializer):
    """A transaction as the document shows it: `taxAmount` and `currency` only when the POS sent them."""

    transactionId = serializers.UUIDField(source="id")
    locationId = serializers.IntegerField(source="location_id")
    saleType = serializers.CharField(source="sale_type")
    createdAt = UnixSecondsField(source="created_at")
    finalSaleAmount = serializers.DecimalField(
        source="subtotal", max_digits=20, decimal_places=4, coerce_to_string=False
    )
    taxAmount = serializers.DecimalField(
        source="extra.taxAmount", max_digits=20, decimal_places=4, coerce_to_string=False, required=False
    )
    currency = serializers.CharField(source="extra.currency", required=False)


class PeriodQuerySerializer(serializers.Serializer):
    locationId = IntegerField(min_value=1, max_value=MAX_DATABASE_ID, help_text="Location ID.")
    startTime = IntegerField(min_value=0, max_value=MAX_UNIX_SECONDS, help_text="Start of period (Unix seconds).")
    endTime = IntegerField(
        min_value=0, max_value=MAX_UNIX_SECONDS, help_text="End of period (Unix seconds), after `startTime`."
    )

    def validate(self, attrs):
        if attrs["endTime"] <= attrs["startTime"]:
            raise ValidationError(
                {"endTime": [serializers.ErrorDetail("end_time must be greater than start_time", code="value_error")]}
            )
        return attrs


class PageQuerySerializer(PeriodQuerySerializer):
    limit = IntegerField(min_value=1, max_value=MAX_PAGE, default=DEFAULT_PAGE, help_text="Transactions per page.")
    offset = IntegerField(
        min_value=0, max_value=MAX_DATABASE_ID - MAX_PAGE, default=0, help_text="Transactions to skip."
    )


def query_params(serializer_class, request) -> dict:
    """Validated query parameters; problems are located in the `query` (`["query", "endTime"]`)."""
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise ValidationError({"query": serializer.errors})
    return serializer.validated_data


class ConnecteamErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class LocPartField(serializers.CharField):
    pass


class ConnecteamValidationItemSerializer(serializers.Serializer):
    loc = serializers.ListField(child=LocPartField())
    msg = serializers.CharField()
    type = serializers.CharField()


class ConnecteamValidationErrorSerializer(serializers.Serializer):
    detail = ConnecteamValidationItemSerializer(many=True)


class TransactionsDataSerializer(serializers.Serializer):
    transactions = TransactionSerializer(many=True)


class TransactionsResponseSerializer(serializers.Serializer):
    requestId = serializers.UUIDField()
    data = TransactionsDataSerializer()


class TransactionsPagingSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Transactions in the whole period.")


class TransactionsPageSerializer(TransactionsResponseSerializer):
    paging = TransactionsPagingSerializer()


class ConnecteamEmptyDataSerializer(serializers.Serializer):
    pass


class TransactionsDeletedSerializer(serializers.Serializer):
    requestId = serializers.UUIDField()
    data = ConnecteamEmptyDataSerializer()


UNAUTHORIZED = OpenApiResponse(ConnecteamErrorSerializer, description="Missing or invalid `X-API-KEY`.")
INVALID = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="ConnecteamUnprocessable",
        serializers=[ConnecteamValidationErrorSerializer, ConnecteamErrorSerializer],
        resource_type_field_name=None,
    ),
    description="Validation: one entry per problem; `loc` says where (`body` or `query`), `msg` and `type` what. "
    'An `Idempotency-Key` reused for another request: `{"detail": "text"}`.',
)
LOCATION_NOT_FOUND = OpenApiResponse(
    ConnecteamErrorSerializer,
    description="Unknown location ids (or another project's), each once, sorted.",
    examples=[OpenApiExample("location", value={"detail": "Locations with IDs [999] not found"})],
)


class TransactionsView(DialectView):
    """POS transactions: create in batches of 1 to 100, delete (or list) by location and period."""

    dialect = CONNECTEAM

    @extend_schema(
        operation_id="connecteam_transactions_create",
        tags=["connecteam"],
        summary="Create transactions (bulk)",
        description=(
            f"Creates 1 to {MAX_BATCH} transactions, all or none. Each is a confirmed ledger sale of its "
            "location: `finalSaleAmount` (negative for a refund) plus `taxAmount` (which takes the amount's "
            "sign) is the sale's total, so refunds reduce revenue. `taxAmount` and `currency` are echoed "
            "only when sent; the sale's currency is the project's when `currency` is absent."
        ),
        request=TransactionsCreateRequestSerializer,
        responses={200: TransactionsResponseSerializer, 401: UNAUTHORIZED, 404: LOCATION_NOT_FOUND, 422: INVALID},
    )
    def post(self, request):
        serializer = TransactionsCreateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sales = pos_transactions_create(
            project=self.project, transactions=serializer.transactions(), user=request.user, api_key=request.auth
        )
        data = {"transactions": TransactionSerializer(sales, many=True).data}
        return Response({"requestId": request_id(request), "data": data})

    @extend_schema(
        operation_id="connecteam_transactions_list",
        tags=["connecteam"],
        summary="List transactions of a period (beyond the document)",
        description=(
            "Lists one location's transactions of a period, oldest first, in the create response's shape, "
            f"so a POS can verify a sync. {PERIOD_BOUND} Pages of `limit` (default {DEFAULT_PAGE}, at most "
            f"{MAX_PAGE}) from `offset`."
        ),
        parameters=[PageQuerySerializer],
        responses={200: TransactionsPageSerializer, 401: UNAUTHORIZED, 404: LOCATION_NOT_FOUND, 422: INVALID},
    )
    def get(self, request):
        query = query_params(PageQuerySerializer, request)
        sales = pos_transactions_in_period(
            project=self.project,
            location_id=query["locationId"],
            start=from_unix(query["startTime"]),
            end=from_unix(query["endTime"]),
        )
        limit, offset = query["limit"], query["offset"]
        page = sales[offset : offset + limit]
        return Response(
            {
                "requestId": request_id(request),
                "data": {"transactions": TransactionSerializer(page, many=True).data},
                "paging": {"limit": limit, "offset": offset, "total": sales.count()},
            }
        )

    @extend_schema(
        operation_id="connecteam_transactions_delete_period",
        tags=["connecteam"],
        summary="Delete transactions by time period",
        description=(
            f"Deletes every transaction of the location inside the period. {PERIOD_BOUND} The deleted "
            "transactions leave the API and the reports; staff can see and restore each deletion in the admin."
        ),
        parameters=[PeriodQuerySerializer],
        request=None,
        responses={200: TransactionsDeletedSerializer, 401: UNAUTHORIZED, 404: LOCATION_NOT_FOUND, 422: INVALID},
    )
    def delete(self, request):
        query = query_params(PeriodQuerySerializer, request)
        answer_id = request_id(request)
        pos_transactions_delete_period(
            project=self.project,
            location_id=query["locationId"],
            start=from_unix(query["startTime"]),
            end=from_unix(query["endTime"]),
            request_id=answer_id,
            user=request.user,
            api_key=request.auth,
        )
        return Response({"requestId": answer_id, "data": {}})


class TransactionView(DialectView):
    dialect = CONNECTEAM

    @extend_schema(
        operation_id="connecteam_transaction_delete",
        tags=["connecteam"],
        summary="Delete a single transaction",
        description="Deletes one transaction; staff can see and restore the deletion in the admin.",
        parameters=[
            OpenApiParameter(
                "transactionId", OpenApiTypes.STR, OpenApiParameter.PATH, description="The transaction's unique ID."
            )
        ],
        request=None,
        responses={
            200: TransactionsDeletedSerializer,
            401: UNAUTHORIZED,
            404: OpenApiResponse(
                ConnecteamErrorSerializer,
                description="No transaction of this project has the id (also for a malformed id).",
                examples=[
                    OpenApiExample("transaction", value={"detail": "Transaction with ID 'invalid-id' not found"})
                ],
            ),
        },
    )
    def delete(self, request, transactionId):  # the document's name for the path parameter
        answer_id = request_id(request)
        pos_transaction_delete(
            project=self.project,
            transaction_id=transactionId,
            request_id=answer_id,
            user=request.user,
            api_key=request.auth,
        )
        return Response({"requestId": answer_id, "data": {}})
