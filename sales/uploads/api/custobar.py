"""custobar dialect (seed 003): `POST /api/sales/upload/` upserts sale rows grouped into transactions."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apikeys.api.base import DialectView
from sales.uploads.parse import STATE_STATUS, document_rows
from sales.uploads.services import sales_upload
from salesledger.errors import CUSTOBAR

MONEY_HELP = "Minor units (cents) of the currency: 5.00 EUR is 500."


class SaleRowSerializer(serializers.Serializer):
    """One sale row as the document lists its fields, for the schema: the parser checks them (every
    problem at once); a test keeps these names equal to the parser's field tables."""

    sale_external_id = serializers.CharField(help_text="The transaction this row belongs to; on every row.")
    sale_date = serializers.CharField(
        required=False, help_text="2017-08-28 or 2017-08-28T14:10:00Z; without a zone, the project's time zone."
    )
    sale_customer_id = serializers.CharField(required=False, help_text="The customer's external id.")
    sale_phone_number = serializers.CharField(required=False)
    sale_email = serializers.EmailField(required=False)
    sale_currency = serializers.CharField(required=False, help_text="ISO 4217; needs sale_exchange_rate.")
    sale_exchange_rate = serializers.FloatField(
        required=False, help_text="unit_price_in_currency / sale_exchange_rate = the price in the project's currency."
    )
    sale_discount = serializers.IntegerField(required=False, help_text=MONEY_HELP)
    sale_payment_method = serializers.CharField(required=False)
    sale_shipping = serializers.IntegerField(required=False, help_text=MONEY_HELP)
    sale_shipping_in_currency = serializers.IntegerField(required=False, help_text="Minor units of sale_currency.")
    sale_coupon_codes = serializers.ListField(child=serializers.CharField(), required=False)
    sale_shipping_method = serializers.CharField(required=False)
    sale_shop_id = serializers.CharField(required=False)
    sale_state = serializers.ChoiceField(
        choices=list(STATE_STATUS),
        required=False,
        help_text="Omitted: COMPLETE. CANCELLED and CLOSED sales leave revenue.",
    )
    sale_total = serializers.IntegerField(
        required=False, help_text="Default: sum of the row totals - sale_discount. " + MONEY_HELP
    )
    sale_tags = serializers.ListField(child=serializers.CharField(), required=False, help_text="The sale's tags.")
    product_id = serializers.CharField(required=False, help_text="A product's external_id; created when unknown.")
    product_sku = serializers.CharField(required=False, help_text="Matches a product when product_id is absent.")
    product_ean = serializers.CharField(required=False, help_text="Matches a product after product_sku.")
    quantity = serializers.FloatField(required=False, help_text="Rounded half-up to 2 decimals.")
    unit_price = serializers.IntegerField(required=False, help_text=MONEY_HELP)
    unit_price_in_currency = serializers.IntegerField(required=False, help_text="Minor units of sale_currency.")
    external_id = serializers.CharField(required=False, help_text="The row's id: a later upload of it updates it.")
    discount = serializers.IntegerField(required=False, help_text=MONEY_HELP)
    total = serializers.IntegerField(
        required=False, help_text="Default: unit_price x quantity - discount. " + MONEY_HELP
    )
    tags = serializers.ListField(child=serializers.CharField(), required=False, help_text="The row's tags.")


UploadRequest = inline_serializer("CustobarUploadRequest", fields={"sales": SaleRowSerializer(many=True)})


class UploadResponse(serializers.Serializer):
    response = serializers.SerializerMethodField()
    id = serializers.UUIDField(help_text="The upload's id.")
    rows = serializers.IntegerField()
    transactions_created = serializers.IntegerField()
    transactions_updated = serializers.IntegerField()
    transactions_unchanged = serializers.IntegerField()
    lines_created = serializers.IntegerField()
    lines_updated = serializers.IntegerField()
    lines_deleted = serializers.IntegerField()
    products_created = serializers.IntegerField()

    def get_response(self, upload) -> str:
        return "ok"


class CustobarProblem(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Index of the row in `sales`, from 0.")
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class CustobarError(serializers.Serializer):
    error = serializers.CharField()
    errors = CustobarProblem(many=True)


class SalesUploadView(DialectView):
    dialect = CUSTOBAR
    heavy = True  # at most HEAVY_REQUESTS uploads at once per machine, one per project

    @extend_schema(
        operation_id="custobar_sales_upload",
        tags=["custobar"],
        summary="Upload sale rows",
        description=(
            "Rows with the same `sale_external_id` form one transaction; `sale_*` fields may come on any of "
            "its rows. A row with an `external_id` updates that row; a transaction sent again without row ids "
            "has its rows replaced; the same upload twice changes nothing. All or nothing: any invalid row "
            "rejects the upload with 400 and every problem by row index and field. Bodies up to 50 MB. "
            "One upload per project at a time, and a few per server: another answers 429 at once, with "
            "`Retry-After`."
        ),
        request=UploadRequest,
        responses={
            200: UploadResponse,
            400: CustobarError,
            401: CustobarError,
            409: CustobarError,
            413: CustobarError,
            429: CustobarError,
        },
        examples=[
            OpenApiExample(
                "One transaction, two rows",
                request_only=True,
                value={
                    "sales": [
                        {
                            "sale_external_id": "1000",
                            "sale_customer_id": "A501",
                            "sale_date": "2017-12-01T13:11:23Z",
                            "sale_total": 5160,
                            "external_id": "1000-1",
                            "product_id": "SKU0435",
                            "unit_price": 1200,
                            "quantity": 1,
                        },
                        {
                            "sale_external_id": "1000",
                            "external_id": "1000-2",
                            "product_id": "SKU3429",
                            "unit_price": 2080,
                            "quantity": 2,
                            "discount": 200,
                        },
                    ]
                },
            ),
        ],
    )
    def post(self, request):
        upload = sales_upload(
            project=self.project, rows=document_rows(request.data), api_key=request.auth, user=request.user
        )
        return Response(UploadResponse(upload).data)
