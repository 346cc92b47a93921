"""The events API (a cursor-paginated stream) and the webhook endpoints API."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from events.models import Event
from events.services import event_record
from events.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from events.webhooks.services import endpoint_create
from tests.tenancy import assert_invisible

pytestmark = pytest.mark.django_db
MISSING_EVENT = "evt_" + "0" * 32


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def stream(project):
    """Six events a minute apart (the key's own api_key.created comes first, a day earlier)."""
    start = timezone.now() + timedelta(days=1)
    types = ["sale.created", "stock.adjusted", "sale.confirmed", "lead.created", "sale.cancelled", "stock.low"]
    events = []
    for n, type in enumerate(types):
        with time_machine.travel(start + timedelta(minutes=n), tick=False):
            events.append(event_record(project_id=project.pk, type=type, data={"n": n}, object_id=f"obj-{n}"))
    return events


def ids(response) -> list[str]:
    return [event["id"] for event in response.json()["data"]]


def test_an_event_shows_its_object_actor_and_request(api, project, owner, issued_key):
    response = api.get("/api/v1/events/")
    assert response.status_code == 200
    [event] = Event.objects.filter(type="api_key.created")
    assert response.json() == {
        "data": [
            {
                "id": event.public_id,
                "type": "api_key.created",
                "created": iso(event.created),
                "data": {
                    "object": {
                        "id": str(issued_key.api_key.pk), "name": "test", "prefix": issued_key.api_key.display_prefix,
                        "user": "owner", "status": "active", "created_at": iso(issued_key.api_key.created_at),
                        "last_used_at": None, "expires_at": None, "revoked_at": None,
                    }
                },
                "actor": {"type": "user", "name": "owner"},
                "request_id": "",
            }
        ],
        "has_more": False,
    }  # fmt: skip
    assert api.get(f"/api/v1/events/{event.public_id}").json() == response.json()["data"][0]


def test_events_are_newest_first_and_filter_by_type_and_time(api, stream):
    assert ids(api.get("/api/v1/events/?limit=6")) == [e.public_id for e in reversed(stream)]
    sales = api.get("/api/v1/events/?type=sale.*&type=stock.low")
    assert [e["type"] for e in sales.json()["data"]] == [
        "stock.low",
        "sale.cancelled",
        "sale.confirmed",
        "sale.created",
    ]
    window = api.get("/api/v1/events/", {"created[gte]": iso(stream[1].created), "created[lt]": iso(stream[3].created)})
    assert ids(window) == [stream[2].public_id, stream[1].public_id]


def test_any_utc_offset_is_accepted(api, stream):
    response = api.get("/api/v1/events/", {"created[gte]": "2000-01-01T00:00:00+18:11"})
    assert response.status_code == 200 and len(response.json()["data"]) == 7


def test_cursor_pages_walk_both_ways_without_gaps(api, stream):
    newest_first = [e.public_id for e in reversed(stream)]
    first = api.get("/api/v1/events/?limit=4")
    assert ids(first) == newest_first[:4] and first.json()["has_more"] is True
    second = api.get(f"/api/v1/events/?limit=4&starting_after={newest_first[3]}")
    assert ids(second)[:2] == newest_first[4:6] and second.json()["has_more"] is False
    back = api.get(f"/api/v1/events/?limit=2&ending_before={newest_first[4]}")
    assert ids(back) == newest_first[2:4] and back.json()["has_more"] is True
    top = api.get(f"/api/v1/events/?limit=2&ending_before={newest_first[2]}")
    assert ids(top) == newest_first[0:2] and top.json()["has_more"] is False


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("limit=0", {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ("limit=101", {"limit": ["Ensure this value is less than or equal to 100."]}),
        (f"starting_after={MISSING_EVENT}", {"starting_after": ["No such event in this project."]}),
        ("starting_after=x&ending_before=y", {"non_field_errors": ["Send starting_after or ending_before, not both."]}),
        ("created[gte]=yesterday", {"created[gte]": [
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}),
        ("type=SALE", {"type": {"0": ["This value does not match the required pattern."]}}),
        ("created[lt]=9999-12-31T23:00:00-05:00", {"created[lt]": ["Datetime value out of range."]}),
    ],
)  # fmt: skip
def test_bad_queries_are_400s_naming_the_parameter(api, query, body):
    response = api.get(f"/api/v1/events/?{query}")
    assert (response.status_code, response.json()) == (400, body)


def test_another_projects_events_are_invisible(api, other_api, stream):
    assert_invisible(other_api, "GET", f"/api/v1/events/{stream[0].public_id}", f"/api/v1/events/{MISSING_EVENT}")
    assert api.get("/api/v1/events/not-an-id").status_code == 404
    assert ids(other_api.get("/api/v1/events/")) == [
        Event.objects.get(type="api_key.created", project__slug="beta").public_id
    ]
    cursor = other_api.get(f"/api/v1/events/?starting_after={stream[0].public_id}")
    assert cursor.status_code == 400


def test_listing_events_costs_the_same_queries_for_any_page_size(api, stream, django_assert_num_queries):
    api.get("/api/v1/events/")
    # Key lookup, rate counter upsert, the page, the request log row.
    with django_assert_num_queries(4):
        assert len(ids(api.get("/api/v1/events/?limit=1"))) == 1
    with django_assert_num_queries(4):
        assert len(ids(api.get("/api/v1/events/?limit=100"))) == 7


class TestWebhookEndpoints:
    def test_create_shows_the_secret_once(self, api, settings):
        settings.WEBHOOKS_ALLOW_PRIVATE_URLS = []
        response = api.post(
            "/api/v1/webhook-endpoints/",
            {"url": "https://hooks.example.com/in", "event_types": ["sale.*", "stock.low"], "description": "ERP"},
        )
        assert response.status_code == 201, response.json()
        endpoint = WebhookEndpoint.objects.get()
        body = response.json()
        assert body == {
            "id": endpoint.public_id, "url": "https://hooks.example.com/in", "event_types": ["sale.*", "stock.low"],
            "description": "ERP", "enabled": True, "disabled_reason": "", "created_at": iso(endpoint.created_at),
            "secret": endpoint.secret,
        }  # fmt: skip
        assert body["secret"].startswith("whsec_")
        listed = api.get("/api/v1/webhook-endpoints/").json()["results"]
        assert [set(e) for e in listed] == [set(body) - {"secret"}]
        assert "secret" not in api.get(f"/api/v1/webhook-endpoints/{endpoint.public_id}/").json()
        rotated = api.post(f"/api/v1/webhook-endpoints/{endpoint.public_id}/rotate-secret")
        assert rotated.status_code == 200 and rotated.json()["secret"] not in ("", body["secret"])

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("http://hooks.example.com/in", "Webhook URLs must use https."),
            ("https://10.1.2.3/in", "Webhook URLs may not point to private, loopback or link-local addresses."),
            ("https://[::1]/in", "Webhook URLs may not point to private, loopback or link-local addresses."),
            ("https://user:pw@hooks.example.com/", "Webhook URLs may not contain a user name or password."),
            ("ftp://hooks.example.com/", "Enter a valid http or https URL."),
        ],
    )
    def test_refused_urls_are_400s(self, api, settings, url, message):
        settings.WEBHOOKS_ALLOW_PRIVATE_URLS = []
        response = api.post("/api/v1/webhook-endpoints/", {"url": url, "event_types": ["*"]})
        assert (response.status_code, response.json()) == (400, {"url": [message]})
        assert not WebhookEndpoint.objects.exists()

    def test_an_endpoint_may_be_created_disabled(self, api):
        body = {"url": "https://hooks.example.com/in", "event_types": ["*"], "enabled": False}
        response = api.post("/api/v1/webhook-endpoints/", body)
        assert response.status_code == 201 and response.json()["enabled"] is False
        assert WebhookEndpoint.objects.get().enabled is False

    def test_update_disable_enable_and_delete(self, api, project):
        endpoint = endpoint_create(project=project, url="https://hooks.example.com/a", event_types=["*"])
        WebhookEndpoint.objects.update(enabled=False, disabled_reason="Disabled on ...")
        path = f"/api/v1/webhook-endpoints/{endpoint.public_id}/"
        response = api.patch(path, {"enabled": True, "event_types": ["lead.created"]})
        assert response.status_code == 200
        assert (response.json()["enabled"], response.json()["disabled_reason"]) == (True, "")
        assert response.json()["event_types"] == ["lead.created"]
        assert api.patch(path, {"event_types": []}).json() == {
            "event_types": ["Ensure this field has at least 1 elements."]
        }
        assert api.delete(path).status_code == 204
        assert not WebhookEndpoint.objects.exists()

    def test_ping_deliveries_and_resend(self, api, project, issued_key):
        endpoint = endpoint_create(project=project, url="https://hooks.example.com/a", event_types=["*"])
        base = f"/api/v1/webhook-endpoints/{endpoint.public_id}"
        ping = api.post(f"{base}/ping", HTTP_X_REQUEST_ID="req-42")
        assert ping.status_code == 202
        delivery = WebhookDelivery.objects.get()
        event = delivery.event
        assert (event.type, event.actor_type, event.actor, event.request_id) == (
            "ping",
            "api_key",
            issued_key.api_key.display_prefix,
            "req-42",
        )
        assert ping.json() == {
            "id": delivery.public_id, "event": event.public_id, "type": "ping", "status": "pending", "attempts": 0,
            "created_at": iso(delivery.created_at), "next_attempt_at": iso(delivery.next_attempt_at),
            "last_attempt_at": None, "last_status_code": None,
        }  # fmt: skip
        assert [d["id"] for d in api.get(f"{base}/deliveries").json()] == [delivery.public_id]
        WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, next_attempt_at=None, attempts=8)
        resent = api.post(f"{base}/deliveries/{delivery.public_id}/resend")
        assert (resent.status_code, resent.json()["status"], resent.json()["attempts"]) == (202, "pending", 0)
        WebhookEndpoint.objects.update(enabled=False)
        refused = api.post(f"{base}/ping")
        assert (refused.status_code, refused.json()) == (
            409,
            {"detail": "The endpoint is disabled: enable it to send a test event."},
        )

    def test_another_projects_endpoints_are_invisible(self, other_api, project):
        endpoint = endpoint_create(project=project, url="https://hooks.example.com/a", event_types=["*"])
        missing = "/api/v1/webhook-endpoints/we_" + "0" * 32 + "/"
        path = f"/api/v1/webhook-endpoints/{endpoint.public_id}/"
        assert_invisible(other_api, "GET", path, missing)
        assert_invisible(other_api, "PATCH", path, missing, data={"enabled": False})
        assert_invisible(other_api, "DELETE", path, missing)
        assert_invisible(other_api, "POST", path + "ping", missing + "ping")
        assert other_api.get("/api/v1/webhook-endpoints/").json()["results"] == []
        assert WebhookEndpoint.objects.get().enabled
