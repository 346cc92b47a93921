"""Real races on PostgreSQL: the database decides, not the application."""

import pytest

from tests.concurrency import race
from tests.helpers import keyed_client
from tracking.models import Customer, LeadEvent, SaleEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_requests_with_the_same_invoice_record_one_sale_and_get_the_same_body(project, issued_key):
    def sell(invoice):
        body = {"customerExternalId": "racer", "amount": 1999, "invoiceId": invoice, "customerName": "Racer"}
        return lambda index: keyed_client(project, issued_key).post("/track/sale", body, format="json")

    for attempt in range(5):
        invoice = f"inv_race_{attempt}"
        responses = race(4, sell(invoice))
        assert [response.status_code for response in responses] == [200] * 4, responses
        assert all(response.json() == responses[0].json() for response in responses)
        assert SaleEvent.objects.filter(invoice_id=invoice).count() == 1
    assert Customer.objects.filter(external_id="racer").count() == 1
    assert SaleEvent.objects.count() == 5


def test_racing_duplicate_leads_record_one(project, issued_key):
    def work(index):
        body = {"clickId": "clk", "eventName": "Sign up", "customerExternalId": "lead-racer"}
        return keyed_client(project, issued_key).post("/track/lead", body, format="json").status_code

    assert race(4, work) == [200, 200, 200, 200]
    assert LeadEvent.objects.count() == 1
    assert Customer.objects.count() == 1
