"""Native `/api/v1/sales/`: filters, lines, create, confirm/cancel through the services, tenancy, queries."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.ledger.models import Sale
from sales.ledger.services import LineInput, sale_create
from tests.factories import CustomerFactory
from tests.helpers import ledger_size, levels
from tests.tenancy import assert_invisible, missing_id

pytestmark = pytest.mark.django_db

PATH = "/api/v1/sales/"


def sell(project, product, *, quantity=1, **kwargs):
    kwargs.setdefault("channel", "native")
    return sale_create(project=project, lines=[LineInput(product=product.id, quantity=Decimal(quantity))], **kwargs)


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_list_filters(api, project, make_product):
    laptop, cable = make_product("Laptop", stock=9), make_product("Cable", stock=9)
    customer = CustomerFactory(project=project)
    old = sell(project, laptop, created_at=datetime(2026, 1, 5, tzinfo=UTC), category="Retail", customer=customer)
    costtrack = sell(project, cable, channel="costtrack", status="confirmed")
    cancelled = sell(project, cable)
    api.post(f"{PATH}{cancelled.id}/cancel", format="json")

    assert ids(api.get(PATH)) == [str(cancelled.id), str(costtrack.id), str(old.id)]
    assert ids(api.get(PATH, {"status": "cancelled"})) == [str(cancelled.id)]
    assert ids(api.get(PATH, {"channel": "costtrack"})) == [str(costtrack.id)]
    assert ids(api.get(PATH, {"category": "Retail"})) == [str(old.id)]
    assert ids(api.get(PATH, {"customer": str(customer.id)})) == [str(old.id)]
    assert ids(api.get(PATH, {"product": str(cable.id)})) == [str(cancelled.id), str(costtrack.id)]
    assert ids(api.get(PATH, {"created_before": "2026-02-01T00:00:00Z"})) == [str(old.id)]
    assert ids(api.get(PATH, {"created_after": "2026-02-01T00:00:00Z", "status": "confirmed"})) == [str(costtrack.id)]
    assert api.get(PATH, {"status": "paid"}).status_code == 400
    too_big = api.get(PATH, {"location": 2**63})
    assert too_big.status_code == 400
    assert too_big.json() == {"location": [f"Ensure this value is less than or equal to {2**63 - 1}."]}


def test_retrieve_with_lines(api, project, make_product):
    laptop = make_product("Laptop", stock=9, price="1299.99")
    sale = sell(project, laptop, quantity=2)
    body = api.get(f"{PATH}{sale.id}").json()
    assert (body["status"], body["channel"], body["total"], body["currency"]) == ("pending", "native", 2599.98, "USD")
    assert [
        (line["product"], line["product_name"], line["quantity"], line["line_total"]) for line in body["lines"]
    ] == [(str(laptop.id), "Laptop", 2.0, 2599.98)]
    assert api.get(f"{PATH}{sale.id}/").status_code == 200


def test_create_confirm_cancel(api, project, make_product, owner):
    laptop = make_product("Laptop", stock=9, price="100")
    response = api.post(
        PATH,
        {"lines": [{"product": str(laptop.id), "quantity": 3}, {"name": "Gift wrap", "quantity": 1, "unit_price": 2}],
         "category": "Phone order", "external_id": "order-77"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["channel"], body["total"], body["external_id"]) == (
        "pending",
        "native",
        302,
        "order-77",
    )
    assert levels(laptop) == (9, 3)
    duplicate = api.post(PATH, {"lines": [{"product": str(laptop.id), "quantity": 1}], "external_id": "order-77"},
                         format="json")  # fmt: skip
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "A native sale with external id 'order-77' already exists."}

    confirmed = api.post(f"{PATH}{body['id']}/confirm", format="json")
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
    assert levels(laptop) == (6, 0)
    again = api.post(f"{PATH}{body['id']}/confirm/", format="json")
    assert again.status_code == 409
    assert again.json() == {"detail": f"Sale {body['id']} is confirmed and cannot be confirmed."}
    assert api.post(f"{PATH}{body['id']}/cancel", format="json").json()["status"] == "cancelled"
    assert levels(laptop) == (9, 0)
    assert Sale.objects.get(pk=body["id"]).user == owner


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"lines": []}, 400),
        ({"lines": [{"quantity": 1}]}, 400),
        ({"lines": [{"product": "nope", "quantity": 1}]}, 404),
        ({"lines": [{"product": "PRODUCT", "quantity": 0}]}, 400),
        ({"lines": [{"product": "PRODUCT", "quantity": 1}], "status": "cancelled"}, 400),
        ({"lines": [{"product": "PRODUCT", "quantity": 1}], "customer": str(uuid.uuid4())}, 400),
        ({"lines": [{"product": "PRODUCT", "quantity": 99}]}, 409),
        # A discount past the line's amount: refunds are POS transactions, never a negative sale line.
        (
            {"lines": [{"product": "PRODUCT", "quantity": 1, "unit_price": 3, "discount": 5}], "status": "confirmed"},
            400,
        ),
        ({"lines": [{"name": "Gift wrap", "quantity": 2, "unit_price": 1, "discount": "2.01"}]}, 400),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(api, make_product, body, status):
    laptop = make_product("Laptop", stock=9)
    for line in body.get("lines", []):
        if line.get("product") == "PRODUCT":
            line["product"] = str(laptop.id)
    response = api.post(PATH, body, format="json")
    assert response.status_code == status, response.content
    assert ledger_size() == (0, 0)
    assert levels(laptop) == (9, 0)


def test_tenant_isolation(api, other_api, project, make_product):
    laptop = make_product("Laptop", stock=9)
    sale = sell(project, laptop)
    assert_invisible(other_api, "get", f"{PATH}{sale.id}", f"{PATH}{missing_id()}")
    assert_invisible(other_api, "post", f"{PATH}{sale.id}/confirm", f"{PATH}{missing_id()}/confirm", data={})
    assert_invisible(other_api, "post", f"{PATH}{sale.id}/cancel", f"{PATH}{missing_id()}/cancel", data={})
    assert other_api.get(PATH).json()["count"] == 0
    assert (
        other_api.post(PATH, {"lines": [{"product": str(laptop.id), "quantity": 1}]}, format="json").status_code == 404
    )
    assert Sale.objects.get().status == "pending" and levels(laptop) == (9, 1)


def test_list_queries_do_not_grow_with_the_page(api, project, make_product):
    laptop = make_product("Laptop", stock=100)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(PATH).status_code == 200
        return len(captured)

    sell(project, laptop)
    queries()
    few = queries()
    for _ in range(20):
        sale_create(
            project=project, channel="native",
            lines=[LineInput(product=laptop.id, quantity=Decimal(1)) for _ in range(3)],
        )  # fmt: skip
    assert queries() == few


def test_a_negative_line_total_is_refused_naming_the_line(api, make_product):
    laptop = make_product("Laptop", stock=9)
    lines = [
        {"product": str(laptop.id), "quantity": 1},
        {"product": str(laptop.id), "quantity": 1, "unit_price": 3, "discount": 5},
    ]
    response = api.post(PATH, {"lines": lines, "status": "confirmed"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Line 2: the line total (-2.00) must not be negative: a discount cannot be more than the line's amount. "
        "Record refunds as POS transactions."
    )
    assert ledger_size() == (0, 0)
