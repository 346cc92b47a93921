"""Native sales API: `/api/v1/sales/` lists, reads, creates, confirms and cancels a project's sales."""

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, models
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apikeys.api.base import ProjectScopedViewSet
from sales.ledger.filters import SaleFilter
from sales.ledger.models import Sale, SaleChannel, SaleLine, SaleStatus
from sales.ledger.selectors import sale_get, sales_with_lines
from sales.ledger.services import LineInput, sale_cancel, sale_confirm, sale_create
from tracking.models import Customer


class SaleLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SaleLine
        fields = [
            "id", "position", "product", "variant", "product_name", "product_image", "quantity", "unit_price",
            "discount", "line_total", "external_id", "tags",
        ]  # fmt: skip


class SaleSerializer(serializers.ModelSerializer):
    lines = SaleLineSerializer(many=True, read_only=True)

    class Meta:
        model = Sale
        fields = [
            "id", "channel", "status", "currency", "subtotal", "discount", "shipping", "tax", "total", "category",
            "customer", "user", "api_key", "external_id", "original_state", "location", "sale_type", "extra",
            "stock_applied", "created_at", "confirmed_at", "cancelled_at", "lines",
        ]  # fmt: skip


def _columns(serializer_class) -> list[tuple[str, str]]:
    """(name, model attribute) of each plain model field a serializer renders."""
    meta = serializer_class.Meta
    return [(name, meta.model._meta.get_field(name).attname) for name in meta.fields if name != "lines"]


def _plain(value):
    """A model value as these serializers render it: times in UTC with `Z`, UUIDs as text, money as Decimal
    (a JSON number once encoded), the rest as it is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def sale_snapshots(sales, lines) -> list[dict]:
    """Each sale as `GET /api/v1/sales/{id}` shows it, from the sales and lines in hand: what its events carry.

    No query, and fast enough for an upload of thousands of sales (DRF's serializers cost about 1 ms a sale);
    tests compare it with the API's own answer.
    """
    sale_columns, line_columns = _columns(SaleSerializer), _columns(SaleLineSerializer)
    by_sale = defaultdict(list)
    for line in sorted(lines, key=lambda line: line.position):
        by_sale[line.sale_id].append({name: _plain(getattr(line, attname)) for name, attname in line_columns})
    return [
        {**{name: _plain(getattr(sale, attname)) for name, attname in sale_columns}, "lines": by_sale[sale.pk]}
        for sale in sales
    ]


def _json_sql(field, column: str) -> str:
    """SQL (PostgreSQL) of the value `column` of `field` for `json_build_object`, rendered as `_plain` and
    DRF's JSON encoder render it: money a number as Python prints its float (12.0, 12.34), times in UTC
    with `Z` and microseconds only when there are some; the rest (text, UUIDs, ids, JSON) as it is."""
    if isinstance(field, models.DecimalField):
        # Integral amounts keep Python's ".0" (numeric(21, 1) does); the others are the float's shortest text.
        integral = f"to_json(trunc({column})::numeric(21, 1))"
        return f"CASE WHEN {column} = trunc({column}) THEN {integral} ELSE to_json({column}::float8) END"
    if isinstance(field, models.DateTimeField):
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN date_trunc('second', {column}) = """
            f"""{column} THEN '' ELSE to_char({utc}, '.US') END || 'Z'"""
        )
    return column


def _pairs_sql(serializer_class, alias: str) -> str:
    """The name, value pairs of `json_build_object` for the plain fields `serializer_class` renders, from the
    table aliased `alias`."""
    fields = serializer_class.Meta.model._meta
    quote = connection.ops.quote_name
    return ", ".join(
        f"'{name}', {_json_sql(fields.get_field(name), f'{alias}.{quote(fields.get_field(name).column)}')}"
        for name, _ in _columns(serializer_class)
    )


def sale_snapshot_sql(alias: str = "sale") -> str:
    """SQL (PostgreSQL) of `sale_snapshots`' shape built by the database: the sale of the `sales_sale` row
    aliased `alias`, with its lines as stored (their ids included), as `GET /api/v1/sales/{id}` shows it, as
    jsonb. For writes of thousands of sales at once (json, cheaper to build than jsonb, cast once); tests
    compare it with the API's own answer."""
    lines = SaleLine._meta.db_table
    return (
        f"json_build_object({_pairs_sql(SaleSerializer, alias)}, 'lines', COALESCE((SELECT json_agg(json_build_object("
        f"{_pairs_sql(SaleLineSerializer, 'line')}) ORDER BY line.position, line.id) FROM {lines} AS line "
        f"WHERE line.sale_id = {alias}.id), '[]'))::jsonb"
    )


class SaleLineInputSerializer(serializers.Serializer):
    product = serializers.CharField(
        max_length=200, required=False, allow_null=True, help_text="Product UUID or external_id; null for a free line."
    )
    variant = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=300, required=False, default="", help_text="Required without product.")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = serializers.DecimalField(
        max_digits=20, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True,
        help_text="Omitted: the variant's or product's price.",
    )  # fmt: skip
    discount = serializers.DecimalField(max_digits=20, decimal_places=4, min_value=Decimal(0), default=0)

    def validate(self, attrs):
        if not attrs.get("product") and not attrs.get("name"):
            raise serializers.ValidationError({"name": "A line without a product needs a name."})
        return attrs


class SaleCreateSerializer(serializers.Serializer):
    lines = SaleLineInputSerializer(many=True, allow_empty=False, max_length=500)
    status = serializers.ChoiceField(
        choices=SaleStatus.choices, default=SaleStatus.PENDING, help_text="pending or confirmed (not cancelled)."
    )
    deduct_stock = serializers.BooleanField(
        default=True, help_text="Reserve (pending) or deduct (confirmed) the products' stock."
    )
    category = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    customer = serializers.UUIDField(required=False, allow_null=True, help_text="A customer of this project.")
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True)

    def validate_status(self, value):
        if value == SaleStatus.CANCELLED:
            raise serializers.ValidationError("A new sale is pending or confirmed.")
        return value

    def validate_customer(self, value):
        if value is None:
            return None
        customer = Customer.objects.filter(project=self.context["project"], pk=value).first()
        if customer is None:
            raise serializers.ValidationError(f"Customer '{value}' does not exist in this project.")
        return customer


@extend_schema_view(
    list=extend_schema(summary="The project's sales, newest first, with their lines"),
    retrieve=extend_schema(summary="One sale with its lines"),
    create=extend_schema(
        summary="Record a sale (channel `native`)",
        description="Pending sales reserve stock, confirmed ones deduct it (unless `deduct_stock` is false). "
        "404 for a product not in the project, 409 for insufficient stock or a duplicate `external_id`.",
        request=SaleCreateSerializer,
        responses={201: SaleSerializer, 404: OpenApiResponse(description="A product not in the key's project.")},
    ),
)
@extend_schema(tags=["native"])
class SaleViewSet(ProjectScopedViewSet):
    """The project's sales. Writes go through the sales services, like every other door."""

    http_method_names = ["get", "post", "head", "options"]
    queryset = sales_with_lines()
    serializer_class = SaleSerializer
    filterset_class = SaleFilter
    ordering_fields = ["created_at", "total"]
    ordering = ["-created_at", "-id"]

    def create(self, request, *args, **kwargs):
        params = SaleCreateSerializer(data=request.data, context={"project": self.project})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        sale = sale_create(
            project=self.project,
            channel=SaleChannel.NATIVE,
            lines=[
                LineInput(
                    product=line.get("product"),
                    variant=line.get("variant"),
                    name=line["name"],
                    quantity=line["quantity"],
                    unit_price=line.get("unit_price"),
                    discount=line["discount"],
                )
                for line in data["lines"]
            ],
            status=data["status"],
            deduct_stock=data["deduct_stock"],
            category=data["category"],
            customer=data.get("customer"),
            external_id=data.get("external_id"),
            user=request.user,
            api_key=request.auth,
        )
        return Response(self._render(sale), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SaleSerializer}, summary="Confirm a pending sale (409 otherwise)")
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        sale = sale_confirm(sale_id=pk, sales=self.get_queryset(), user=request.user, api_key=request.auth)
        return Response(self._render(sale))

    @extend_schema(request=None, responses={200: SaleSerializer}, summary="Cancel a sale (409 if already cancelled)")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        sale = sale_cancel(sale_id=pk, sales=self.get_queryset(), user=request.user, api_key=request.auth)
        return Response(self._render(sale))

    def get_object(self):
        return sale_get(queryset=self.get_queryset(), sale_id=self.kwargs["pk"])

    def _render(self, sale):
        return SaleSerializer(sale_get(queryset=self.get_queryset(), sale_id=sale.pk)).data
