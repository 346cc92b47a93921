"""Events are written by the service that makes the change, in its transaction: exactly when it commits."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate
from events.models import Event
from events.services import NewEvent, event_record, events_record_many
from events.webhooks.models import WebhookDelivery
from events.webhooks.services import endpoint_create
from inventory.services.stock import StockItem, stock_reserve

pytestmark = pytest.mark.django_db


def types(**filters) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("created", "type").values_list("type", flat=True))


def test_a_rolled_back_change_leaves_no_event(project, owner):
    with pytest.raises(RuntimeError), transaction.atomic():
        api_key_create(project=project, name="doomed", user=owner)
        raise RuntimeError("the caller's transaction fails after the key was written")
    assert not APIKey.objects.filter(name="doomed").exists()
    assert not Event.objects.exists()


def test_key_events_name_the_key_and_who_acted(project, owner, staff):
    issued = api_key_create(project=project, name="shop", user=owner)
    replacement = api_key_rotate(api_key=issued.api_key, grace="1h", user=staff)
    api_key_revoke(api_key=replacement.api_key, user=staff)
    api_key_revoke(api_key=replacement.api_key, user=staff)  # Already revoked: no change, no event.
    events = list(Event.objects.order_by("created", "type"))
    assert [(e.type, e.object_id, e.actor_type, e.actor) for e in events] == [
        ("api_key.created", str(issued.api_key.pk), "user", "owner"),
        ("api_key.created", str(replacement.api_key.pk), "user", "staff"),
        ("api_key.rotated", str(issued.api_key.pk), "user", "staff"),
        ("api_key.revoked", str(replacement.api_key.pk), "user", "staff"),
    ]
    assert events[2].data["status"] == "grace"
    assert events[3].data["status"] == "revoked" and events[3].data["revoked_at"] is not None


def test_a_batch_is_one_insert_and_endpoints_add_two_statements(project, django_assert_num_queries):
    batch = [NewEvent(type="sale.created", data={"n": n}, object_id=f"s{n}") for n in range(50)]
    with django_assert_num_queries(1):
        events_record_many(project_id=project.pk, events=batch)
    endpoint_create(project=project, url="https://hooks.example.com/a", event_types=["sale.*"])
    endpoint_create(project=project, url="https://hooks.example.com/b", event_types=["stock.*"])
    # The events' insert (which finds an endpoint), the endpoints, the deliveries' insert.
    with django_assert_num_queries(3):
        events = events_record_many(project_id=project.pk, events=batch)
    assert WebhookDelivery.objects.filter(event__in=events).count() == 50
    assert Event.objects.filter(type="sale.created").count() == 100


def test_stock_corrections_record_reason_actor_and_request(api, make_product, issued_key):
    lamp = make_product("Lamp", stock=8)
    response = api.post(
        f"/api/v1/products/{lamp.pk}/adjust-stock/", {"delta": -4, "reason": "broken"}, HTTP_X_REQUEST_ID="req-7"
    )
    assert response.status_code == 200
    adjusted, low = Event.objects.filter(object_id=str(lamp.pk)).order_by("type")
    assert (adjusted.type, low.type) == ("stock.adjusted", "stock.low")
    for event in (adjusted, low):
        assert (event.actor_type, event.actor, event.request_id) == (
            "api_key",
            issued_key.api_key.display_prefix,
            "req-7",
        )
    assert adjusted.data == {**response.json(), "name": "Lamp"}
    assert adjusted.data["movement"]["note"] == "broken"
    assert low.data == {"product_id": str(lamp.pk), "variant_id": None, "on_hand": 4, "reserved": 0, "available": 4,
                        "name": "Lamp"}  # fmt: skip


def test_stock_low_is_recorded_when_available_stock_crosses_the_threshold_downward(make_product):
    lamp, desk = make_product("Lamp", stock=7), make_product("Desk", stock=20)
    reserve = [StockItem(lamp.pk, None, 1), StockItem(desk.pk, None, 1)]
    stock_reserve(items=reserve)  # Lamp 6 available, desk 19: nothing low.
    assert types(type="stock.low") == []
    stock_reserve(items=reserve)  # Lamp 5: crosses.
    stock_reserve(items=reserve)  # Lamp 4: already low.
    assert [(e.object_id, e.data["available"]) for e in Event.objects.filter(type="stock.low")] == [(str(lamp.pk), 5)]


def test_tracked_conversions_are_events_in_the_conversions_api_shape(api):
    api.post("/track/lead", {"clickId": "clk", "eventName": "Trial", "customerExternalId": "ann", "eventQuantity": 3})
    api.post("/track/sale", {"customerExternalId": "ann", "amount": 1999, "invoiceId": "in_1"})
    api.post("/track/sale", {"customerExternalId": "ann", "amount": 1999, "invoiceId": "in_1"})  # A replay.
    assert types() == ["api_key.created", "lead.created", "lead.created", "lead.created", "conversion.created"]
    sale = Event.objects.get(type="conversion.created")
    assert sale.data == api.get(f"/api/v1/conversions/{sale.object_id}/").json()


def test_purge_events_keeps_30_days_by_default(project, capsys):
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        endpoint_create(project=project, url="https://hooks.example.com/a", event_types=["*"])
        event_record(project_id=project.pk, type="stock.low", data={})
    kept = event_record(project_id=project.pk, type="stock.low", data={})
    call_command("purge_events")
    assert capsys.readouterr().out == "Deleted 1 events older than 30 days.\n"
    assert list(Event.objects.all()) == [kept]
    assert [delivery.event_id for delivery in WebhookDelivery.objects.all()] == [kept.pk]
