"""Sale events: written by the ledger's, the POS's and the upload's services, in the shape of the sales API."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from events.models import Event, WebhookDelivery
from events.webhooks.services import endpoint_create
from sales.ledger.models import Sale
from sales.pos.services import (
    TransactionInput,
    location_create,
    pos_deletion_restore,
    pos_transaction_delete,
    pos_transactions_create,
)
from sales.uploads.services import sales_upload

pytestmark = pytest.mark.django_db


def sale_events():
    return [(e.type, e.object_id, e.previous_status) for e in Event.objects.filter(type__startswith="sale.")
            .order_by("created", "type")]  # fmt: skip


def test_a_sales_life_is_its_events_each_with_the_sale_as_the_api_shows_it(api, make_product, issued_key):
    laptop = make_product("Laptop", stock=10, price="1299.99")
    created = api.post("/api/v1/sales/", {"lines": [{"product": str(laptop.pk), "quantity": 2}]}, format="json")
    assert created.status_code == 201, created.json()
    sale_id = created.json()["id"]
    assert api.post(f"/api/v1/sales/{sale_id}/confirm/", format="json").status_code == 200
    assert api.post(f"/api/v1/sales/{sale_id}/cancel/", format="json").status_code == 200
    assert sale_events() == [
        ("sale.created", sale_id, ""),
        ("sale.confirmed", sale_id, "pending"),
        ("sale.cancelled", sale_id, "confirmed"),
    ]
    timeline = list(Event.objects.filter(object_id=sale_id).order_by("created"))
    assert timeline[0].data == created.json()
    assert timeline[-1].data == api.get(f"/api/v1/sales/{sale_id}/").json()
    assert {(e.actor_type, e.actor) for e in timeline} == {("api_key", issued_key.api_key.display_prefix)}


def test_a_refused_sale_records_nothing(api, make_product):
    lamp = make_product("Lamp", stock=1)
    response = api.post("/api/v1/sales/", {"lines": [{"product": str(lamp.pk), "quantity": 2}]}, format="json")
    assert response.status_code == 409
    assert sale_events() == []


def test_pos_batches_deletes_and_restores_are_events_per_sale(project, owner):
    location = location_create(project=project, name="Main street")
    at = datetime(2026, 1, 5, tzinfo=UTC)
    sales = pos_transactions_create(
        project=project, transactions=[TransactionInput(location.id, "SALE", at, Decimal(n + 1)) for n in range(3)]
    )
    deletion = pos_transaction_delete(project=project, transaction_id=str(sales[0].pk), request_id="r-1", user=owner)
    pos_deletion_restore(deletion=deletion, user=owner)
    ids = [str(sale.pk) for sale in sales]
    assert sorted(sale_events()[:3]) == sorted(("sale.created", sale_id, "") for sale_id in ids)
    assert sale_events()[3:] == [("sale.deleted", ids[0], ""), ("sale.restored", ids[0], "")]
    deleted = Event.objects.get(type="sale.deleted")
    assert (deleted.data["total"], deleted.data["channel"], deleted.actor) == (1.0, "connecteam", "owner")


def test_an_upload_records_created_and_changed_sales_only(project):
    row = {"sale_date": "2017-12-01T13:11:23Z", "sale_customer_id": "C1", "product_id": "P1", "unit_price": 1000}
    sales_upload(project=project, rows=[{**row, "sale_external_id": "S1", "quantity": 1},
                                        {**row, "sale_external_id": "S2", "quantity": 1}])  # fmt: skip
    s1, s2 = (str(Sale.objects.get(external_id=name).pk) for name in ("S1", "S2"))
    assert sorted(sale_events()) == sorted([("sale.created", s1, ""), ("sale.created", s2, "")])
    Event.objects.all().delete()
    sales_upload(project=project, rows=[{**row, "sale_external_id": "S1", "quantity": 3, "sale_state": "CANCELLED"},
                                        {**row, "sale_external_id": "S2", "quantity": 1}])  # fmt: skip
    [updated] = Event.objects.all()
    assert (updated.type, updated.object_id, updated.previous_status) == ("sale.updated", s1, "confirmed")
    assert updated.data["status"] == "cancelled"
    assert [line["quantity"] for line in updated.data["lines"]] == [3.0]


def test_an_uploads_events_are_its_sales_as_the_api_shows_them_new_lines_with_their_ids(api, project):
    endpoint = endpoint_create(project=project, url="https://hooks.example.com/in", event_types=["sale.*"])
    row = {"sale_date": "2017-12-01T13:11:23.250000Z", "sale_customer_id": "C1", "product_id": "P1", "quantity": 1.5}
    first = [
        {**row, "sale_external_id": "S1", "unit_price": 1000, "external_id": "S1-1", "tags": ["a"]},
        {**row, "sale_external_id": "S1", "unit_price": 333, "discount": 1},
        {**row, "sale_external_id": "S2", "sale_date": "2017-12-02", "unit_price": 1, "sale_state": "NEW"},
    ]
    assert api.post("/api/sales/upload/", {"sales": first}).status_code == 200
    second = [
        {"sale_external_id": "S1", "external_id": "S1-2", "product_id": "P2", "quantity": 2, "unit_price": 5},
        {"sale_external_id": "S2", "product_id": "P1", "quantity": 3, "unit_price": 1, "sale_state": "CLOSED"},
    ]
    assert api.post("/api/sales/upload/", {"sales": second}).status_code == 200

    events = list(Event.objects.filter(type__startswith="sale.").order_by("created", "type", "previous_status"))
    assert [(event.type, event.previous_status) for event in events] == [
        ("sale.created", ""), ("sale.created", ""), ("sale.updated", ""), ("sale.updated", "pending"),
    ]  # fmt: skip
    for event in events[2:]:
        shown = api.get(f"/api/v1/sales/{event.object_id}/").json()
        # The same JSON text, number for number (12.0 stays 12.0), and every line with its id.
        assert json.dumps(event.data, sort_keys=True) == json.dumps(shown, sort_keys=True)
        assert all(line["id"] is not None for line in event.data["lines"])
    assert {line["product_name"] for line in events[2].data["lines"]} == {"P1", "P2"}
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 4
