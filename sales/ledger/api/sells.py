"""sells dialect (seed 001): a user's sales at `/sells`, created pending and then confirmed or cancelled."""

import datetime
import uuid

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apikeys.api.base import DialectView
from sales.ledger.api.fields import (
    NumberField,
    StrictCharField,
    StrictIntegerField,
    UTCDateTimeField,
    json_number,
    json_response,
    utc_text,
)
from sales.ledger.models import Sale, SaleChannel, SaleStatus
from sales.ledger.selectors import sale_get, sales_with_lines, user_sales_page
from sales.ledger.services import LineInput, sale_cancel, sale_confirm, sale_create
from salesledger.errors import SELLS
from salesledger.serializers import ShallowFieldsSerializer

DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_PRODUCTS = 500
# The database's OFFSET is a signed 64-bit integer: past it, a 400 naming the field, not a 500.
MAX_OFFSET = 2**63 - 1 - MAX_PAGE


# Requests ---------------------------------------------------------------------------------------


class SellProductInput(ShallowFieldsSerializer):
    productId = StrictCharField(max_length=200, help_text="The product's UUID, or its external_id in the project.")
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000, help_text="Whole units, at least 1.")
    price = NumberField(
        positive=True, required=False, help_text="Unit price, > 0. Omitted: the variant's or product's price."
    )
    variantId = StrictCharField(
        max_length=200, required=False, allow_null=True, help_text="UUID of a variant of this product."
    )


class SellCreateInput(serializers.Serializer):
    products = SellProductInput(many=True, allow_empty=False, max_length=MAX_PRODUCTS)


class SellListQuery(ShallowFieldsSerializer):
    status = serializers.ChoiceField(choices=SaleStatus.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=DEFAULT_PAGE)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)
    # `from` is a Python keyword, so the two are declared through the class body's namespace.
    locals()["from"] = serializers.DateTimeField(required=False, default_timezone=datetime.UTC)
    locals()["to"] = serializers.DateTimeField(required=False, default_timezone=datetime.UTC)


# Responses --------------------------------------------------------------------------------------


class _LineSerializer(serializers.Serializer):
    """A sale line as the document shows it; `variantId` only on lines that have a variant."""

    def to_representation(self, line):
        data = super().to_representation(line)
        if data.get("variantId") is None:
            data.pop("variantId", None)
        return data


class SellProductShort(_LineSerializer):
    productId = serializers.UUIDField(source="product_id", allow_null=True)
    quantity = NumberField(max_digits=12, decimal_places=2)
    price = NumberField(source="unit_price")
    variantId = serializers.UUIDField(source="variant_id", required=False)


class SellProduct(_LineSerializer):
    productId = serializers.UUIDField(source="product_id", allow_null=True)
    name = serializers.CharField(source="product_name")
    quantity = NumberField(max_digits=12, decimal_places=2)
    price = NumberField(source="unit_price")
    variantId = serializers.UUIDField(source="variant_id", required=False)
    subtotal = NumberField(source="line_total")


class SellProductDetail(SellProduct):
    image = serializers.CharField(source="product_image", help_text="The product's image when it was sold.")


class _SellSerializer(serializers.Serializer):
    """A sale; `confirmedAt` / `cancelledAt` only once it has been confirmed / cancelled."""

    def to_representation(self, sale):
        data = super().to_representation(sale)
        for key in ("confirmedAt", "cancelledAt"):
            if key in data and data[key] is None:
                del data[key]
        return data


class Sell(_SellSerializer):
    id = serializers.UUIDField()
    products = SellProduct(source="lines", many=True)
    total = NumberField()
    status = serializers.ChoiceField(choices=SaleStatus.choices)
    createdAt = UTCDateTimeField(source="created_at")
    confirmedAt = UTCDateTimeField(source="confirmed_at", required=False)
    cancelledAt = UTCDateTimeField(source="cancelled_at", required=False)


# What a Sell reads, for a list page read as rows (user_sales_page) rather than model instances, in the
# order `sell_of_row` and `_product_of_row` unpack them.
SELL_FIELDS = ("id", "total", "status", "created_at", "confirmed_at", "cancelled_at")
SELL_LINE_FIELDS = ("product_id", "product_name", "quantity", "unit_price", "variant_id", "line_total")


def sell_of_row(sale: tuple, lines: list[tuple]) -> dict:
    """A sale as `Sell` writes it, from a row of SELL_FIELDS with its lines' rows of SELL_LINE_FIELDS whose ids
    and times are already text (a list page's, written by the database), built directly: a serializer's work
    per field cost more than the page's query (and, for the sale a create or a confirm answers, about a
    tenth of the request's CPU)."""
    sale_id, total, status, created_at, confirmed_at, cancelled_at = sale
    sell = {
        "id": sale_id,
        "products": [_product_of_row(line) for line in lines],
        "total": json_number(total),
        "status": status,
        "createdAt": created_at,
    }
    if confirmed_at is not None:
        sell["confirmedAt"] = confirmed_at
    if cancelled_at is not None:
        sell["cancelledAt"] = cancelled_at
    return sell


def sell_of_sale(sale: Sale) -> dict:
    """A sale just written, with its lines, as `SellWithUser` writes it, built as `sell_of_row` builds a page's."""
    row = tuple(_as_text(getattr(sale, name)) for name in SELL_FIELDS)
    lines = [tuple(_as_text(getattr(line, name)) for name in SELL_LINE_FIELDS) for line in sale.lines.all()]
    sell = sell_of_row(row, lines)
    return {"id": sell.pop("id"), "userId": None if sale.user_id is None else str(sale.user_id), **sell}


def _as_text(value):
    """An id or a time as a list page's row holds it (`uuid_text_sql`, `utc_text_sql`); other values as they are."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return utc_text(value)
    return value


def sell_confirmed(sale: Sale) -> dict:
    """A sale just confirmed, with its lines, as `SellConfirmed` writes it, built directly."""
    sell = {"id": str(sale.id), "status": sale.status}
    if sale.confirmed_at is not None:
        sell["confirmedAt"] = utc_text(sale.confirmed_at)
    sell["products"] = []
    for line in sale.lines.all():
        product = {
            "productId": None if line.product_id is None else str(line.product_id),
            "quantity": json_number(line.quantity),
            "price": json_number(line.unit_price),
        }
        if line.variant_id is not None:
            product["variantId"] = str(line.variant_id)
        sell["products"].append(product)
    sell["total"] = json_number(sale.total)
    return sell


def _product_of_row(line: tuple) -> dict:
    """A line's row of SELL_LINE_FIELDS as `SellProduct` writes it."""
    product_id, product_name, quantity, unit_price, variant_id, line_total = line
    product = {
        "productId": product_id,
        "name": product_name,
        "quantity": json_number(quantity),
        "price": json_number(unit_price),
    }
    if variant_id is not None:
        product["variantId"] = variant_id
    product["subtotal"] = json_number(line_total)
    return product


class SellWithUser(Sell):
    userId = serializers.CharField(source="user_id", allow_null=True, help_text="The key's acting user.")

    def to_representation(self, sale):
        data = super().to_representation(sale)
        return {"id": data.pop("id"), "userId": data.pop("userId"), **data}  # the document's order


class SellDetail(SellWithUser):
    products = SellProductDetail(source="lines", many=True)


class SellConfirmed(_SellSerializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SaleStatus.choices)
    confirmedAt = UTCDateTimeField(source="confirmed_at")
    products = SellProductShort(source="lines", many=True)
    total = NumberField()


SellCreated = inline_serializer("SellCreated", fields={"sell": SellWithUser()})
SellDetailResponse = inline_serializer("SellDetailResponse", fields={"sell": SellDetail()})
SellList = inline_serializer(
    "SellList",
    fields={
        "sells": Sell(many=True),
        "totalSales": serializers.IntegerField(help_text="Every sale the filters match, not only this page."),
        "totalRevenue": NumberField(
            help_text="Sum of the matching pending and confirmed sales (never cancelled), in the project's currency: "
            "sales in other currencies are converted at the exchange rate of their day (a currency without any "
            "rate counts nothing)."
        ),
    },
)
SellConfirmResponse = inline_serializer(
    "SellConfirmResponse", fields={"message": serializers.CharField(), "sell": SellConfirmed()}
)
SellCancelResponse = inline_serializer(
    "SellCancelResponse", fields={"message": serializers.CharField(), "sellId": serializers.UUIDField()}
)
SellsError = inline_serializer("SellsError", fields={"message": serializers.CharField()})
ERRORS = {400: SellsError, 401: SellsError, 404: SellsError, 409: SellsError}


# Views ------------------------------------------------------------------------------------------


class _SellsView(DialectView):
    dialect = SELLS

    def user_sales(self) -> QuerySet[Sale]:
        """The key user's sales in the key's project: any other id (another project's, not a UUID) is a 404."""
        return Sale.objects.filter(project=self.project, user=self.request.user)

    def user_scope(self) -> dict:
        """`user_sales` as the columns the sale services read it by (`scope`)."""
        return {"project_id": self.project.pk, "user_id": self.request.user.pk}


class SellsView(_SellsView):
    @extend_schema(
        operation_id="sells_create",
        tags=["sells"],
        summary="Create a pending sale",
        description=(
            "Creates a `pending` sale of the key's acting user and reserves the stock of every product. "
            "`productId` is the product's UUID or its `external_id`; `variantId` must be a variant of that "
            "product; without `price` the variant's or product's price is used. The response's `productId` "
            'is always the product\'s UUID. Errors are `{"message": "..."}`: 400 invalid data (naming '
            "the field), 401 bad key, 404 a product not in this project, 409 insufficient stock (naming "
            "every product short)."
        ),
        request=SellCreateInput,
        responses={201: SellCreated, **ERRORS},
    )
    def post(self, request):
        params = SellCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        lines = [
            LineInput(
                product=item["productId"],
                variant=item.get("variantId"),
                quantity=item["quantity"],
                unit_price=item.get("price"),
            )
            for item in params.validated_data["products"]
        ]
        created = sale_create(
            project=self.project,
            channel=SaleChannel.SELLS,
            lines=lines,
            status=SaleStatus.PENDING,
            user=request.user,
            api_key=request.auth,
        )
        return Response({"sell": sell_of_sale(created)}, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="sells_list",
        tags=["sells"],
        summary="The key user's sales, newest first",
        description=(
            "Sales of the key's acting user in the key's project, newest first, `limit` per page (default "
            f"{DEFAULT_PAGE}, at most {MAX_PAGE}) from `offset`. `totalSales` and `totalRevenue` cover every "
            "sale the filters match, not only the page; revenue counts pending and confirmed sales, never "
            "cancelled ones. `from`/`to` are ISO 8601 instants (a bare date is that day's 00:00 UTC), inclusive."
        ),
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=SaleStatus.values),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="Created at or after."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Created at or before."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_PAGE}, default {DEFAULT_PAGE}."),
            OpenApiParameter("offset", OpenApiTypes.INT, description=f"0 to {MAX_OFFSET}, default 0."),
        ],
        responses={200: SellList, 400: SellsError, 401: SellsError},
    )
    def get(self, request):
        params = SellListQuery(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        page, totals = user_sales_page(
            project=self.project,
            user=request.user,
            status=query.get("status"),
            created_from=query.get("from"),
            created_to=query.get("to"),
            offset=query["offset"],
            limit=query["limit"],
            sale_fields=SELL_FIELDS,
            line_fields=SELL_LINE_FIELDS,
        )
        return json_response(
            {
                "sells": [sell_of_row(sale, lines) for sale, lines in page],
                "totalSales": totals.count,
                "totalRevenue": json_number(totals.revenue),
            }
        )


class SellDetailView(_SellsView):
    @extend_schema(
        operation_id="sells_detail",
        tags=["sells"],
        summary="One sale, with each product's image",
        description="Only the key user's own sale in the key's project; any other id is a 404.",
        responses={200: SellDetailResponse, 401: SellsError, 404: SellsError},
    )
    def get(self, request, sale_id):
        sale = sale_get(queryset=sales_with_lines(self.user_sales()), sale_id=sale_id)
        return Response({"sell": SellDetail(sale).data})


class SellConfirmView(_SellsView):
    @extend_schema(
        operation_id="sells_confirm",
        tags=["sells"],
        summary="Confirm a pending sale",
        description=(
            "The stock reservation becomes a deduction. Any request body is ignored. A sale that is not "
            "pending is a 409 whose message names its current status."
        ),
        request=None,
        responses={200: SellConfirmResponse, 401: SellsError, 404: SellsError, 409: SellsError},
    )
    def put(self, request, sale_id):
        sale = sale_confirm(sale_id=sale_id, scope=self.user_scope(), user=request.user, api_key=request.auth)
        return Response({"message": "Sale confirmed successfully", "sell": sell_confirmed(sale)})


class SellCancelView(_SellsView):
    @extend_schema(
        operation_id="sells_cancel",
        tags=["sells"],
        summary="Cancel a sale",
        description=(
            "A pending sale's reservation is released; a confirmed sale's stock is restored. Cancelling a "
            "cancelled sale is a 409 whose message names its current status."
        ),
        request=None,
        responses={200: SellCancelResponse, 401: SellsError, 404: SellsError, 409: SellsError},
    )
    def put(self, request, sale_id):
        sale = sale_cancel(sale_id=sale_id, scope=self.user_scope(), user=request.user, api_key=request.auth)
        return Response({"message": "Sale cancelled successfully", "sellId": str(sale.id)})
