"""Every API under each class of hostile input: a 4xx in the dialect's shape, nothing written, and every
read of the project still answers 200 afterwards. A stored row out of range locks no read out either.

The classes: strings that are not encodable Unicode (lone surrogates, in values and keys), numbers no
column can hold (1e400, NaN, in typed fields and in free-form JSON), absurd exchange rates, times out of
range once converted to UTC, and chunked bodies past the size limit.
"""

import io
import json
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apikeys.models import APIKey, IdempotencyKey
from inventory.models import Product, StockMovement
from sales.ledger.models import Sale, SaleLine
from sales.pos.models import Location
from sales.uploads.models import Upload
from salesledger.errors import CONNECTEAM, COSTTRACK, CUSTOBAR, NATIVE, SELLS, TRACK
from tests.factories import ProductFactory
from tests.reliability.shapes import has_shape
from tracking.models import Customer, LeadEvent, SaleEvent

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
SURROGATE = "x\ud800y"
HUGE = "__HUGE__"  # replaced by a number literal in the JSON text (json.dumps cannot write 1e400)


@dataclass(frozen=True)
class Write:
    dialect: object
    path: str
    body: dict
    limit: int = 1 * MB


def writes(product, location) -> dict[str, Write]:
    """A valid request to every write of every API (the hostile cases change one thing in it)."""
    upload_row = {
        "sale_external_id": "T1", "sale_customer_id": "C1", "sale_date": "2017-12-01T13:11:23Z",
        "product_id": "SKU1", "unit_price": 1200, "quantity": 1, "ACME__note": "ok",
    }  # fmt: skip
    return {
        "costtrack": Write(COSTTRACK, "/api/sales/create", {"productId": product, "quantity": 1, "sellingPrice": 25}),
        "sells": Write(SELLS, "/sells", {"products": [{"productId": product, "quantity": 1}]}),
        "track sale": Write(TRACK, "/track/sale", {"customerExternalId": "c1", "amount": 100, "metadata": {"a": 1}}),
        "track lead": Write(TRACK, "/track/lead", {"clickId": "clk", "eventName": "Signup", "customerExternalId": "c"}),
        "custobar": Write(CUSTOBAR, "/api/sales/upload/", {"sales": [upload_row]}, limit=50 * MB),
        "connecteam": Write(
            CONNECTEAM,
            "/sales/v1/transactions",
            {
                "transactionsCreateRequest": [
                    {"locationId": location, "saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 10}
                ]
            },
        ),  # fmt: skip
        "native products": Write(NATIVE, "/api/v1/products/", {"name": "Lamp", "price": 5, "sku": "L1"}),
        "native sales": Write(NATIVE, "/api/v1/sales/", {"lines": [{"product": product, "quantity": 1}]}),
        "native locations": Write(NATIVE, "/api/v1/locations/", {"name": "Shop", "time_zone": "Europe/Helsinki"}),
        "native stock": Write(NATIVE, f"/api/v1/products/{product}/adjust-stock/", {"delta": 1, "reason": "found"}),
    }


WRITES = [
    "costtrack", "sells", "track sale", "track lead", "custobar", "connecteam",
    "native products", "native sales", "native locations", "native stock",
]  # fmt: skip


def leaves(value, path=()):
    """(path, value) of every string and number in a JSON body."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in leaves(item, (*path, index))]
    return [(path, value)]


def replaced(body, path, value):
    body = json.loads(json.dumps(body))
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


def encoded(body, huge="1e400") -> bytes:
    """JSON text with lone surrogates as \\u escapes (as any client sends them) and HUGE as `huge`."""
    return json.dumps(body).replace(f'"{HUGE}"', huge).encode()


def hostile_bodies(write: Write) -> list[tuple[str, bytes]]:
    """(what, body) for each class that applies to `write`'s fields."""
    cases = []
    for path, value in leaves(write.body):
        where = ".".join(map(str, path))
        if isinstance(value, str):
            cases.append((f"surrogate in {where}", encoded(replaced(write.body, path, SURROGATE))))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            for literal in ("1e400", "-1e400", "NaN", "Infinity"):
                cases.append((f"{literal} in {where}", encoded(replaced(write.body, path, HUGE), literal)))
    cases.append(("surrogate in a key", encoded({**write.body, "k\udfff": 1})))
    cases.append(("1e400 in an unknown field", encoded({**write.body, "extra": HUGE})))
    return cases


CASES = [  # (write name, what): the hostile bodies are built again, with real ids, in the test
    pytest.param(name, what, id=f"{name}: {what}")
    for name in WRITES
    for what, _ in hostile_bodies(writes("PRODUCT", 1)[name])
]

# Out of range once in UTC, absurd rates and non-finite free-form values, where a dialect has them.
UPLOAD_ROW = {"sale_external_id": "T9", "sale_customer_id": "C9", "product_id": "SKU9", "quantity": 1, "unit_price": 1}
FIELD_CASES = {
    "custobar": [
        *[({**UPLOAD_ROW, "sale_date": date}, "sale_date") for date in (
            "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00", "9999-12-31",
            "1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "2200-12-31T20:00:00-05:00",
        )],
        *[({**UPLOAD_ROW, "sale_date": "2020-01-01", "sale_currency": "EUR", "sale_exchange_rate": rate,
            "unit_price": None, "unit_price_in_currency": 1000}, "sale_exchange_rate")
          for rate in (1e-30, 5e-324, 1e-9, 1e300, 0, -1.5)],
        ({**UPLOAD_ROW, "sale_date": "2020-01-01", "ACME__x": {"deep": [HUGE]}}, None),
    ],
    "connecteam": [
        ({"saleType": "SALE", "createdAt": seconds, "finalSaleAmount": 10}, "createdAt")
        for seconds in (-1, 7289654400, 253402300800, 10**12, 2**63)
    ],
    "track sale": [({"customerExternalId": "c1", "amount": 100, "metadata": {"x": [HUGE]}}, None)],
}  # fmt: skip
FIELD_PARAMS = [
    pytest.param(name, index, id=f"{name}: {json.dumps(row)[:90]}")
    for name, rows in FIELD_CASES.items()
    for index, row in enumerate(rows)
]

# Reads of the project a client or an owner makes, which must answer 200 whatever was sent or stored.
READS = [
    "/sells", "/sells?status=confirmed", "/api/v1/sales/", "/api/v1/sales/?ordering=created_at", "/api/v1/products/",
    "/api/v1/stock-movements/", "/api/v1/customers/", "/api/v1/conversions/", "/api/v1/locations/",
    "/api/v1/project/", "/api/v1/keys/",
]  # fmt: skip


@pytest.fixture
def world(project, api, owner, staff_client):
    """A project with a product, a location and one sale of every kind, as a client would have made them."""
    product = ProductFactory(project=project, name="Laptop", external_id="LAPTOP", stock=100)
    location = api.post("/api/v1/locations/", {"name": "Main", "time_zone": "UTC"}, format="json").json()["id"]
    sale = api.post("/sells", {"products": [{"productId": str(product.id), "quantity": 1}]}, format="json").json()
    upload = api.post("/api/sales/upload/", {"sales": [{**UPLOAD_ROW, "sale_date": "2020-01-01"}]}, format="json")
    assert upload.status_code == 200, upload.content
    assert api.post("/track/sale", {"customerExternalId": "c0", "amount": 5}, format="json").status_code == 200
    return {"product": str(product.id), "location": location, "sale": sale["sell"]["id"]}


def ledger_state() -> dict:
    models = [Sale, SaleLine, Product, StockMovement, Location, Upload, Customer, LeadEvent, SaleEvent, APIKey]
    return {model.__name__: model.objects.count() for model in models} | {
        "stock": list(StockMovement.objects.order_by("id").values_list("delta_on_hand", "delta_reserved")),
        "idempotency": IdempotencyKey.objects.count(),
    }


def assert_every_read_answers(api, owner, world, client):
    every_time = f"locationId={world['location']}&startTime=0&endTime=7289654399"
    details = [f"/sells/detail/{world['sale']}", f"/api/v1/sales/{world['sale']}/"]
    for path in [*READS, *details, f"/sales/v1/transactions?{every_time}"]:
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
    client.force_login(owner)
    for path in ("/projects/alpha/", "/projects/alpha/sales.csv?period=all"):
        response = client.get(path)
        assert response.status_code == 200, path
        b"".join(response.streaming_content) if response.streaming else response.content


def assert_refused(response, write: Write):
    assert 400 <= response.status_code < 500, response.content[:300]
    assert has_shape(write.dialect, response.json()), response.json()


def send(api, write: Write, body: bytes, **extra):
    return api.post(write.path, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="hostile", **extra)


@pytest.mark.parametrize(("name", "what"), CASES)
def test_unencodable_strings_and_unholdable_numbers_are_refused_in_every_api(api, owner, client, world, name, what):
    write = writes(world["product"], world["location"])[name]
    [body] = [body for case, body in hostile_bodies(write) if case == what]
    before = ledger_state()
    assert_refused(send(api, write, body), write)
    assert ledger_state() == before
    assert_every_read_answers(api, owner, world, client)


@pytest.mark.parametrize(("name", "index"), FIELD_PARAMS)
def test_times_rates_and_free_form_numbers_out_of_range_are_refused_naming_the_field(
    api, owner, client, world, project, name, index
):
    project.time_zone = "America/New_York"  # west of UTC: a zone-less late date leaves the range in UTC
    project.save()
    row, field = FIELD_CASES[name][index]
    row = {key: value for key, value in row.items() if value is not None}
    write = writes(world["product"], world["location"])[name]
    body = {
        "custobar": lambda: {"sales": [row]},
        "connecteam": lambda: {"transactionsCreateRequest": [{**row, "locationId": world["location"]}]},
        "track sale": lambda: row,
    }[name]()
    before = ledger_state()
    response = send(api, write, encoded(body))
    assert_refused(response, write)
    if field is not None:
        assert field in json.dumps(response.json())
    assert ledger_state() == before
    assert_every_read_answers(api, owner, world, client)


@pytest.mark.parametrize("name", WRITES)
def test_a_chunked_body_past_the_limit_is_refused_while_streaming_in_every_api(api, owner, client, world, name):
    write = writes(world["product"], world["location"])[name]
    before = ledger_state()
    stream = io.BytesIO(json.dumps({**write.body, "padding": "x" * write.limit}).encode())
    response = send(api, write, b"", CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": stream})
    assert response.status_code == 413
    assert has_shape(write.dialect, response.json())
    assert stream.tell() == write.limit + 1  # nothing past the limit was read
    assert ledger_state() == before
    assert_every_read_answers(api, owner, world, client)


@pytest.mark.parametrize("name", WRITES)
def test_a_chunked_body_within_the_limit_is_read_in_every_api(api, world, name):
    write = writes(world["product"], world["location"])[name]
    stream = io.BytesIO(json.dumps(write.body).encode())
    response = send(api, write, b"", CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": stream})
    assert response.status_code in (200, 201), response.content[:300]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_stored_time_out_of_range_locks_no_read_out_and_check_ledger_reports_it(
    api, owner, client, staff_client, world, project
):
    # As an upload stored it before dates were checked: 9999-12-31T23:00:00-05:00 is year 10000 in UTC.
    poisoned = Sale.objects.get(project=project, channel="custobar")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Sale._meta.db_table} SET created_at = %s::timestamptz WHERE id = %s",
            ["9999-12-31T23:00:00-05:00", poisoned.pk],
        )
    assert_every_read_answers(api, owner, world, client)
    assert api.get(f"/api/v1/sales/{poisoned.pk}/").json()["created_at"] == "9999-12-31T00:00:00Z"
    assert staff_client.get("/admin/sales/sale/").status_code == 200
    assert staff_client.get(f"/admin/sales/sale/{poisoned.pk}/change/").status_code == 200
    assert staff_client.get("/admin/sales-export.csv", {"project": "alpha", "period": "all"}).status_code == 200

    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 stored time\(s\) out of range\.$"):
        call_command("check_ledger", stdout=out)
    assert out.getvalue() == (f"alpha sale {poisoned.pk} (custobar T9): created_at = 10000-01-01 04:00:00+00\n")

    # The project repairs itself through the API: the same transaction uploaded with its right date.
    repaired = api.post(
        "/api/sales/upload/", {"sales": [{**UPLOAD_ROW, "sale_date": "2020-01-01T00:00:00Z"}]}, format="json"
    )
    assert repaired.status_code == 200, repaired.content
    call_command("check_ledger", stdout=io.StringIO())
