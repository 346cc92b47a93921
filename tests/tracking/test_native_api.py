"""Native read API: /api/v1/customers/ with totals and /api/v1/conversions/ (lead and sale events)."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tenancy import assert_invisible, missing_id
from tracking.api.native import ConversionSerializer, conversion_data
from tracking.models import Customer, LeadEvent, SaleEvent
from tracking.services import lead_event_track, sale_event_track

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def history(project, rates):
    """Ann: a sign-up lead and two sales (one in EUR); Bob: one lead; stamped an hour apart from T0."""
    lead_event_track(project=project, event_name="Sign up", customer_external_id="ann", click_id="clk_a",
                     customer_email="ann@example.com")  # fmt: skip
    sale_event_track(project=project, customer_external_id="ann", amount=1999, invoice_id="in_1")
    sale_event_track(project=project, customer_external_id="ann", amount=460, currency="eur",
                     payment_processor="stripe", invoice_id="in_2")  # fmt: skip
    lead_event_track(project=project, event_name="Trial", customer_external_id="bob", click_id="clk_b")
    events = [*LeadEvent.objects.all(), *SaleEvent.objects.all()]
    for hour, event in enumerate(sorted(events, key=lambda event: event.created_at)):
        type(event).objects.filter(pk=event.pk).update(created_at=T0 + timedelta(hours=hour))
    return {customer.external_id: customer for customer in Customer.objects.all()}


def test_customers_list_with_counts_and_usd_revenue(api, history):
    response = api.get("/api/v1/customers/")

    assert response.status_code == 200
    rows = {row["external_id"]: row for row in response.json()["results"]}
    ann = history["ann"]
    assert rows["ann"] == {
        "id": str(ann.pk), "public_id": ann.public_id, "external_id": "ann", "name": "ann@example.com",
        "email": "ann@example.com", "phone": "", "avatar": "", "click_id": "clk_a",
        "created_at": ann.created_at.isoformat().replace("+00:00", "Z"),
        "lead_count": 1, "sale_count": 2, "revenue_usd": 24.99,
    }  # fmt: skip
    assert (rows["bob"]["lead_count"], rows["bob"]["sale_count"], rows["bob"]["revenue_usd"]) == (1, 0, 0)


def test_customers_filter_by_external_id_and_email(api, history):
    by_id = api.get("/api/v1/customers", {"external_id": "bob"}).json()
    by_email = api.get("/api/v1/customers/", {"email": "ANN@example.com"}).json()
    assert [row["external_id"] for row in by_id["results"]] == ["bob"]
    assert [row["external_id"] for row in by_email["results"]] == ["ann"]


def test_customer_list_is_two_queries_whatever_the_number_of_customers(api, project):
    def customer_queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/customers/").status_code == 200
        return [query["sql"] for query in captured if "tracking_" in query["sql"]]

    Customer.objects.create(project=project, external_id="one", name="One")
    assert len(customer_queries()) == 2  # the count and the page, counts and revenue as subqueries
    for n in range(20):
        customer = Customer.objects.create(project=project, external_id=f"c{n}", name=f"C{n}")
        SaleEvent.objects.create(project=project, customer=customer, event_name="Purchase", amount=n,
                                 original_amount=n, original_currency="usd", payment_processor="custom")  # fmt: skip
        LeadEvent.objects.create(project=project, customer=customer, event_name="Sign up")
    assert len(customer_queries()) == 2


def test_conversion_list_is_two_queries(api, history):
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/conversions/").json()["count"] == 4
    assert len([query for query in captured if "tracking_" in query["sql"]]) == 2


def test_customer_detail_and_tenant_isolation(api, other_api, history):
    ann = history["ann"]
    assert api.get(f"/api/v1/customers/{ann.pk}").json()["sale_count"] == 2
    assert_invisible(other_api, "get", f"/api/v1/customers/{ann.pk}/", f"/api/v1/customers/{missing_id()}/")
    assert api.post("/api/v1/customers/", {"name": "x"}, format="json").status_code == 405


def test_the_same_external_id_in_another_project_stays_separate(api, other_api, other_project, history):
    sale_event_track(project=other_project, customer_external_id="ann", amount=5)

    mine = api.get("/api/v1/customers/", {"external_id": "ann"}).json()["results"]
    theirs = other_api.get("/api/v1/customers/", {"external_id": "ann"}).json()["results"]

    assert [(row["sale_count"], row["revenue_usd"]) for row in mine] == [(2, 24.99)]
    assert [(row["sale_count"], row["revenue_usd"]) for row in theirs] == [(1, 0.05)]
    assert theirs[0]["id"] != mine[0]["id"]
    assert other_api.get("/api/v1/conversions/", {"customer_external_id": "ann"}).json()["count"] == 1


def test_conversions_list_leads_and_sales_newest_first(api, history):
    response = api.get("/api/v1/conversions/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [(row["type"], row["event_name"], row["customer_external_id"]) for row in body["results"]] == [
        ("lead", "Trial", "bob"),
        ("sale", "Purchase", "ann"),
        ("sale", "Purchase", "ann"),
        ("lead", "Sign up", "ann"),
    ]
    eur_sale = body["results"][1]
    signup = body["results"][3]
    assert eur_sale == {
        "id": eur_sale["id"], "type": "sale", "customer": str(history["ann"].pk), "customer_external_id": "ann",
        "event_name": "Purchase", "click_id": "clk_a", "amount_usd": 5.0, "original_amount": 4.6,
        "original_currency": "eur", "payment_processor": "stripe", "invoice_id": "in_2",
        "lead_event": signup["id"], "metadata": {}, "created_at": "2026-03-01T14:00:00Z",
    }  # fmt: skip
    assert signup["amount_usd"] is None and signup["payment_processor"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "lead"}, ["Trial", "Sign up"]),
        ({"type": "sale", "payment_processor": "stripe"}, ["Purchase"]),
        ({"payment_processor": "custom"}, ["Purchase"]),
        ({"event_name": "Trial"}, ["Trial"]),
        ({"customer_external_id": "ann", "type": "lead"}, ["Sign up"]),
        ({"since": "2026-03-01T13:00:00Z", "until": "2026-03-01T15:00:00Z"}, ["Purchase", "Purchase"]),
        ({"until": "2026-03-01"}, []),
    ],
)
def test_conversions_filters(api, history, params, expected):
    response = api.get("/api/v1/conversions/", params)
    assert response.status_code == 200
    assert [row["event_name"] for row in response.json()["results"]] == expected


def test_conversions_filter_by_customer_id(api, history):
    rows = api.get("/api/v1/conversions/", {"customer": str(history["bob"].pk)}).json()["results"]
    assert [row["event_name"] for row in rows] == ["Trial"]


def test_a_bad_filter_value_is_a_400_naming_it(api, history):
    response = api.get("/api/v1/conversions/", {"customer": "nope", "type": "click"})
    assert response.status_code == 400
    assert set(response.json()) == {"customer", "type"}


def test_conversion_detail_and_tenant_isolation(api, other_api, history):
    sale = SaleEvent.objects.get(invoice_id="in_1")
    assert api.get(f"/api/v1/conversions/{sale.pk}/").json()["invoice_id"] == "in_1"
    lead = LeadEvent.objects.get(event_name="Trial")
    assert api.get(f"/api/v1/conversions/{lead.pk}").json()["type"] == "lead"
    assert_invisible(other_api, "get", f"/api/v1/conversions/{sale.pk}/", f"/api/v1/conversions/{missing_id()}/")
    assert other_api.get("/api/v1/conversions/").json()["count"] == 0


@pytest.mark.parametrize("path", ["/api/v1/conversions/", "/api/v1/customers/"])
def test_an_id_that_is_not_a_uuid_is_a_404(api, path):
    response = api.get(path + "0" * 36 + "/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_conversion_events_are_built_as_the_conversions_serializer_writes_them():
    """The events of tracked leads and sales build their objects directly (`conversion_data`): what
    `ConversionSerializer` writes of the same rows, a lead's nulls, a pending sale in a currency of three
    decimals, a time with a fraction of a second and another zone, whatever strings and metadata."""
    lead = {
        "id": uuid.uuid4(), "kind": "lead", "customer_id": uuid.uuid4(), "customer_external_id": None,
        "event_name": "Sign up", "click_id": "", "amount": None, "original_amount": None, "original_currency": None,
        "payment_processor": None, "invoice_id": None, "lead_event_id": None, "metadata": {},
        "created_at": datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC),
    }  # fmt: skip
    sale = {
        **lead, "kind": "sale", "customer_external_id": "ann \u00e9", "click_id": "clk", "amount": 123457,
        "original_amount": 1234567, "original_currency": "kwd", "payment_processor": "stripe", "invoice_id": "in_1",
        "lead_event_id": uuid.uuid4(), "metadata": {"plan": ["a", 1, None]},
        "created_at": datetime(999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
    }  # fmt: skip
    for row in (lead, sale, {**sale, "amount": None}, {**sale, "amount": 0, "original_amount": 0}):
        assert conversion_data(row) == ConversionSerializer(row).data
