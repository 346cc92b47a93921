"""costtrack (seed 000): `POST /api/sales/create`, the documented example and every bad input."""

import json
import uuid
from decimal import Decimal

import pytest

from inventory.models import StockMovement
from sales.ledger.models import Sale
from tests.helpers import ledger_size, levels
from tests.tenancy import assert_invisible

pytestmark = pytest.mark.django_db

PATH = "/api/sales/create"


@pytest.fixture
def product(make_product):
    return make_product("Laptop", stock=8, price="2400.00")


def example(product, **changes):
    """The document's request, with a real product id."""
    body = {
        "productId": str(product.id),
        "quantity": 5,
        "sellingPrice": 2500,
        "category": "Online Sales",
        "deductInventory": True,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def test_documented_example(api, product, owner, issued_key):
    response = api.post(PATH, example(product), format="json")
    assert response.status_code == 200
    body = response.json()
    sale = Sale.objects.get()
    assert body == {
        "success": True,
        "saleId": str(sale.id),
        "productId": str(product.id),
        "quantity": 5,
        "totalAmount": 12500,
        "inventoryDeducted": True,
    }
    assert b'"totalAmount":12500,' in response.content, "a JSON number, not a string or 12500.0"
    assert (sale.channel, sale.status, sale.category, sale.total) == ("costtrack", "confirmed", "Online Sales", 12500)
    assert (sale.user, sale.api_key) == (owner, issued_key.api_key)
    line = sale.lines.get()
    assert (line.product, line.quantity, line.unit_price, line.line_total) == (product, 5, 2500, 12500)
    assert levels(product) == (3, 0)


def test_without_deduct_inventory_stock_is_untouched(api, product):
    response = api.post(
        PATH, example(product, deductInventory=..., category=..., quantity=2.5, sellingPrice=19.99), format="json"
    )
    assert response.status_code == 200
    assert response.json()["inventoryDeducted"] is False
    assert response.json()["quantity"] == 2.5
    assert response.json()["totalAmount"] == 49.98  # 2.5 x 19.99 = 49.975, half-up to cents
    assert levels(product) == (8, 0)
    assert not StockMovement.objects.filter(sale_id__isnull=False).exists()


def test_trailing_slash_and_other_key_styles(api, api_header, api_basic, product):
    for client, path in [(api, PATH + "/"), (api_header, PATH), (api_basic, PATH)]:
        assert client.post(path, example(product, quantity=1), format="json").status_code == 200
    assert levels(product) == (5, 0)


def test_insufficient_inventory_is_400_naming_the_shortfall(api, product):
    response = api.post(PATH, example(product, quantity=9), format="json")
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "Insufficient stock: Laptop (requested 9, available 8)"}
    assert ledger_size() == (0, 0)
    assert levels(product) == (8, 0)


def test_unknown_and_foreign_products_are_404(api, product, make_product, other_project):
    foreign = make_product("Foreign", stock=9, target_project=other_project)
    for product_id in [uuid.uuid4(), foreign.id]:
        response = api.post(PATH, example(product, productId=str(product_id)), format="json")
        assert response.status_code == 404
        assert response.json() == {
            "success": False,
            "error": f"Product '{product_id}' does not exist in this project.",
        }
    assert ledger_size() == (0, 0)
    assert levels(foreign) == (9, 0)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"productId": ...}, "productId: This field is required."),
        ({"productId": "not-a-uuid"}, "productId: Must be a valid UUID."),
        ({"productId": 12345}, "productId: Must be a valid UUID."),
        ({"productId": None}, "productId: This field may not be null."),
        ({"quantity": ...}, "quantity: This field is required."),
        ({"quantity": 0}, "quantity: Must be greater than 0."),
        ({"quantity": -1}, "quantity: Must be greater than 0."),
        ({"quantity": "five"}, "quantity: A valid number is required."),
        ({"quantity": "5"}, "quantity: A valid number is required."),
        ({"quantity": True}, "quantity: A valid number is required."),
        ({"quantity": 1.234}, "quantity: Ensure that there are no more than 2 decimal places."),
        ({"quantity": 2.5}, "Line 1: quantity 2.50 is not a whole number of units; stock counts units."),
        ({"sellingPrice": ...}, "sellingPrice: This field is required."),
        ({"sellingPrice": 0}, "sellingPrice: Must be greater than 0."),
        ({"sellingPrice": -2500}, "sellingPrice: Must be greater than 0."),
        ({"sellingPrice": "2500"}, "sellingPrice: A valid number is required."),
        ({"sellingPrice": [2500]}, "sellingPrice: A valid number is required."),
        ({"category": ["Retail"]}, "category: Not a valid string."),
        ({"category": "x" * 201}, "category: Ensure this field has no more than 200 characters."),
        (
            {"quantity": 9999999999, "sellingPrice": 9999999999, "deductInventory": False},
            "The sale's amounts are too large: at most 9999999999999999 per line and in total.",
        ),
        ({"deductInventory": "yes"}, "deductInventory: Must be a valid boolean."),
        ({"deductInventory": 1}, "deductInventory: Must be a valid boolean."),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, product, changes, error):
    response = api.post(PATH, example(product, **changes), format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"success": False, "error": error}
    assert ledger_size() == (0, 0)
    assert levels(product) == (8, 0)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{not json", "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[]", "Invalid data. Expected a dictionary, but got list."),
        (
            "",
            "productId: This field is required.; quantity: This field is required.; "
            "sellingPrice: This field is required.",
        ),
    ],
)
def test_malformed_bodies_are_400(api, product, body, error):
    response = api.generic("POST", PATH, body)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": error}
    assert ledger_size() == (0, 0)


@pytest.mark.parametrize("header", [None, "Bearer sl_live_abcdefgh_" + "x" * 40])
def test_bad_key_is_401(client, product, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(PATH, json.dumps(example(product)), content_type="application/json", **extra)
    assert response.status_code == 401
    assert response.json()["success"] is False and "API key" in response.json()["error"]
    assert ledger_size() == (0, 0)


def test_tenant_isolation(other_api, product):
    assert_invisible(other_api, "post", PATH, PATH, data=example(product))
    missing = example(product, productId=str(uuid.uuid4()))
    seen, unseen = other_api.post(PATH, example(product), format="json"), other_api.post(PATH, missing, format="json")
    assert seen.status_code == unseen.status_code == 404
    assert ledger_size() == (0, 0)
    assert levels(product) == (8, 0)


def test_decimal_total_is_exact(api, make_product):
    product = make_product("Bolt", stock=0, price="0.10")
    response = api.post(PATH, {"productId": str(product.id), "quantity": 3, "sellingPrice": 0.1}, format="json")
    assert response.json()["totalAmount"] == 0.3
    assert Sale.objects.get().total == Decimal("0.30")


def test_idempotency_key_replays_the_first_sale(api, product):
    first = api.post(PATH, example(product, quantity=1), format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    again = api.post(PATH, example(product, quantity=1), format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert ledger_size() == (1, 1) and levels(product) == (7, 0)
