"""Staff manage webhook endpoints and deliveries in the admin through the services; a sale shows its timeline."""

import pytest

from events.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from events.webhooks.services import endpoint_create, endpoint_ping
from sales.ledger.models import SaleChannel
from sales.ledger.services import LineInput, sale_confirm, sale_create

pytestmark = pytest.mark.django_db
ENDPOINTS = "/admin/events/webhookendpoint/"


def test_adding_an_endpoint_shows_its_secret_once(staff_client, project, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = []
    form = {"project": project.pk, "url": "https://hooks.example.com/in", "event_types": "sale.*, stock.low",
            "description": "ERP", "enabled": "on"}  # fmt: skip
    refused = staff_client.post(f"{ENDPOINTS}add/", {**form, "url": "http://hooks.example.com/in"})
    assert refused.status_code == 200 and "Webhook URLs must use https." in refused.content.decode()
    added = staff_client.post(f"{ENDPOINTS}add/", form)
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.event_types, endpoint.description) == (
        "https://hooks.example.com/in",
        ["sale.*", "stock.low"],
        "ERP",
    )
    assert added.status_code == 200 and endpoint.secret in added.content.decode()
    page = staff_client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page and "sale.*, stock.low" in page


def test_rotate_ping_and_resend_actions(staff_client, project):
    endpoint = endpoint_create(project=project, url="https://hooks.example.com/in", event_types=["*"])
    rotated = staff_client.post(ENDPOINTS, {"action": "rotate_secrets", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()
    staff_client.post(ENDPOINTS, {"action": "send_test_events", "_selected_action": [endpoint.pk]})
    delivery = WebhookDelivery.objects.get(event__type="ping")
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    staff_client.post("/admin/events/webhookdelivery/", {"action": "resend", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert staff_client.get(f"/admin/events/webhookdelivery/{delivery.pk}/change/").status_code == 200


def test_a_sale_page_shows_its_timeline(staff_client, staff, project, make_product):
    lamp = make_product("Lamp", stock=3)
    sale = sale_create(project=project, channel=SaleChannel.NATIVE, lines=[LineInput(product=lamp.pk, quantity=1)])
    sale_confirm(sale=sale, user=staff)
    page = staff_client.get(f"/admin/sales/sale/{sale.pk}/change/").content.decode()
    assert '<table class="sale-timeline">' in page
    assert "<td>sale.created</td><td>pending</td><td>System</td>" in page
    assert "<td>sale.confirmed</td><td>pending → confirmed</td><td>User staff</td>" in page


def test_the_events_list_is_read_only(staff_client, project):
    endpoint = endpoint_create(project=project, url="https://hooks.example.com/in", event_types=["*"])
    endpoint_ping(endpoint=endpoint)
    assert "ping" in staff_client.get("/admin/events/event/").content.decode()
    assert staff_client.get("/admin/events/event/add/").status_code == 403
