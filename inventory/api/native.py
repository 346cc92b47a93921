"""Native API of the inventory: products with their stock, manual corrections and the stock ledger."""

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apikeys.api.base import ProjectScopedViewSet
from inventory import selectors
from inventory.filters import ProductFilter, StockMovementFilter
from inventory.models import MAX_UNITS, Product, StockMovement, Variant
from inventory.services.catalogue import product_create, product_delete, product_update
from inventory.services.stock import stock_adjust

# RFC 3986: ASCII letters, digits, the reserved and unreserved marks, and well-formed %XX escapes.
_URI_CHARACTERS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "format": "uri", "pattern": "^(https?|ftps?)://"},
            {"type": "string", "maxLength": 0},
        ],
        "maxLength": 1000,
        "description": "An absolute http(s) or ftp(s) URI (RFC 3986: non-ASCII percent-encoded), or '' for none.",
    }
)
class URIField(serializers.URLField):
    """A URL as the schema's `format: uri` reads it: Django's URL check, and nothing RFC 3986 refuses
    (Django also takes IRIs, `|`, `^` or a bad `%` escape)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not _URI_CHARACTERS.match(value):
            raise ValidationError("Enter a valid URI: percent-encode spaces, non-ASCII and other characters.")
        return value


def _counter(variant: Variant, field: str) -> int:
    stock = getattr(variant, "stock", None)
    return getattr(stock, field, 0) if stock is not None else 0


class VariantSerializer(serializers.ModelSerializer):
    stock_on_hand = serializers.IntegerField(
        write_only=True,
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_UNITS,
        help_text="Initial stock of this variant.",
    )
    on_hand = serializers.SerializerMethodField()
    reserved = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = ["id", "name", "sku", "price", "stock_on_hand", "on_hand", "reserved", "available"]
        read_only_fields = ["id"]
        extra_kwargs = {"price": {"min_value": 0}}

    @extend_schema_field(int)
    def get_on_hand(self, variant) -> int:
        return _counter(variant, "on_hand")

    @extend_schema_field(int)
    def get_reserved(self, variant) -> int:
        return _counter(variant, "reserved")

    @extend_schema_field(int)
    def get_available(self, variant) -> int:
        return _counter(variant, "on_hand") - _counter(variant, "reserved")


class ProductSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="project.currency", read_only=True)
    on_hand = serializers.IntegerField(read_only=True)
    reserved = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(read_only=True)
    image_url = URIField(max_length=1000, required=False, allow_blank=True)
    stock_on_hand = serializers.IntegerField(
        write_only=True,
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_UNITS,
        help_text="Initial stock (create only), recorded as an `initial` movement. Later changes: adjust-stock.",
    )
    variants = VariantSerializer(
        many=True, required=False, help_text="Variants with their own initial stock; set on create only."
    )

    class Meta:
        model = Product
        fields = [
            "id", "name", "sku", "ean", "external_id", "price", "cost", "currency", "image_url", "active",
            "on_hand", "reserved", "available", "stock_on_hand", "variants", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"price": {"min_value": 0}, "cost": {"min_value": 0}}

    def validate(self, attrs):
        if self.instance is not None:
            if "stock_on_hand" in self.initial_data:
                raise ValidationError({"stock_on_hand": ["Stock changes only through adjust-stock."]})
            attrs.pop("stock_on_hand", None)
            attrs.pop("variants", None)  # Read-only after create: variants carry stock history.
        return attrs


class AdjustStockSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-MAX_UNITS, max_value=MAX_UNITS, help_text="Units to add (positive) or remove (negative); not 0."
    )
    reason = serializers.CharField(max_length=500, help_text="Why: recorded on the movement.")
    variant_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Required for a product with variants."
    )


class StockMovementSerializer(serializers.ModelSerializer):
    product = serializers.UUIDField(source="product_id", read_only=True)
    variant = serializers.UUIDField(source="variant_id", read_only=True, allow_null=True)
    actor_user = serializers.IntegerField(source="actor_user_id", read_only=True, allow_null=True)
    actor_key = serializers.UUIDField(source="actor_key_id", read_only=True, allow_null=True)

    class Meta:
        model = StockMovement
        fields = [
            "id", "product", "variant", "delta_on_hand", "delta_reserved", "reason", "sale_id", "actor_user",
            "actor_key", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AdjustStockResultSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(allow_null=True)
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    movement = StockMovementSerializer()


class InsufficientStockSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(summary="List products with their stock"),
    create=extend_schema(summary="Create a product, with initial stock and variants"),
    retrieve=extend_schema(summary="A product with its stock"),
    update=extend_schema(summary="Change a product (never its stock)"),
    partial_update=extend_schema(summary="Change some fields of a product (never its stock)"),
    destroy=extend_schema(
        summary="Delete a product; one that served a sale is deactivated instead",
        responses={204: None, 200: ProductSerializer},
    ),
)
@extend_schema(tags=["native"])
class ProductViewSet(ProjectScopedViewSet):
    """The project's products. `on_hand`, `reserved` and `available` are read-only: stock changes
    through `adjust-stock` and through sales."""

    queryset = selectors.product_list()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    ordering_fields = ["name", "sku", "price", "available", "on_hand", "created_at", "updated_at"]
    ordering = ["name", "id"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(project=self.project, **serializer.validated_data, actor_key=request.auth)
        return Response(self._fresh(product), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(product, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        product_update(product=product, **serializer.validated_data, actor_key=request.auth)
        return Response(self._fresh(product))

    def destroy(self, request, *args, **kwargs):
        product = self.get_object()
        if product_delete(product=product) == "deleted":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self._fresh(product))

    @extend_schema(
        summary="Correct the stock of a product or one of its variants",
        request=AdjustStockSerializer,
        responses={
            200: AdjustStockResultSerializer,
            409: OpenApiResponse(InsufficientStockSerializer, description="Would go below zero available."),
        },
    )
    @action(detail=True, methods=["post"], url_path="adjust-stock")
    def adjust_stock(self, request, pk=None):
        product = self.get_object()
        serializer = AdjustStockSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        variant = None
        if data.get("variant_id") is not None:
            variant = product.variants.filter(pk=data["variant_id"]).first()
            if variant is None:
                raise ValidationError({"variant_id": ["No such variant of this product."]})
        movement = stock_adjust(
            product=product, variant=variant, delta=data["delta"], reason=data["reason"], actor_key=request.auth
        )
        stock = selectors.stock_of(product=product, variant=variant)
        result = {
            "product_id": product.pk,
            "variant_id": variant.pk if variant else None,
            "on_hand": stock.on_hand,
            "reserved": stock.reserved,
            "available": stock.available,
            "movement": movement,
        }
        return Response(AdjustStockResultSerializer(result).data)

    def _fresh(self, product) -> dict:
        """The product as a list shows it (counters included), read back after a write."""
        return self.get_serializer(selectors.product_list().get(pk=product.pk)).data


@extend_schema(tags=["native"])
class StockMovementViewSet(ProjectScopedViewSet):
    """The stock ledger, read-only: one row per change, newest first."""

    http_method_names = ["get", "head", "options"]
    project_field = "product__project"
    queryset = selectors.movement_list()
    serializer_class = StockMovementSerializer
    filterset_class = StockMovementFilter
    ordering_fields = ["created_at", "id"]
