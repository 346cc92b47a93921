"""costtrack dialect (seed 000): `POST /api/sales/create` records one confirmed sale of one product."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apikeys.api.base import DialectView
from sales.ledger.api.fields import NumberField, StrictBooleanField, StrictUUIDField, json_number
from sales.ledger.models import SaleChannel, SaleStatus
from sales.ledger.services import LineInput, sale_create
from salesledger.errors import COSTTRACK
from salesledger.serializers import ShallowFieldsSerializer


class CosttrackSaleRequest(ShallowFieldsSerializer):
    productId = StrictUUIDField(help_text="UUID of a product of the key's project.")
    quantity = NumberField(positive=True, max_digits=12, decimal_places=2, help_text="Units sold, > 0.")
    sellingPrice = NumberField(positive=True, help_text="Price per unit in the project's currency, > 0.")
    category = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    deductInventory = StrictBooleanField(required=False, default=False)


class CosttrackSaleResponse(serializers.Serializer):
    success = serializers.BooleanField()
    saleId = serializers.UUIDField()
    productId = serializers.UUIDField()
    quantity = NumberField(max_digits=12, decimal_places=2)
    totalAmount = NumberField(help_text="quantity × sellingPrice, rounded to the project's currency.")
    inventoryDeducted = serializers.BooleanField()


CosttrackError = inline_serializer(
    "CosttrackError", fields={"success": serializers.BooleanField(), "error": serializers.CharField()}
)


class CosttrackSaleCreateView(DialectView):
    dialect = COSTTRACK

    @extend_schema(
        operation_id="costtrack_sale_create",
        tags=["costtrack"],
        summary="Create a confirmed sale of one product",
        description=(
            "Records a confirmed sale of `quantity` units at `sellingPrice` each, in the project's currency. "
            "With `deductInventory: true` the units leave stock at once; a whole number of units is then "
            'required. Errors are `{"success": false, "error": "..."}`: 400 for invalid parameters '
            "(naming the field) or insufficient inventory (naming the product and what is available), "
            "401 for a bad key, 404 for a product that is not in the key's project."
        ),
        request=CosttrackSaleRequest,
        responses={200: CosttrackSaleResponse, 400: CosttrackError, 401: CosttrackError, 404: CosttrackError},
        examples=[
            OpenApiExample(
                "Sale of 5",
                request_only=True,
                value={
                    "productId": "550e8400-e29b-41d4-a716-446655440000",
                    "quantity": 5,
                    "sellingPrice": 2500,
                    "category": "Online Sales",
                    "deductInventory": True,
                },
            ),
        ],
    )
    def post(self, request):
        params = CosttrackSaleRequest(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        sale = sale_create(
            project=self.project,
            channel=SaleChannel.COSTTRACK,
            status=SaleStatus.CONFIRMED,
            deduct_stock=data["deductInventory"],
            lines=[LineInput(product=data["productId"], quantity=data["quantity"], unit_price=data["sellingPrice"])],
            category=data["category"],
            user=request.user,
            api_key=request.auth,
        )
        # As CosttrackSaleResponse writes it, built directly: a serializer pass cost about 4 % of the request's CPU.
        return Response(
            {
                "success": True,
                "saleId": str(sale.id),
                "productId": str(data["productId"]),
                "quantity": json_number(data["quantity"]),
                "totalAmount": json_number(sale.total),
                "inventoryDeducted": sale.stock_applied,
            }
        )
