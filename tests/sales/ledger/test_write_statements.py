"""The hot dialect writes cost a few statements of their own, whatever the gate in front of them costs:
counted at the API, as the statements that name a table of the ledger, the stock, the events or tracking."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.ledger.models import Sale
from tests.helpers import prepared_plans

pytestmark = pytest.mark.django_db

OURS = re.compile(r'\b"?(sales|inventory|events|tracking)_')
# On PostgreSQL the stock, the sale and its events are one statement; SQLite sends them one by one.
TOGETHER = 1 if connection.vendor == "postgresql" else 4


def statements(api, method, path, body, status) -> list[str]:
    """The SQL of one request that names one of our tables (not the gate's: keys, limits, request log)."""
    with CaptureQueriesContext(connection) as captured:
        response = getattr(api, method)(path, body, format="json")
    assert response.status_code == status, response.content
    return [query["sql"] for query in captured if OURS.search(query["sql"])]


@pytest.fixture
def laptop(make_product):
    return make_product("Laptop", stock=50, price="10.00")


def test_costtrack_create_is_the_products_locked_the_line_and_one_write(api, laptop):
    body = {"productId": str(laptop.id), "quantity": 1, "sellingPrice": 12, "deductInventory": True}
    api.post("/api/sales/create", body, format="json")  # the key's first use stamps last_used_at
    # The product with its stock row locked, the line; then the stock, the sale and sale.created.
    assert len(statements(api, "post", "/api/sales/create", body, 200)) == 2 + TOGETHER


def test_sells_create_confirm_and_cancel_answer_from_what_they_wrote(api, laptop, make_product):
    mouse = make_product("Mouse", stock=50, price="2.00")
    body = {"products": [{"productId": str(laptop.id), "quantity": 1}, {"productId": str(mouse.id), "quantity": 2}]}
    api.post("/sells", body, format="json")
    # The products with their stock rows locked, the lines; then the stock, the sale and sale.created. No read-back.
    assert len(statements(api, "post", "/sells", body, 201)) == 2 + TOGETHER
    first, second = Sale.objects.order_by("created_at")
    # The key user's sale locked (read once: 404 otherwise), its lines, the stock rows locked; then the write.
    assert len(statements(api, "put", f"/sells/confirm/{first.id}", {}, 200)) == 3 + TOGETHER
    assert len(statements(api, "put", f"/sells/cancel/{second.id}", {}, 200)) == 3 + TOGETHER


def test_track_sale_of_a_known_customer(api):
    body = {"customerExternalId": "c1", "amount": 1999, "currency": "usd", "invoiceId": "first"}
    api.post("/track/sale", body, format="json")
    # The customer with its latest lead, then the sale and its event (one statement on PostgreSQL, two on
    # SQLite): no check of the invoice id before, its unique constraint tells a replay.
    sale = 1 if connection.vendor == "postgresql" else 2
    assert len(statements(api, "post", "/track/sale", {**body, "invoiceId": "second"}, 200)) == 1 + sale


def test_a_sale_of_many_products_costs_the_statements_of_a_sale_of_one(api, make_product):
    products = [make_product(f"Product {index}", stock=50, price="1.00") for index in range(6)]
    one = {"products": [{"productId": str(products[0].id), "quantity": 1}]}
    many = {"products": [{"productId": str(product.id), "quantity": 2} for product in products[1:]]}
    api.post("/sells", one, format="json")
    assert len(statements(api, "post", "/sells", many, 201)) == len(statements(api, "post", "/sells", one, 201))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sales_products_are_locked_by_a_statement_planned_once_per_connection(api, make_product):
    """The products and stock rows of a sale are locked by a statement prepared once per connection. Its `IN`
    lists come in few lengths (powers of two), so each length is one statement, for which PostgreSQL keeps one
    generic plan after its five trial plans instead of planning every sale again. A sale of many products
    (past 64 parameters) is planned as it comes, so a session keeps few statements whatever clients send."""
    products = [str(make_product(f"Product {index}", stock=50, price="1.00").id) for index in range(20)]
    connection.close()  # a new session: none prepared yet
    for count in (1, 2, 3, 4, 5, 1, 1, 1, 1, 1, 1, 20):
        body = {"products": [{"productId": product, "quantity": 1} for product in products[:count]]}
        assert api.post("/sells", body, format="json").status_code == 201
    assert prepared_plans("inventory%") == [
        ("inventory_products_with_stock_1_1_0", 7, True),  # references, ids, variants
        ("inventory_products_with_stock_2_2_0", 1, False),
        ("inventory_products_with_stock_4_4_0", 2, False),  # 3 and 4 products
        ("inventory_products_with_stock_8_8_0", 1, False),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sales_move_reads_the_sale_and_its_lines_by_statements_planned_once_per_connection(api, laptop):
    """Confirm and cancel read the key user's sale under its lock, then its lines, by two statements prepared
    once per connection, not composed by the ORM at every move; PostgreSQL settles on their generic plans."""
    body = {"products": [{"productId": str(laptop.id), "quantity": 1}]}
    sale_ids = [api.post("/sells", body, format="json").json()["sell"]["id"] for _ in range(8)]
    connection.close()  # a new session: none prepared yet
    for sale_id in sale_ids[:7]:
        assert api.put(f"/sells/confirm/{sale_id}", format="json").status_code == 200
    assert api.put(f"/sells/cancel/{sale_ids[7]}", format="json").status_code == 200
    assert prepared_plans("sales%") == [
        ("sales_sale_locked_project_id_user_id", 8, True),
        ("sales_saleline_of_sale", 8, True),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sales_writes_are_statements_planned_once_per_connection(api, make_product):
    """The lines' INSERT and the one statement of the stock, the sale and its event are prepared once per
    connection for each text (each number of products), named after the table they return rows of; PostgreSQL
    settles on their generic plans. A sale of many products (past 128 parameters) is planned as it comes."""
    products = [str(make_product(f"Product {index}", stock=50, price="1.00").id) for index in range(20)]
    connection.close()  # a new session: none prepared yet
    for count in (1, 1, 1, 1, 1, 1, 1, 20):
        body = {"products": [{"productId": product, "quantity": 1} for product in products[:count]]}
        assert api.post("/sells", body, format="json").status_code == 201
    prepared = [(name.rsplit("_", 1)[0], runs, generic) for name, runs, generic in prepared_plans("%_write_%")]
    assert prepared == [("events_event_write", 7, True), ("sales_saleline_write", 7, True)]
