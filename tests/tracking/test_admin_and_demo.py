"""Admin of customers, events and exchange rates; the demo data."""

import io
from datetime import date
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


def add_rate(staff_client, currency, rate, day="2026-01-01"):
    return staff_client.post("/admin/tracking/exchangerate/add/",
                             {"currency": currency, "rate": rate, "effective_date": day})  # fmt: skip


@pytest.mark.usefixtures("no_rates")
def test_exchange_rates_are_editable_with_iso_codes_and_errors_in_words(staff_client):
    added = add_rate(staff_client, "eur", "0.92")
    refusals = [add_rate(staff_client, *wrong) for wrong in [("xyz", "1"), ("EUR", "0", "2026-02-01"), ("EUR", "0.93")]]

    assert added.status_code == 302
    assert list(ExchangeRate.objects.values_list("currency", "rate")) == [("EUR", Decimal("0.92"))]
    assert [(r.status_code, r.context["errors"]) for r in refusals] == [
        (200, [["'xyz' is not an ISO 4217 currency code."]]),
        (200, [["The rate must be between 0.00000001 and 100000000."]]),
        (200, [["There is already a rate for this currency on this date: edit that one."]]),
    ]


def test_exchange_rates_show_at_most_six_decimals_and_edit_without_trailing_zeros(staff_client):
    reference = ExchangeRate.objects.get(currency="EUR", effective_date="2026-10-30")
    round_rate = ExchangeRate.objects.create(currency="GBP", rate=Decimal("0.75"), effective_date="2030-01-01")
    euros = staff_client.get("/admin/tracking/exchangerate/?currency__exact=EUR").content.decode()
    pounds = staff_client.get("/admin/tracking/exchangerate/?currency__exact=GBP").content.decode()
    form = staff_client.get(f"/admin/tracking/exchangerate/{round_rate.pk}/change/").content.decode()

    assert reference.rate == Decimal("0.8950948801")  # 1 / 1.1172, the ECB's USD rate of that day
    assert '<td class="field-rate_shown">0.895095</td>' in euros
    assert '<td class="field-rate_shown">0.75</td>' in pounds
    assert 'name="rate" value="0.75"' in form


@pytest.mark.usefixtures("no_rates")
def test_a_rate_added_in_the_admin_converts_the_pending_sales_of_its_currency(staff_client, project):
    sale_event_track(project=project, customer_external_id="ann", amount=1000, currency="gbp")

    add_rate(staff_client, "GBP", "0.8", "2020-01-01")

    assert SaleEvent.objects.values_list("amount", "exchange_rate", "exchange_rate_date").get() == (
        1250, Decimal("0.8"), date(2020, 1, 1)
    )  # fmt: skip


def test_demo_data_is_created_once(project):
    first, second = io.StringIO(), io.StringIO()
    seed(project=project, stdout=first)
    counts = (Customer.objects.count(), LeadEvent.objects.count(), SaleEvent.objects.count())
    seed(project=project, stdout=second)

    assert counts == (3, 4, 3)
    assert (Customer.objects.count(), LeadEvent.objects.count(), SaleEvent.objects.count()) == counts
    assert second.getvalue() == f"  conversions: 0 customers created, {len(DEMO_CUSTOMERS)} already there"
    # 299.00 SEK at the latest shipped reference rate: 299 / (10.978 / 1.1172) = 30.43 USD
    assert SaleEvent.objects.get(invoice_id="demo-inv-3").amount == 3043


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
