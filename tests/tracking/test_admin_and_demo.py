"""Admin of customers, events and exchange rates; the demo data."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracking.demo import DEMO_CUSTOMERS, seed
from tracking.models import Customer, ExchangeRate, LeadEvent, SaleEvent
from tracking.services import lead_event_track, sale_event_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracked(project):
    lead_event_track(project=project, event_name="Sign up", customer_external_id="ann", click_id="clk")
    sale_event_track(project=project, customer_external_id="ann", amount=1999, invoice_id="in_1")
    return Customer.objects.get(external_id="ann")


def test_customer_page_shows_its_events_and_edits_only_contact_fields(staff_client, tracked):
    page = staff_client.get(f"/admin/tracking/customer/{tracked.pk}/change/")
    assert page.status_code == 200
    assert b"Sign up" in page.content and b"in_1" in page.content

    response = staff_client.post(
        f"/admin/tracking/customer/{tracked.pk}/change/",
        {"name": "Ann Fixed", "email": "ann@example.com", "phone": "+358 40 1", "avatar": "",
         "lead_events-TOTAL_FORMS": "1", "lead_events-INITIAL_FORMS": "1", "lead_events-MIN_NUM_FORMS": "0",
         "lead_events-MAX_NUM_FORMS": "0", "sale_events-TOTAL_FORMS": "1", "sale_events-INITIAL_FORMS": "1",
         "sale_events-MIN_NUM_FORMS": "0", "sale_events-MAX_NUM_FORMS": "0"},
    )  # fmt: skip

    assert response.status_code == 302, response.content
    tracked.refresh_from_db()
    assert (tracked.name, tracked.email, tracked.phone, tracked.external_id) == (
        "Ann Fixed", "ann@example.com", "+358 40 1", "ann"
    )  # fmt: skip
    assert staff_client.get("/admin/tracking/customer/add/").status_code == 403


def test_events_are_read_only_with_filters(staff_client, tracked):
    sale = SaleEvent.objects.get()
    assert staff_client.get("/admin/tracking/saleevent/?payment_processor__exact=custom").status_code == 200
    assert staff_client.get("/admin/tracking/leadevent/?event_name=Sign+up").status_code == 200
    assert staff_client.get("/admin/tracking/saleevent/add/").status_code == 403
    staff_client.post(f"/admin/tracking/saleevent/{sale.pk}/change/", {"amount": "1"})
    staff_client.post(f"/admin/tracking/saleevent/{sale.pk}/delete/", {"post": "yes"})
    sale.refresh_from_db()
    assert sale.amount == 1999


def test_exchange_rates_are_editable_with_iso_codes(staff_client):
    added = staff_client.post("/admin/tracking/exchangerate/add/", {"currency": "eur", "rate": "0.92",
                                                                   "effective_date": "2026-01-01"})  # fmt: skip
    refused = staff_client.post("/admin/tracking/exchangerate/add/", {"currency": "xyz", "rate": "1",
                                                                     "effective_date": "2026-01-01"})  # fmt: skip

    assert added.status_code == 302
    assert list(ExchangeRate.objects.values_list("currency", "rate")) == [("EUR", Decimal("0.92"))]
    assert refused.status_code == 200
    assert b"is not an ISO 4217 currency code" in refused.content


def test_demo_data_is_created_once(project):
    first, second = io.StringIO(), io.StringIO()
    seed(project=project, stdout=first)
    counts = (Customer.objects.count(), LeadEvent.objects.count(), SaleEvent.objects.count())
    seed(project=project, stdout=second)

    assert counts == (3, 4, 3)
    assert (Customer.objects.count(), LeadEvent.objects.count(), SaleEvent.objects.count()) == counts
    assert second.getvalue() == f"  conversions: 0 customers created, {len(DEMO_CUSTOMERS)} already there"
    assert SaleEvent.objects.get(invoice_id="demo-inv-3").amount == 2861  # 299.00 SEK / 10.45


def test_seed_demo_includes_conversions():
    call_command("seed_demo", stdout=io.StringIO())
    assert Customer.objects.filter(project__slug="demo", external_id__startswith="demo-").count() == 3


def test_a_customers_page_costs_the_same_queries_whatever_its_number_of_events(staff_client, project):
    def customer_with(count):
        external_id = f"buyer-{count}"
        lead_event_track(project=project, event_name="Sign up", customer_external_id=external_id, click_id="clk")
        for n in range(count):
            sale_event_track(project=project, customer_external_id=external_id, amount=100, invoice_id=f"{count}-{n}")
        return Customer.objects.get(external_id=external_id)

    def queries(customer):
        with CaptureQueriesContext(connection) as captured:
            page = staff_client.get(f"/admin/tracking/customer/{customer.pk}/change/")
        assert page.status_code == 200
        return len(captured)

    one, many = customer_with(1), customer_with(10)
    assert SaleEvent.objects.filter(customer=many, lead_event__isnull=False).count() == 10, "each shows its lead"
    assert queries(many) == queries(one)
