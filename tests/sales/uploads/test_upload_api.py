"""POST /api/sales/upload/: the document's examples as written, auth, every bad body, the error shape."""

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from inventory.models import Product
from sales.ledger.models import Sale, SaleLine
from sales.uploads.models import Upload
from tests.helpers import keyed_client
from tests.sales.uploads.helpers import UPLOAD_PATH, custobar_sale, lines_of, upload
from tracking.models import Customer

pytestmark = pytest.mark.django_db


def nothing_written():
    return not (Sale.objects.exists() or SaleLine.objects.exists() or Upload.objects.exists()) and not (
        Product.objects.exists() or Customer.objects.exists()
    )


def test_second_example_as_written_creates_one_transaction(api_basic, project, second_example):
    response = api_basic.post(UPLOAD_PATH, data=second_example, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    upload_record = Upload.objects.get()
    assert body == {
        "response": "ok",
        "id": str(upload_record.id),
        "rows": 2,
        "transactions_created": 1,
        "transactions_updated": 0,
        "transactions_unchanged": 0,
        "lines_created": 2,
        "lines_updated": 0,
        "lines_deleted": 0,
        "products_created": 2,
    }
    sale = custobar_sale(project, "1000")
    assert (sale.status, sale.original_state, sale.currency) == ("confirmed", "", "USD")
    assert (sale.subtotal, sale.discount, sale.total) == (Decimal("51.60"), 0, Decimal("51.60"))
    assert sale.created_at == datetime(2017, 12, 1, 13, 11, 23, tzinfo=UTC)
    assert sale.customer.external_id == "A501"
    assert sale.extra == {"sale_shop_id": "1", "sale_payment_method": "Credit Card", "sale_total": 5160}
    assert (sale.user, sale.api_key) == (project.owners.first(), upload_record.api_key)
    assert lines_of(sale) == [
        (None, "SKU0435", 1, Decimal("12.00"), 0, Decimal("12.00"), []),
        (None, "SKU3429", 2, Decimal("20.80"), Decimal("2.00"), Decimal("39.60"), []),
    ]


def test_first_example_is_rejected_at_row_2_when_sale_5000_is_new(api_basic, first_example):
    response = api_basic.post(UPLOAD_PATH, data=first_example, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "The upload was rejected: 2 problems found; nothing was written.",
        "errors": [
            {"row": 2, "field": "sale_date", "message": "Required: transaction '5000' is not in the ledger yet."},
            {
                "row": 2,
                "field": "sale_customer_id",
                "message": "Transaction '5000' is not in the ledger yet: identify its customer with "
                "sale_customer_id, sale_phone_number or sale_email.",
            },
        ],
    }
    assert nothing_written()


def test_first_example_is_accepted_and_updates_sale_5000_when_it_exists(api_basic, project, first_example):
    known = {"sale_external_id": "5000", "sale_date": "2017-12-02", "sale_email": "a@b.fi", "external_id": "5000-1",
             "product_id": "SKU0435", "unit_price": 100, "quantity": 1}  # fmt: skip
    created = upload(api_basic, [known])
    assert created.status_code == 200, created.content

    response = api_basic.post(UPLOAD_PATH, data=first_example, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["transactions_created"], body["transactions_updated"], body["lines_created"]) == (1, 1, 3)
    assert body["products_created"] == 1  # SKU0435 exists; SKU3429 is new and shared by both transactions
    sale = custobar_sale(project, "5000")
    # 2080 US cents / 1.112 = 18.705... EUR-or-whatever default: 18.71 per unit, two units.
    assert lines_of(sale) == [
        ("5000-1", "SKU0435", 1, Decimal("1.00"), 0, Decimal("1.00"), []),
        ("5000-2", "SKU3429", 2, Decimal("18.71"), 0, Decimal("37.42"), []),
    ]
    assert sale.total == Decimal("38.42")
    assert sale.extra == {"sale_currency": "USD", "sale_exchange_rate": "1.112"}
    assert custobar_sale(project, "1000").extra["COMPANY__sales_person"] == "3"


def test_path_without_trailing_slash_answers_without_redirect(api_basic, project, second_example):
    response = api_basic.post("/api/sales/upload", data=second_example, format="json")

    assert response.status_code == 200
    assert custobar_sale(project, "1000").lines.count() == 2


def test_curl_style_basic_auth_with_key_as_user_name(project, issued_key, second_example, client):
    token = base64.b64encode(f"{issued_key.secret}:".encode()).decode()

    response = client.post(UPLOAD_PATH, data=second_example, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Basic {token}")  # fmt: skip

    assert response.status_code == 200


@pytest.mark.parametrize("authorization", [None, "Basic " + base64.b64encode(b"sl_live_nope_nope:").decode()])
def test_missing_or_wrong_key_is_401_in_the_dialect_shape(client, db, second_example, authorization):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.post(UPLOAD_PATH, data=second_example, content_type="application/json", **extra)

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "errors"}
    assert body["errors"] == [{"row": None, "field": None, "message": body["error"]}]
    assert nothing_written()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([{"sale_external_id": "1"}], "sales", 'The body must be a JSON object {"sales": [row, ...]}.'),
        ({"rows": []}, "sales", 'The body must be a JSON object {"sales": [row, ...]}.'),
        ({"sales": {"sale_external_id": "1"}}, "sales", "must be a list of sale rows."),
        ({"sales": []}, "sales", "must contain at least one sale row."),
    ],
)
def test_a_body_that_is_not_a_sales_list_is_400(api_basic, body, field, message):
    response = api_basic.post(UPLOAD_PATH, data=body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": None, "field": field, "message": message}]
    assert nothing_written()


def test_non_json_is_400(api_basic):
    response = api_basic.post(UPLOAD_PATH, data="sale_external_id=1000", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("JSON parse error")
    assert body["errors"] == [{"row": None, "field": None, "message": body["error"]}]
    assert nothing_written()


def test_a_row_that_is_not_an_object_is_named(api_basic, second_example):
    response = upload(api_basic, [*second_example["sales"], "1000"])

    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": 2, "field": None, "message": "A sale row must be a JSON object."}]
    assert nothing_written()


def test_every_problem_of_every_row_is_listed_and_nothing_is_written(api_basic):
    rows = [
        {"sale_date": "2017-12-01", "sale_email": "a@example.com", "product_id": "P", "quantity": 1, "unit_price": 1},
        {"sale_external_id": "1", "sale_date": "yesterday", "sale_email": "not-an-email", "product_id": "P",
         "quantity": "two", "unit_price": 12.5},
        {"sale_external_id": "2", "sale_date": "2017-12-01", "sale_customer_id": "C", "sale_currency": "USD",
         "product_id": "P", "quantity": 1, "unit_price": 100, "colour": "red"},
    ]  # fmt: skip

    response = upload(api_basic, rows)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 0, "field": "sale_external_id", "message": "Required on every row."},
        {"row": 1, "field": "sale_date",
         "message": "must be a date or a datetime, e.g. 2017-08-28 or 2017-08-28T14:10:00Z."},
        {"row": 1, "field": "sale_email", "message": "must be an email address."},
        {"row": 1, "field": "quantity", "message": "must be a number."},
        {"row": 1, "field": "unit_price", "message": "must be a whole number of minor units (cents): 5.00 EUR is 500."},
        {"row": 2, "field": "colour", "message": "Unknown field; company-specific fields are named PREFIX__field."},
        {"row": 2, "field": "sale_exchange_rate", "message": "Required with sale_currency."},
    ]  # fmt: skip
    assert nothing_written()


def test_tenant_isolation_same_ids_in_two_projects_are_two_sales(api_basic, other_project, other_key, second_example):
    other = keyed_client(other_project, other_key, "basic")
    assert api_basic.post(UPLOAD_PATH, data=second_example, format="json").status_code == 200

    second_example["sales"][0]["unit_price"] = 999
    second_example["sales"][0].pop("total")
    response = other.post(UPLOAD_PATH, data=second_example, format="json")

    assert response.status_code == 200
    assert response.json()["transactions_created"] == 1  # project A's sale "1000" is not seen, nor updated
    assert response.json()["products_created"] == 2
    mine, theirs = (custobar_sale(p, "1000") for p in (api_basic.project, other_project))
    assert mine.pk != theirs.pk
    assert lines_of(mine)[0][3] == Decimal("12.00")
    assert lines_of(theirs)[0][3] == Decimal("9.99")
    assert mine.customer.project == api_basic.project
    assert theirs.customer.project == other_project
    assert Product.objects.filter(project=other_project).count() == 2


def test_a_sale_state_change_the_ledger_refuses_is_a_row_error(api_basic, project, second_example):
    second_example["sales"][1]["sale_state"] = "CANCELLED"
    assert upload(api_basic, second_example["sales"]).status_code == 200

    response = upload(api_basic, [{"sale_external_id": "1000", "sale_state": "COMPLETE"}])

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 0, "field": "sale_state",
         "message": "Transaction '1000' is cancelled (CANCELLED) and cannot become confirmed (COMPLETE)."}
    ]  # fmt: skip
    assert custobar_sale(project, "1000").status == "cancelled"


def test_ten_megabyte_upload_is_accepted(api_basic, project):
    note = "x" * 100_000
    rows = [
        {"sale_external_id": "big", "sale_date": "2017-12-01", "sale_customer_id": "C", "external_id": str(index),
         "product_id": "P", "quantity": 1, "unit_price": 100, "ACME__note": note}
        for index in range(105)
    ]  # fmt: skip

    response = upload(api_basic, rows)

    assert response.status_code == 200, response.content[:300]
    assert custobar_sale(project, "big").lines.count() == 105


def test_a_body_over_50_mb_is_413_in_the_dialect_shape(api_basic):
    response = api_basic.post(UPLOAD_PATH, data="{}", content_type="application/json",
                              CONTENT_LENGTH=str(50 * 1024 * 1024 + 1))  # fmt: skip

    assert response.status_code == 413
    body = response.json()
    assert body["errors"] == [{"row": None, "field": None, "message": body["error"]}]
    assert nothing_written()


def test_the_schema_documents_exactly_the_fields_the_parser_reads():
    from sales.uploads.api.custobar import SaleRowSerializer
    from sales.uploads.parse import ROW_FIELDS, SALE_FIELDS

    assert set(SaleRowSerializer().fields) == {"sale_external_id", *SALE_FIELDS, *ROW_FIELDS}
