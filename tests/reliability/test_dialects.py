"""The gate on every real dialect endpoint: replay, other parameters, in flight, races, hostile bodies, 413."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from apikeys.models import IdempotencyKey
from inventory.models import Product
from inventory.services.catalogue import product_create
from sales.ledger.models import Sale
from sales.pos.models import Location
from sales.pos.services import location_create
from sales.uploads.models import Upload
from salesledger.errors import CONNECTEAM, COSTTRACK, CUSTOBAR, NATIVE, SELLS, TRACK, Dialect
from tests.concurrency import held_claim, race
from tests.helpers import keyed_client
from tests.reliability.shapes import error_message, expected_error, has_shape
from tracking.models import LeadEvent, SaleEvent

pytestmark = pytest.mark.django_db

REUSED = (
    "This Idempotency-Key was already used with other parameters (method, path or body); "
    "send a new key for a new request."
)
IN_FLIGHT = "A request with this Idempotency-Key is still being processed; retry later."


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    dialect: Dialect
    style: str  # how its documented clients send the key
    created: int  # its success status

    def body(self, project, variant: int) -> dict:
        """A valid request; `variant` changes it (another amount, another id)."""
        return BODIES[self.name](project, variant)

    def count(self) -> int:
        """What one successful request adds one of."""
        return COUNTERS[self.name]()


def _product(project):
    return Product.objects.filter(project=project).first() or product_create(
        project=project, name="Laptop", price=Decimal("10.00"), stock_on_hand=1000
    )


def _location(project):
    return Location.objects.filter(project=project).first() or location_create(project=project, name="Main")


BODIES = {
    "native": lambda project, n: {"name": f"Product {n}", "price": "10.00"},
    "costtrack": lambda project, n: {"productId": str(_product(project).id), "quantity": 1 + n, "sellingPrice": 25},
    "sells": lambda project, n: {"products": [{"productId": str(_product(project).id), "quantity": 1 + n, "price": 9}]},
    "track": lambda project, n: {"customerExternalId": "c1", "amount": 100 + n},
    "track-lead": lambda project, n: {"clickId": "clk_1", "eventName": f"Sign up {n}", "customerExternalId": "u1"},
    "custobar": lambda project, n: {
        "sales": [
            {
                "sale_external_id": "1000",
                "sale_customer_id": "A501",
                "sale_date": "2017-12-01T13:11:23Z",
                "product_id": "SKU0435",
                "unit_price": 1200 + n,
                "quantity": 1,
            }
        ]
    },  # fmt: skip
    "connecteam": lambda project, n: {
        "transactionsCreateRequest": [
            {
                "locationId": _location(project).id,
                "saleType": "SALE",
                "createdAt": 1706454000,
                "finalSaleAmount": 10 + n,
            }
        ]
    },
}
COUNTERS = {
    "native": Product.objects.count,
    "costtrack": Sale.objects.count,
    "sells": Sale.objects.count,
    "track": SaleEvent.objects.count,
    "track-lead": LeadEvent.objects.count,
    "custobar": Upload.objects.count,
    "connecteam": Sale.objects.count,
}
ENDPOINTS = [
    Endpoint("native", "/api/v1/products/", NATIVE, "bearer", 201),
    Endpoint("costtrack", "/api/sales/create", COSTTRACK, "bearer", 200),
    Endpoint("sells", "/sells", SELLS, "bearer", 201),
    Endpoint("track", "/track/sale", TRACK, "bearer", 200),
    Endpoint("track-lead", "/track/lead", TRACK, "bearer", 200),
    Endpoint("custobar", "/api/sales/upload/", CUSTOBAR, "basic", 200),
    Endpoint("connecteam", "/sales/v1/transactions", CONNECTEAM, "header", 200),
]
each_endpoint = pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])


def send(client, endpoint, body, key="retry-1", **extra):
    return client.post(endpoint.path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.fixture
def client_for(project, issued_key):
    return lambda endpoint: keyed_client(project, issued_key, endpoint.style)


@each_endpoint
def test_a_retry_replays_the_first_answer_and_writes_once(client_for, project, endpoint):
    client = client_for(endpoint)
    body = endpoint.body(project, 0)
    before = endpoint.count()
    first = send(client, endpoint, body)
    assert first.status_code == endpoint.created, first.content
    again = send(client, endpoint, body)
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (endpoint.created, first.content, "true")
    assert endpoint.count() == before + 1


@each_endpoint
def test_the_key_with_another_body_is_422_in_the_dialects_shape(client_for, project, endpoint):
    client = client_for(endpoint)
    assert send(client, endpoint, endpoint.body(project, 0)).status_code == endpoint.created
    before = endpoint.count()
    response = send(client, endpoint, endpoint.body(project, 1))
    assert response.status_code == 422
    assert response.json() == expected_error(endpoint.dialect, 422, REUSED)
    assert endpoint.count() == before


@pytest.mark.django_db(transaction=True)
@each_endpoint
def test_the_key_while_the_first_request_runs_is_409_in_the_dialects_shape(client_for, project, endpoint):
    client = client_for(endpoint)
    body = endpoint.body(project, 0)
    send(client, endpoint, body, key="probe")
    before = endpoint.count()
    with held_claim(project=project, key="running", like=IdempotencyKey.objects.get(key="probe")):
        response = send(client, endpoint, body, key="running")
    assert response.status_code == 409
    assert response.json() == expected_error(endpoint.dialect, 409, IN_FLIGHT)
    assert endpoint.count() == before


@each_endpoint
def test_a_refused_body_stores_nothing_and_the_corrected_retry_runs(client_for, project, endpoint):
    client = client_for(endpoint)
    refused = send(client, endpoint, {"unexpected": True})
    assert refused.status_code == endpoint.dialect.validation_status
    assert has_shape(endpoint.dialect, refused.json())
    assert not IdempotencyKey.objects.exists()
    assert send(client, endpoint, endpoint.body(project, 0)).status_code == endpoint.created


@each_endpoint
def test_malformed_json_is_400_in_the_dialects_shape(client_for, endpoint):
    response = client_for(endpoint).post(endpoint.path, data=b'{"oops": ', content_type="application/json")
    assert response.status_code == 400
    assert has_shape(endpoint.dialect, response.json())
    assert response.json() == expected_error(endpoint.dialect, 400, error_message(response.json()))


@each_endpoint
@pytest.mark.parametrize("body", [b"[]", b'"text"', b"null", b"7"], ids=["array", "string", "null", "number"])
def test_json_of_the_wrong_kind_is_a_4xx_in_the_dialects_shape(client_for, endpoint, body):
    response = client_for(endpoint).post(endpoint.path, data=body, content_type="application/json")
    assert response.status_code == endpoint.dialect.validation_status
    assert has_shape(endpoint.dialect, response.json()), response.json()


@each_endpoint
def test_a_wrong_content_type_is_refused_in_the_dialects_shape(client_for, endpoint):
    response = client_for(endpoint).post(endpoint.path, data=b"a=1", content_type="application/x-www-form-urlencoded")
    # The track API documents a 400 for it (a client's bad request); the others answer DRF's 415.
    assert response.status_code == (400 if endpoint.dialect is TRACK else 415)
    assert has_shape(endpoint.dialect, response.json())
    assert "application/x-www-form-urlencoded" in error_message(response.json()) or endpoint.dialect is TRACK


@each_endpoint
def test_an_unknown_method_is_405_in_the_dialects_shape(client_for, endpoint):
    response = client_for(endpoint).patch(endpoint.path, data={}, format="json")
    assert response.status_code == 405
    assert response.json() == expected_error(endpoint.dialect, 405, 'Method "PATCH" not allowed.')


@each_endpoint
def test_a_body_over_the_limit_is_413_in_the_dialects_shape(client_for, endpoint):
    limit = 50 if endpoint.name == "custobar" else 1
    declared = limit * 1024 * 1024 + 1
    response = client_for(endpoint).post(
        endpoint.path, data=b"{}", content_type="application/json", CONTENT_LENGTH=str(declared)
    )
    assert response.status_code == 413
    message = f"Request body too large: {declared} bytes, the limit is {limit} MB."
    assert response.json() == expected_error(endpoint.dialect, 413, message)


@each_endpoint
def test_over_the_rate_limit_is_429_in_the_dialects_shape(client_for, project, endpoint, time_machine):
    time_machine.move_to("2026-11-22 12:00:10", tick=False)
    project.rate_limit = 1
    project.save()
    client = client_for(endpoint)
    client.post(endpoint.path, endpoint.body(project, 0), format="json")
    response = client.post(endpoint.path, endpoint.body(project, 1), format="json")
    assert response.status_code == 429
    assert response["X-RateLimit-Limit"] == "1" and response["X-RateLimit-Remaining"] == "0"
    assert response["Retry-After"] == "50"
    message = "Rate limit of 1 requests per minute exceeded. Expected available in 50 seconds."
    assert response.json() == expected_error(endpoint.dialect, 429, message)


def test_sells_transitions_replay_too(client_for, project):
    sells = next(endpoint for endpoint in ENDPOINTS if endpoint.name == "sells")
    client = client_for(sells)
    sale_id = client.post("/sells", sells.body(project, 0), format="json").json()["sell"]["id"]
    first = client.put(f"/sells/confirm/{sale_id}", {}, format="json", HTTP_IDEMPOTENCY_KEY="confirm-1")
    again = client.put(f"/sells/confirm/{sale_id}", {}, format="json", HTTP_IDEMPOTENCY_KEY="confirm-1")
    assert first.status_code == 200
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (200, first.content, "true")
    without_key = client.put(f"/sells/confirm/{sale_id}", {}, format="json")
    assert without_key.status_code == 409  # a second confirmation is refused; the keyed retry was not


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@each_endpoint
def test_racing_retries_write_once(project, issued_key, endpoint):
    body = endpoint.body(project, 0)
    before = endpoint.count()

    def work(index):
        response = send(keyed_client(project, issued_key, endpoint.style), endpoint, body, key="race")
        return response.status_code, response.content

    results = race(6, work)
    assert endpoint.count() == before + 1
    statuses = {status for status, _ in results}
    assert statuses <= {endpoint.created, 409}, results
    assert len({content for status, content in results if status == endpoint.created}) == 1
