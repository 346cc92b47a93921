"""POST /track/lead: customer creation, the 7-day duplicate window, eventQuantity, click attribution."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tracking.models import Customer, LeadEvent
from tracking.services import lead_event_track

pytestmark = pytest.mark.django_db

SDK_DEFAULTS = {"mode": "async", "eventQuantity": None, "customerName": None, "customerEmail": None,
                "customerAvatar": None, "metadata": None}  # fmt: skip


def lead(client, **body):
    return client.post("/track/lead", {**SDK_DEFAULTS, **body}, format="json")


def test_a_lead_creates_the_customer_and_answers_in_the_documented_shape(api, project):
    response = lead(api, clickId="clk_1", eventName="Sign up", customerExternalId="u1", customerName="Ann",
                    customerEmail="ann@example.com", customerAvatar="https://img.example.com/ann.png",
                    metadata={"source": "ad"})  # fmt: skip

    assert response.status_code == 200, response.content
    assert response.json() == {
        "click": {"id": "clk_1"},
        "link": None,
        "customer": {"name": "Ann", "email": "ann@example.com", "avatar": "https://img.example.com/ann.png",
                     "externalId": "u1"},
    }  # fmt: skip
    customer = Customer.objects.get(project=project, external_id="u1")
    assert customer.click_id == "clk_1"
    event = LeadEvent.objects.get()
    assert (event.customer, event.event_name, event.click_id, event.metadata) == (
        customer, "Sign up", "clk_1", {"source": "ad"}
    )  # fmt: skip


def test_trailing_slash_and_older_alias_work(api):
    response = api.post("/track/lead/", {"clickId": "c", "eventName": "Sign up", "externalId": "u1"}, format="json")
    assert response.status_code == 200
    assert response.json()["customer"]["externalId"] == "u1"


def test_same_customer_and_event_within_7_days_is_recorded_once(api):
    first = lead(api, clickId="clk", eventName="Sign up", customerExternalId="u1")
    again = lead(api, clickId="clk", eventName="Sign up", customerExternalId="u1")
    other = lead(api, clickId="clk", eventName="Trial", customerExternalId="u1")

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    assert again.json() == first.json()
    assert sorted(LeadEvent.objects.values_list("event_name", flat=True)) == ["Sign up", "Trial"]


def test_after_7_days_the_same_event_is_recorded_again(api):
    lead(api, clickId="clk", eventName="Sign up", customerExternalId="u1")
    LeadEvent.objects.update(created_at=timezone.now() - timedelta(days=7, seconds=1))

    lead(api, clickId="clk", eventName="Sign up", customerExternalId="u1")

    assert LeadEvent.objects.count() == 2


def test_event_quantity_records_that_many_events(api):
    response = lead(api, clickId="clk", eventName="Seat added", customerExternalId="u1", eventQuantity=3)

    assert response.status_code == 200
    assert LeadEvent.objects.filter(event_name="Seat added").count() == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"eventQuantity": 0}, "eventQuantity: Ensure this value is greater than or equal to 1."),
        ({"eventQuantity": 101}, "eventQuantity: Ensure this value is less than or equal to 100."),
        ({"eventName": ""}, "eventName: This field may not be blank."),
        ({"eventName": None}, "eventName: This field is required."),
        ({"mode": "later"}, 'mode: "later" is not a valid choice.'),
        ({"metadata": {"k": "v" * 9995}}, "metadata: must be at most 10,000 characters as JSON; this one is 10,003."),
    ],
)
def test_lead_limits_are_422_naming_the_field(api, body, message):
    response = lead(api, **{"clickId": "clk", "eventName": "Sign up", "customerExternalId": "u1", **body})

    assert response.status_code == 422
    assert response.json()["error"]["message"] == message
    assert (Customer.objects.count(), LeadEvent.objects.count()) == (0, 0)


def test_without_click_id_a_known_customer_keeps_its_click(api):
    lead(api, clickId="clk_1", eventName="Sign up", customerExternalId="u1")

    response = lead(api, clickId=None, eventName="Trial", customerExternalId="u1")

    assert response.status_code == 200
    assert response.json()["click"] == {"id": "clk_1"}
    assert LeadEvent.objects.get(event_name="Trial").click_id == "clk_1"


def test_without_click_id_and_without_a_known_customer_with_one_is_a_400(api, project):
    Customer.objects.create(project=project, external_id="no-click", name="N")

    unknown = lead(api, clickId=None, eventName="Sign up", customerExternalId="new")
    clickless = lead(api, clickId="", eventName="Sign up", customerExternalId="no-click")

    for response, external_id in [(unknown, "new"), (clickless, "no-click")]:
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "bad_request",
            "message": f"clickId: required, because customer '{external_id}' has no click to attribute to.",
            "doc_url": "http://testserver/docs/errors/bad_request",
        }
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["no-click"]
    assert LeadEvent.objects.count() == 0


def test_a_new_click_moves_the_customers_attribution(api):
    lead(api, clickId="clk_1", eventName="Sign up", customerExternalId="u1")
    lead(api, clickId="clk_2", eventName="Trial", customerExternalId="u1")

    assert Customer.objects.get().click_id == "clk_2"
    assert LeadEvent.objects.get(event_name="Trial").click_id == "clk_2"


def test_a_lead_without_any_customer_id_is_a_400(api):
    response = lead(api, clickId="clk", eventName="Sign up", customerExternalId=None)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert LeadEvent.objects.count() == 0


def test_a_lead_costs_the_same_few_queries_whatever_its_quantity(project, django_assert_num_queries):
    lead_args = {"project": project, "event_name": "Seat added", "click_id": "clk"}
    # Savepoint, customer lookup, insert, lookup again, row lock, duplicate check, one insert, the
    # lead.created events' insert, release.
    with django_assert_num_queries(9):
        lead_event_track(customer_external_id="a", event_quantity=1, **lead_args)
    with django_assert_num_queries(9):
        lead_event_track(customer_external_id="b", event_quantity=100, **lead_args)
    # A duplicate: savepoint, lookup, row lock, duplicate check, release.
    with django_assert_num_queries(5):
        lead_event_track(customer_external_id="b", **lead_args)
    assert LeadEvent.objects.count() == 101
