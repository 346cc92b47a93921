"""sells (seed 001): every documented example with its exact keys, the sale flow, errors, tenancy."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from sales.ledger.api.sells import Sell, SellConfirmed, SellWithUser, sell_confirmed, sell_of_sale
from sales.ledger.models import Sale
from sales.ledger.selectors import PREPARED_FIRST_PAGES, sales_with_lines
from sales.ledger.services import LineInput, sale_cancel, sale_confirm, sale_create
from salesledger.db import PREPARED_SESSION_MAX
from tests.factories import UserFactory, issue_key
from tests.helpers import keyed_client, ledger_size, levels, prepared_plans
from tests.tenancy import assert_invisible, missing_id
from tracking.models import ExchangeRate
from tracking.services import exchange_rates_load

pytestmark = pytest.mark.django_db

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def laptop(make_product):
    return make_product(
        "Laptop Dell XPS 15", stock=10, price="1299.99", external_id="prod_123",
        image_url="https://cdn.example.com/laptop.jpg",
    )  # fmt: skip


@pytest.fixture
def mouse(make_product):
    return make_product("Wireless Mouse", price="29.99", external_id="prod_124", variants=[("Black", 20, None)])


def documented_request(laptop, mouse):
    """The document's POST /sells body, its ids swapped for real ones."""
    return {
        "products": [
            {"productId": str(laptop.id), "quantity": 2, "price": 1299.99},
            {"productId": str(mouse.id), "quantity": 1, "price": 29.99, "variantId": str(mouse.variants.get().id)},
        ]
    }


def z(moment) -> str:
    return moment.astimezone(UTC).strftime(ISO_Z)


def test_create_documented_example(api, owner, laptop, mouse):
    response = api.post("/sells", documented_request(laptop, mouse), format="json")
    assert response.status_code == 201
    sale = Sale.objects.get()
    variant = mouse.variants.get()
    assert response.json() == {
        "sell": {
            "id": str(sale.id),
            "userId": str(owner.id),
            "products": [
                {"productId": str(laptop.id), "name": "Laptop Dell XPS 15", "quantity": 2, "price": 1299.99,
                 "subtotal": 2599.98},
                {"productId": str(mouse.id), "name": "Wireless Mouse / Black", "quantity": 1, "price": 29.99,
                 "variantId": str(variant.id), "subtotal": 29.99},
            ],
            "total": 2629.97,
            "status": "pending",
            "createdAt": z(sale.created_at),
        }
    }  # fmt: skip
    assert b'"total":2629.97' in response.content and b'"quantity":2,' in response.content
    assert response.json()["sell"]["createdAt"].endswith("Z")
    assert (sale.channel, sale.user, sale.total) == ("sells", owner, Decimal("2629.97"))
    assert levels(laptop) == (10, 2) and levels(mouse, variant) == (20, 1)


def test_product_by_external_id_and_price_defaults_to_the_products(api, laptop, mouse):
    variant_id = str(mouse.variants.get().id)
    body = {"products": [{"productId": "prod_123", "quantity": 1},
                         {"productId": "prod_124", "quantity": 3, "variantId": variant_id}]}  # fmt: skip
    response = api.post("/sells/", body, format="json")
    assert response.status_code == 201
    products = response.json()["sell"]["products"]
    assert [(p["productId"], p["price"], p["subtotal"]) for p in products] == [
        (str(laptop.id), 1299.99, 1299.99),
        (str(mouse.id), 29.99, 89.97),
    ]
    assert response.json()["sell"]["total"] == 1389.96


def make_sells(api, laptop, mouse):
    """The document's GET /sells situation: a confirmed laptop sale, then a pending sale of 5 mice."""
    first = api.post("/sells", {"products": [{"productId": str(laptop.id), "quantity": 2, "price": 1299.99}]},
                     format="json").json()["sell"]  # fmt: skip
    api.put(f"/sells/confirm/{first['id']}", {}, format="json")
    mice = {"productId": str(mouse.id), "quantity": 5, "price": 29.99, "variantId": str(mouse.variants.get().id)}
    second = api.post("/sells", {"products": [mice]}, format="json").json()["sell"]
    return Sale.objects.get(pk=first["id"]), Sale.objects.get(pk=second["id"])


def test_list_documented_example(api, laptop, mouse):
    confirmed, pending = make_sells(api, laptop, mouse)
    response = api.get("/sells")
    assert response.status_code == 200
    variant = mouse.variants.get()
    assert response.json() == {
        "sells": [
            {
                "id": str(pending.id),
                "products": [{"productId": str(mouse.id), "name": "Wireless Mouse / Black", "quantity": 5,
                              "price": 29.99, "variantId": str(variant.id), "subtotal": 149.95}],
                "total": 149.95,
                "status": "pending",
                "createdAt": z(pending.created_at),
            },
            {
                "id": str(confirmed.id),
                "products": [{"productId": str(laptop.id), "name": "Laptop Dell XPS 15", "quantity": 2,
                              "price": 1299.99, "subtotal": 2599.98}],
                "total": 2599.98,
                "status": "confirmed",
                "createdAt": z(confirmed.created_at),
                "confirmedAt": z(confirmed.confirmed_at),
            },
        ],
        "totalSales": 2,
        "totalRevenue": 2749.93,
    }  # fmt: skip


def test_list_shows_each_sale_as_the_sell_serializer_does(api, owner, laptop, mouse):
    """The list builds its rows directly; they are what `Sell` writes of the same sales: a line without
    a product, a variant, a cancelled sale's time, several lines in position order, a sale without lines."""
    confirmed, pending = make_sells(api, laptop, mouse)
    cancelled = api.post("/sells", {"products": [line(laptop), line(laptop, quantity=3, price=2.5)]}, format="json")
    api.put(f"/sells/cancel/{cancelled.json()['sell']['id']}", {}, format="json")
    confirmed.lines.update(product=None)
    empty = sale_create(project=pending.project, channel="sells", user=owner, lines=[], deduct_stock=False)
    listed = api.get("/sells").json()["sells"]
    sales = sales_with_lines(Sale.objects.filter(user=owner)).order_by("-created_at", "-id")
    assert listed == Sell(sales, many=True).data
    assert [sell["id"] for sell in listed][0] == str(empty.id) and len(listed) == 4


def test_create_and_confirm_answer_as_their_serializers_do(api, owner, laptop, mouse):
    """A create and a confirm build their answers directly; they are what `SellWithUser` and `SellConfirmed`
    write of the same sale: a variant, whole and fractional amounts, and (through the service) a line
    without a product."""
    mice = line(mouse, price=29.99, variantId=str(mouse.variants.get().id))
    created = api.post("/sells", {"products": [line(laptop, quantity=3, price=2.5), mice]}, format="json")
    sale_id = created.json()["sell"]["id"]
    assert created.json()["sell"] == SellWithUser(Sale.objects.get(pk=sale_id)).data
    confirmed = api.put(f"/sells/confirm/{sale_id}", {}, format="json")
    assert confirmed.json()["sell"] == SellConfirmed(Sale.objects.get(pk=sale_id)).data

    gift = LineInput(name="Gift wrap", quantity=Decimal(1), unit_price=Decimal(3))
    sale = sale_create(project=laptop.project, channel="sells", user=owner, lines=[gift])
    assert sell_of_sale(sale) == SellWithUser(sale).data
    sale = sale_confirm(sale=sale)
    assert sell_confirmed(sale) == SellConfirmed(sale).data


def test_list_writes_edge_times_amounts_and_names_byte_for_byte(api, owner, laptop):
    """The list's ids and times are written as text by the database: its bytes stay those of `Sell`
    through DRF's renderer where the formats differ: a year before 1000, a fraction of a second (cut,
    not rounded), amounts of 15 significant digits and of 1, a name that JSON escapes."""
    name = 'quote " backslash \\ newline \n tab \t control \x01 \u00e9 separator \u2028 emoji \U0001f600'
    sale = sale_create(project=laptop.project, channel="sells", user=owner, deduct_stock=False,
                       lines=[LineInput(product=laptop.id, quantity=Decimal(1), unit_price=Decimal(1))])  # fmt: skip
    sale_confirm(sale=sale, user=owner)
    created = datetime(500, 3, 4, 5, 6, 7, 999999, tzinfo=UTC)
    confirmed = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    Sale.objects.filter(pk=sale.pk).update(created_at=created, confirmed_at=confirmed, total=Decimal("0.0001"))
    sale.lines.update(product_name=name, quantity=Decimal("0.01"), unit_price=Decimal("0.0001"),
                      line_total=Decimal("12345678901.2345"))  # fmt: skip

    response = api.get("/sells")

    sells = [{"id": str(sale.id),
              "products": [{"productId": str(laptop.id), "name": name, "quantity": 0.01, "price": 0.0001,
                            "subtotal": 12345678901.2345}],
              "total": 0.0001, "status": "confirmed", "createdAt": z(created),
              "confirmedAt": "2026-12-31T23:59:59Z"}]  # fmt: skip
    assert response.content == JSONRenderer().render({"sells": sells, "totalSales": 1, "totalRevenue": 0.0001})
    assert b"separator \\u2028 emoji \xf0\x9f\x98\x80" in response.content
    assert sells == Sell(sales_with_lines(Sale.objects.all()), many=True).data


@pytest.mark.postgres
def test_list_writes_what_only_postgresql_holds_as_it_loads(api, owner, laptop):
    """Times stored before every input was checked (past 9999 in UTC, BC, infinite) load clamped
    (salesledger.db); the list, whose times the database writes, writes the same clamped times. An
    amount past 1e16 (which SQLite cannot hold) is a JSON number with an exponent, as Python writes it."""
    latest = "9999-12-31T00:00:00Z"
    stored = {"10000-01-01T04:00:00Z": latest, "infinity": latest, "-infinity": latest,
              "0001-12-31T23:00:00Z BC": z(datetime(1, 1, 2, tzinfo=UTC)),
              "0001-01-01T00:00:00Z": z(datetime(1, 1, 1, tzinfo=UTC))}  # fmt: skip
    written = {}
    for when, text in stored.items():
        sale = sale_create(project=laptop.project, channel="sells", user=owner, lines=[], deduct_stock=False)
        sale_cancel(sale=sale, user=owner)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE sales_sale SET cancelled_at = %s::timestamptz WHERE id = %s", [when, sale.pk])
        written[str(sale.id)] = text

    listed = api.get("/sells").json()["sells"]

    assert {sell["id"]: sell["cancelledAt"] for sell in listed} == written
    assert listed == Sell(sales_with_lines(Sale.objects.all()).order_by("-created_at", "-id"), many=True).data
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sales_sale SET created_at = '9999-12-31T23:00:00-05:00', total = 9999999999999999.9999 "
                       "WHERE id = %s", [sale.pk])  # fmt: skip
    response = api.get("/sells")
    assert response.json()["sells"][0]["createdAt"] == latest
    assert b'"total":1e+16,' in response.content


def test_detail_documented_example(api, owner, laptop, mouse):
    confirmed, _ = make_sells(api, laptop, mouse)
    response = api.get(f"/sells/detail/{confirmed.id}")
    assert response.status_code == 200
    assert response.json() == {
        "sell": {
            "id": str(confirmed.id),
            "userId": str(owner.id),
            "products": [{"productId": str(laptop.id), "name": "Laptop Dell XPS 15", "quantity": 2,
                          "price": 1299.99, "subtotal": 2599.98, "image": "https://cdn.example.com/laptop.jpg"}],
            "total": 2599.98,
            "status": "confirmed",
            "createdAt": z(confirmed.created_at),
            "confirmedAt": z(confirmed.confirmed_at),
        }
    }  # fmt: skip
    assert api.get(f"/sells/detail/{confirmed.id}/").status_code == 200


def test_confirm_documented_example(api, laptop):
    created = api.post("/sells", {"products": [{"productId": str(laptop.id), "quantity": 2, "price": 1299.99}]},
                       format="json").json()["sell"]  # fmt: skip
    response = api.put(f"/sells/confirm/{created['id']}", {}, format="json")
    assert response.status_code == 200
    sale = Sale.objects.get()
    assert response.json() == {
        "message": "Sale confirmed successfully",
        "sell": {
            "id": str(sale.id),
            "status": "confirmed",
            "confirmedAt": z(sale.confirmed_at),
            "products": [{"productId": str(laptop.id), "quantity": 2, "price": 1299.99}],
            "total": 2599.98,
        },
    }
    assert levels(laptop) == (8, 0)


def test_cancel_documented_example_without_body(api, laptop):
    created = api.post("/sells", {"products": [{"productId": str(laptop.id), "quantity": 2}]}, format="json")
    sale_id = created.json()["sell"]["id"]
    response = api.generic("PUT", f"/sells/cancel/{sale_id}", "", content_type="")
    assert response.status_code == 200
    assert response.json() == {"message": "Sale cancelled successfully", "sellId": sale_id}
    assert levels(laptop) == (10, 0)


def test_complete_sale_flow_with_stock_after_each_step(api, laptop, mouse):
    """Seed 001's completeSaleFlow: create, pay, confirm; and create, payment fails, cancel."""
    variant = mouse.variants.get()
    cart = documented_request(laptop, mouse)

    paid = api.post("/sells", cart, format="json").json()["sell"]
    assert levels(laptop) == (10, 2) and levels(mouse, variant) == (20, 1)
    confirmed = api.put(f"/sells/confirm/{paid['id']}", {}, format="json")
    assert confirmed.json()["message"] == "Sale confirmed successfully"
    assert levels(laptop) == (8, 0) and levels(mouse, variant) == (19, 0)

    failed = api.post("/sells", cart, format="json").json()["sell"]
    assert levels(laptop) == (8, 2) and levels(mouse, variant) == (19, 1)
    cancelled = api.put(f"/sells/cancel/{failed['id']}", format="json")
    assert cancelled.json() == {"message": "Sale cancelled successfully", "sellId": failed["id"]}
    assert levels(laptop) == (8, 0) and levels(mouse, variant) == (19, 0)

    # handleCancellation of a confirmed sale: inventory restored.
    api.put(f"/sells/cancel/{paid['id']}", format="json")
    assert levels(laptop) == (10, 0) and levels(mouse, variant) == (20, 0)
    listing = api.get("/sells").json()
    assert listing["totalSales"] == 2
    assert listing["totalRevenue"] == 0
    assert [sell["status"] for sell in listing["sells"]] == ["cancelled", "cancelled"]
    assert all("cancelledAt" in sell for sell in listing["sells"])


@pytest.mark.parametrize(
    ("first", "second", "status"),
    [("cancel", "confirm", "cancelled"), ("cancel", "cancel", "cancelled"), ("confirm", "confirm", "confirmed")],
)
def test_refused_moves_are_409_naming_the_current_status(api, laptop, first, second, status):
    sale_id = api.post("/sells", {"products": [{"productId": str(laptop.id), "quantity": 1}]}, format="json").json()[
        "sell"
    ]["id"]
    api.put(f"/sells/{first}/{sale_id}", format="json")
    stock = levels(laptop)
    response = api.put(f"/sells/{second}/{sale_id}", format="json")
    assert response.status_code == 409
    verb = "confirmed" if second == "confirm" else "cancelled"
    assert response.json() == {"message": f"Sale {sale_id} is {status} and cannot be {verb}."}
    assert levels(laptop) == stock


def test_insufficient_stock_is_409_naming_every_product_short(api, laptop, mouse, make_product):
    dock = make_product("Dock", stock=1)
    variant_id = str(mouse.variants.get().id)
    body = {"products": [{"productId": str(laptop.id), "quantity": 11}, {"productId": str(dock.id), "quantity": 2},
                         {"productId": "prod_124", "quantity": 1, "variantId": variant_id}]}  # fmt: skip
    response = api.post("/sells", body, format="json")
    assert response.status_code == 409
    message = response.json()["message"]
    assert message.startswith("Insufficient stock: ")
    assert "Laptop Dell XPS 15 (requested 11, available 10)" in message and "Dock (requested 2, available 1)" in message
    assert ledger_size() == (0, 0)
    assert levels(laptop) == (10, 0) and levels(dock) == (1, 0)


def line(laptop, **changes):
    item = {"productId": str(laptop.id), "quantity": 1, "price": 10}
    item.update(changes)
    return {key: value for key, value in item.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "products: This field is required."),
        ({"products": []}, 400, "products: This list may not be empty."),
        ({"products": "laptop"}, 400, 'products: Expected a list of items but got type "str".'),
        ({"products": [5]}, 400, "products.0: Invalid data. Expected a dictionary, but got int."),
        ({"products": [{"productId": ...}]}, 400, "products.0.productId: This field is required."),
        ({"products": [{"productId": 123}]}, 400, "products.0.productId: Not a valid string."),
        ({"products": [{"productId": "no-such"}]}, 404, "Product 'no-such' does not exist in this project."),
        ({"products": [{"quantity": ...}]}, 400, "products.0.quantity: This field is required."),
        ({"products": [{"quantity": 0}]}, 400, "products.0.quantity: Ensure this value is greater than or equal to 1."),
        (
            {"products": [{"quantity": -2}]},
            400,
            "products.0.quantity: Ensure this value is greater than or equal to 1.",
        ),
        ({"products": [{"quantity": 1.5}]}, 400, "products.0.quantity: A valid integer is required."),
        ({"products": [{"quantity": "2"}]}, 400, "products.0.quantity: A valid integer is required."),
        ({"products": [{"price": 0}]}, 400, "products.0.price: Must be greater than 0."),
        ({"products": [{"price": -1}]}, 400, "products.0.price: Must be greater than 0."),
        ({"products": [{"price": "10"}]}, 400, "products.0.price: A valid number is required."),
        (
            {"products": [{"price": 1.23456}]},
            400,
            "products.0.price: Ensure that there are no more than 4 decimal places.",
        ),
        ({"products": [{"variantId": 7}]}, 400, "products.0.variantId: Not a valid string."),
    ],
)
def test_bad_input_is_4xx_naming_the_field_and_writes_nothing(api, laptop, body, status, message):
    if (
        "products" in body
        and isinstance(body["products"], list)
        and body["products"]
        and isinstance(body["products"][0], dict)
    ):
        body = {"products": [line(laptop, **body["products"][0])]}
    response = api.post("/sells", body, format="json")
    assert response.status_code == status, response.content
    assert response.json() == {"message": message}
    assert ledger_size() == (0, 0)
    assert levels(laptop) == (10, 0)


def test_foreign_product_and_foreign_variant(api, laptop, mouse, make_product, other_project):
    foreign = make_product("Foreign", stock=5, target_project=other_project, variants=())
    response = api.post("/sells", {"products": [line(laptop, productId=str(foreign.id))]}, format="json")
    assert response.status_code == 404
    assert response.json() == {"message": f"Product '{foreign.id}' does not exist in this project."}
    variant = mouse.variants.get()
    response = api.post("/sells", {"products": [line(laptop, variantId=str(variant.id))]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"message": f"Line 1: variant '{variant.id}' is not a variant of product '{laptop.id}'."}
    response = api.post("/sells", {"products": [line(laptop, variantId="not-a-uuid")]}, format="json")
    assert response.status_code == 400
    response = api.post("/sells", {"products": [line(laptop, productId=str(mouse.id))]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"message": "Line 1: Wireless Mouse has variants; name the variant sold."}
    assert ledger_size() == (0, 0)


def test_non_json_body_is_400(api, laptop):
    response = api.generic("POST", "/sells", "products=1")
    assert response.status_code == 400
    assert response.json()["message"].startswith("JSON parse error")
    assert ledger_size() == (0, 0)


@pytest.mark.parametrize("method,path", [("get", "/sells"), ("post", "/sells"), ("get", "/sells/detail/{id}"),
                                          ("put", "/sells/confirm/{id}"), ("put", "/sells/cancel/{id}")])  # fmt: skip
def test_bad_key_is_401(client, method, path):
    response = getattr(client, method)(path.format(id=uuid.uuid4()), HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or missing API key."}


def test_unknown_or_malformed_sale_id_is_404(api):
    for sale_id in [uuid.uuid4(), "sell_789"]:
        for method, path in [("get", "detail"), ("put", "confirm"), ("put", "cancel")]:
            response = getattr(api, method)(f"/sells/{path}/{sale_id}")
            assert response.status_code == 404
            assert response.json() == {"message": f"Sale '{sale_id}' not found."}


def test_tenant_isolation_for_every_endpoint(api, other_api, laptop):
    sale_id = api.post("/sells", {"products": [line(laptop)]}, format="json").json()["sell"]["id"]
    for method, path in [("get", "detail"), ("put", "confirm"), ("put", "cancel")]:
        assert_invisible(other_api, method, f"/sells/{path}/{sale_id}", f"/sells/{path}/{missing_id()}")
    assert other_api.get("/sells").json() == {"sells": [], "totalSales": 0, "totalRevenue": 0}
    response = other_api.post("/sells", {"products": [line(laptop)]}, format="json")
    assert response.status_code == 404
    assert Sale.objects.get().status == "pending" and levels(laptop) == (10, 1)


def test_a_user_sees_only_their_own_sales(api, project, laptop):
    sale_id = api.post("/sells", {"products": [line(laptop)]}, format="json").json()["sell"]["id"]
    colleague = keyed_client(project, issue_key(project, user=UserFactory(username="colleague")))
    assert colleague.get("/sells").json()["totalSales"] == 0
    assert colleague.get(f"/sells/detail/{sale_id}").status_code == 404


def test_a_user_cannot_confirm_or_cancel_a_colleagues_sale(api, project, laptop):
    sale_id = api.post("/sells", {"products": [line(laptop)]}, format="json").json()["sell"]["id"]
    colleague = keyed_client(project, issue_key(project, user=UserFactory(username="colleague")))
    for path in ("confirm", "cancel"):
        response = colleague.put(f"/sells/{path}/{sale_id}")
        assert response.status_code == 404
        assert response.json() == {"message": f"Sale '{sale_id}' not found."}
    assert Sale.objects.get().status == "pending" and levels(laptop) == (10, 1)


def test_filters_pagination_and_totals_cover_every_match(api, project, owner, laptop):
    base = datetime(2026, 3, 7, 12, tzinfo=UTC)
    for index in range(5):
        sale_create(
            project=project, channel="sells", user=owner, deduct_stock=False, created_at=base + timedelta(hours=index),
            lines=[LineInput(product=laptop.id, quantity=Decimal(1), unit_price=Decimal(10 + index))],
            status="confirmed" if index % 2 else "pending",
        )  # fmt: skip
    page = api.get("/sells", {"limit": 2, "offset": 1}).json()
    assert [sell["total"] for sell in page["sells"]] == [13, 12]
    assert (page["totalSales"], page["totalRevenue"]) == (5, 60)
    confirmed = api.get("/sells", {"status": "confirmed"}).json()
    assert [sell["total"] for sell in confirmed["sells"]] == [13, 11]
    assert (confirmed["totalSales"], confirmed["totalRevenue"]) == (2, 24)
    ranged = api.get("/sells", {"from": "2026-03-07T13:00:00Z", "to": "2026-03-07T15:00:00Z"}).json()
    assert [sell["total"] for sell in ranged["sells"]] == [13, 12, 11]
    for params, message in [
        ({"status": "paid"}, 'status: "paid" is not a valid choice.'),
        ({"limit": 0}, "limit: Ensure this value is greater than or equal to 1."),
        ({"limit": 5000}, "limit: Ensure this value is less than or equal to 1000."),
        ({"offset": -1}, "offset: Ensure this value is greater than or equal to 0."),
        ({"offset": 2**63}, f"offset: Ensure this value is less than or equal to {2**63 - 1 - 1000}."),
        ({"from": "yesterday"}, "from: Datetime has wrong format. Use one of these formats instead: "
                                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."),
    ]:  # fmt: skip
        response = api.get("/sells", params)
        assert response.status_code == 400
        assert response.json() == {"message": message}


def test_list_reads_the_ledger_in_one_statement(api, project, owner, laptop):
    """The page, its lines and the totals of every match come from one statement, whatever the page's
    size or its filters, a page past the end too. The gate's own queries come on top."""

    def queries(params=None):
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/sells", params).status_code == 200
        ledger = [query["sql"] for query in captured if "sales_" in query["sql"]]
        return len(captured), len(ledger)

    sale_create(project=project, channel="sells", user=owner, lines=[LineInput(product=laptop.id, quantity=Decimal(1))])
    queries()  # the key's first use stamps last_used_at; later requests within the minute don't
    few = queries()
    for _ in range(20):
        sale_create(
            project=project, channel="sells", user=owner, deduct_stock=False,
            lines=[LineInput(product=laptop.id, quantity=Decimal(1)) for _ in range(3)],
        )  # fmt: skip
    assert queries() == few
    assert few[1] == 1 and few[0] <= 4  # ours: one; the gate: key lookup, rate counter, request log
    for params in [{"limit": 5, "offset": 3}, {"status": "pending"}, {"from": "2026-01-01", "to": "2030-01-01"},
                   {"offset": 1000}, {"status": "cancelled"}]:  # fmt: skip
        assert queries(params) == few, params


def test_totals_convert_other_currencies_at_the_rate_of_each_sales_day(api, project, owner, laptop):
    ExchangeRate.objects.all().delete()
    exchange_rates_load(rows=[("EUR", Decimal("0.5"), date(2020, 1, 1)), ("EUR", Decimal("0.8"), date(2026, 6, 1))])
    laptop_line = [LineInput(product=laptop.id, quantity=Decimal(1), unit_price=Decimal(10))]
    for currency, day, status in [("USD", None, "pending"), ("EUR", datetime(2026, 7, 1, tzinfo=UTC), "pending"),
                                  ("EUR", datetime(2025, 1, 1, tzinfo=UTC), "confirmed"),
                                  ("EUR", datetime(2025, 1, 1, tzinfo=UTC), "cancelled"),
                                  ("AED", None, "pending")]:  # fmt: skip
        sale = sale_create(project=project, channel="sells", user=owner, lines=laptop_line, currency=currency,
                           created_at=day, deduct_stock=False)  # fmt: skip
        if status != "pending":
            {"confirmed": sale_confirm, "cancelled": sale_cancel}[status](sale=sale, user=owner)

    totals = api.get("/sells").json()
    ranged = api.get("/sells", {"from": "2026-01-01T00:00:00Z"}).json()

    # 10 USD + 10 EUR / 0.8 + 10 EUR / 0.5 (the cancelled one never counts; the dirham has no rate)
    assert (totals["totalSales"], totals["totalRevenue"]) == (5, 42.5)
    assert (ranged["totalSales"], ranged["totalRevenue"]) == (3, 22.5)


def test_totals_convert_a_currency_after_the_projects_and_never_a_cancelled_one(api, project, owner, laptop):
    """Whether any sale needs converting is read from the first and the last currency of the user's sales
    that revenue counts: a currency after the project's (USD) is converted; a cancelled one alone is not."""
    assert project.currency == "USD"
    ExchangeRate.objects.all().delete()
    exchange_rates_load(rows=[("ZAR", Decimal("20"), date(2020, 1, 1)), ("EUR", Decimal("0.5"), date(2020, 1, 1))])
    line = [LineInput(product=laptop.id, quantity=Decimal(1), unit_price=Decimal(10))]
    sale_create(project=project, channel="sells", user=owner, lines=line, deduct_stock=False)
    euros = sale_create(project=project, channel="sells", user=owner, lines=line, currency="EUR", deduct_stock=False)
    sale_cancel(sale=euros, user=owner)
    with CaptureQueriesContext(connection) as captured:
        alone = api.get("/sells").json()
    assert (alone["totalSales"], alone["totalRevenue"]) == (2, 10)
    assert not [query for query in captured if "exchange" in query["sql"]]  # nothing converted

    sale_create(project=project, channel="sells", user=owner, lines=line, currency="ZAR", deduct_stock=False)
    totals = api.get("/sells").json()
    assert (totals["totalSales"], totals["totalRevenue"]) == (3, 10.5)  # 10 USD + 10 ZAR / 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
@pytest.mark.django_db(transaction=True)
def test_the_first_page_is_prepared_and_keeps_its_generic_plan(api, owner, laptop, project):
    """The first page without a time range, what clients read most, is a prepared statement per LIMIT and status
    filter, and PostgreSQL settles on its generic plan (no planning a request); other pages are planned as they
    come. A session prepares four first pages at most: a client varying its LIMIT never takes the places of the
    writes' statements."""
    sale_create(project=project, channel="sells", user=owner, lines=[LineInput(product=laptop.id, quantity=Decimal(1))])
    connection.close()  # a new session: none prepared yet
    for _ in range(8):
        assert api.get("/sells").status_code == 200
        assert api.get("/sells", {"limit": 5, "status": "pending"}).status_code == 200
        assert api.get("/sells", {"offset": 1}).status_code == 200
        assert api.get("/sells", {"from": "2026-01-01T00:00:00Z"}).status_code == 200
    pages = [(name.rsplit("_", 1)[0], runs, generic) for name, runs, generic in prepared_plans("sales_sale_user%")]
    assert pages == [("sales_sale_user_page", 8, True)] * 2  # not the offset, not the range

    for limit in range(1, PREPARED_SESSION_MAX + 2):  # more page sizes than a session prepares statements
        assert api.get("/sells", {"limit": limit}).status_code == 200
    assert len(prepared_plans("sales_sale_user%")) == PREPARED_FIRST_PAGES
    sell = {"products": [{"productId": str(laptop.id), "quantity": 1}]}
    assert api.post("/sells", sell, format="json").status_code == 201
    assert [name.rsplit("_", 1)[0] for name, _, _ in prepared_plans("%_write_%")] == [
        "events_event_write", "sales_saleline_write",
    ]  # fmt: skip


def test_idempotency_key_replays_the_first_sale(api, laptop):
    body = {"products": [line(laptop, quantity=2)]}
    first = api.post("/sells", body, format="json", HTTP_IDEMPOTENCY_KEY="cart-42")
    again = api.post("/sells", body, format="json", HTTP_IDEMPOTENCY_KEY="cart-42")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Sale.objects.count() == 1 and levels(laptop) == (10, 2)
