"""POST /track/sale as the official clients call it: fields, limits, conversion, invoice replay."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection

from events.models import Event
from tracking import services
from tracking.models import Customer, LeadEvent, SaleEvent
from tracking.services import sale_event_track

pytestmark = pytest.mark.django_db

# What a client generated from the API's OpenAPI sends: every optional field, nulls for unset ones.
SDK_DEFAULTS = {
    "currency": "usd", "eventName": "Purchase", "paymentProcessor": "custom", "invoiceId": None, "metadata": None,
    "leadEventName": None, "clickId": None, "customerName": None, "customerEmail": None, "customerAvatar": None,
}  # fmt: skip


def post(client, path, body):
    return client.post(path, body, format="json")


def test_the_seed_example_records_nothing_for_amount_zero(api):
    response = post(api, "/track/sale", {"amount": 0, "customerExternalId": "x"})

    assert response.status_code == 200
    assert response.json() == {
        "eventName": "Purchase", "customerId": None, "amount": 0, "paymentProcessor": "custom", "invoiceId": None,
        "currency": "usd", "metadata": {}, "customer": None, "sale": None, "conversion": None,
    }  # fmt: skip
    assert (Customer.objects.count(), SaleEvent.objects.count()) == (0, 0)


def test_a_usd_sale_creates_the_customer_and_answers_both_generations_of_fields(api, project):
    body = {
        **SDK_DEFAULTS,
        "customerExternalId": "user-1",
        "amount": 1999,
        "customerName": "Ann Example",
        "customerEmail": "ann@example.com",
        "invoiceId": "in_1",
        "metadata": {"plan": "pro"},
        "clickId": "clk_1",
    }

    response = post(api, "/track/sale/", body)

    assert response.status_code == 200, response.content
    customer = Customer.objects.get(project=project, external_id="user-1")
    sale = {"amount": 1999, "currency": "usd", "paymentProcessor": "custom", "invoiceId": "in_1",
            "metadata": {"plan": "pro"}}  # fmt: skip
    assert response.json() == {
        "eventName": "Purchase", "customerId": customer.public_id, **sale,
        "customer": {"id": customer.public_id, "name": "Ann Example", "email": "ann@example.com", "avatar": None,
                     "externalId": "user-1"},
        "sale": sale,
        "conversion": {"status": "converted", "originalAmount": 1999, "originalCurrency": "usd", "rate": 1.0,
                       "rateDate": None},
    }  # fmt: skip
    assert customer.click_id == "clk_1"
    event = SaleEvent.objects.get()
    assert (event.amount, event.original_amount, event.original_currency) == (1999, 1999, "usd")
    # Direct sale tracking with a click records the lead the sale follows.
    assert event.lead_event == LeadEvent.objects.get(customer=customer, event_name="Sign up", click_id="clk_1")


def test_older_aliases_of_the_customer_id_are_accepted(api):
    assert post(api, "/track/sale", {"externalId": "old-1", "amount": 5}).status_code == 200
    assert post(api, "/track/sale", {"customerId": "old-2", "amount": 5}).status_code == 200
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["old-1", "old-2"]


def test_no_customer_id_at_all_is_a_400(api):
    response = post(api, "/track/sale", {**SDK_DEFAULTS, "amount": 5, "customerExternalId": None})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert response.json()["error"]["message"].startswith("customerExternalId: required")


def test_customer_without_name_is_named_by_email_else_randomly(api):
    post(api, "/track/sale", {"customerExternalId": "e", "amount": 1, "customerEmail": "e@example.com"})
    post(api, "/track/sale", {"customerExternalId": "r", "amount": 1})

    assert Customer.objects.get(external_id="e").name == "e@example.com"
    assert len(Customer.objects.get(external_id="r").name.split(" ")) == 3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customerName", "n" * 101, "customerName: Ensure this field has no more than 100 characters."),
        ("customerEmail", "not-an-email", "customerEmail: Enter a valid email address."),
        ("customerEmail", "a" * 89 + "@example.com",
         "customerEmail: Ensure this field has no more than 100 characters."),
        ("metadata", {"note": "x" * 9990}, "metadata: must be at most 10,000 characters as JSON; this one is 10,001."),
        ("metadata", {"note": "a\u0000b"}, "metadata: must not contain the NUL character (\\u0000)."),
        ("metadata", ["not", "an", "object"], 'metadata: Expected a dictionary of items but got type "list".'),
        ("amount", -1, "amount: Ensure this value is greater than or equal to 0."),
        ("amount", 1.5, "amount: A valid integer is required."),
        ("amount", "100", "amount: A valid integer is required."),
        ("amount", None, "amount: This field is required."),
        ("paymentProcessor", "paypal", 'paymentProcessor: "paypal" is not a valid choice.'),
        ("currency", "xyz", "currency: 'xyz' is not an ISO 4217 currency code."),
        ("eventName", "e" * 256, "eventName: Ensure this field has no more than 255 characters."),
        ("customerExternalId", "c" * 101, "customerExternalId: Ensure this field has no more than 100 characters."),
        ("customerExternalId", "", "customerExternalId: This field may not be blank."),
    ],
)  # fmt: skip
def test_each_field_limit_is_a_422_naming_the_field(api, field, value, message):
    response = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 100, field: value})

    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "unprocessable_entity", "message": message,
                  "doc_url": "http://testserver/docs/errors/unprocessable_entity"}
    }  # fmt: skip
    assert (Customer.objects.count(), SaleEvent.objects.count()) == (0, 0)


def test_metadata_of_exactly_10000_characters_is_accepted(api):
    metadata = {"note": "x" * 9989}
    assert len(json.dumps(metadata, separators=(",", ":"))) == 10_000
    assert post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1, "metadata": metadata}).status_code == 200


@pytest.mark.parametrize("processor", ["stripe", "shopify", "polar", "paddle", "revenuecat", "custom", "manual",
                                       "apple", "dub", "lemonsqueezy"])  # fmt: skip
def test_every_processor_clients_send_is_accepted(api, processor):
    response = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1, "paymentProcessor": processor})
    assert response.status_code == 200
    assert response.json()["paymentProcessor"] == processor


def test_eur_and_jpy_are_converted_to_usd_cents_at_the_latest_rate(api, rates):
    eur = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1999, "currency": "EUR"})
    jpy = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1437, "currency": "jpy"})

    # 19.99 EUR / 0.92 = 21.728... USD -> 2173 cents; 1437 JPY / 151.37 = 9.4933... USD -> 949 cents.
    assert (eur.json()["amount"], eur.json()["currency"]) == (2173, "usd")
    assert (jpy.json()["amount"], jpy.json()["sale"]["amount"]) == (949, 949)
    stored = SaleEvent.objects.order_by("original_currency")
    assert [(s.original_amount, s.original_currency, s.amount) for s in stored] == [
        (1999, "eur", 2173),
        (1437, "jpy", 949),
    ]


def test_conversion_rounds_half_up(api, rates):
    # 0.46 EUR / 0.92 = 0.50 USD exactly; 0.23 EUR / 0.92 = 0.25; 1 JPY / 151.37 = 0.0066 -> 1 cent.
    amounts = [post(api, "/track/sale", {"customerExternalId": "c", "amount": a, "currency": c}).json()["amount"]
               for a, c in [(46, "eur"), (23, "eur"), (1, "jpy")]]  # fmt: skip
    assert amounts == [50, 25, 1]


def test_a_currency_without_a_rate_is_recorded_pending_and_converted_when_a_rate_is_loaded(api, rates):
    response = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1000, "currency": "gbp",
                                         "invoiceId": "in_gbp"})  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["currency"], body["sale"]["amount"], body["sale"]["currency"]) == (
        1000, "gbp", 1000, "gbp"
    )  # fmt: skip
    assert body["conversion"] == {"status": "pending", "originalAmount": 1000, "originalCurrency": "gbp",
                                  "rate": None, "rateDate": None}  # fmt: skip
    event = SaleEvent.objects.get()
    assert (event.amount, event.original_amount, event.original_currency) == (None, 1000, "gbp")

    loaded = services.exchange_rates_load(rows=[("GBP", Decimal("0.8"), date(2026, 1, 1)),
                                                ("GBP", Decimal("0.5"), date(2025, 1, 1))])  # fmt: skip

    assert (loaded.rates, loaded.converted) == (2, 1)
    event.refresh_from_db()
    assert (event.amount, event.exchange_rate, event.exchange_rate_date) == (1250, Decimal("0.8"), date(2026, 1, 1))
    replay = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1000, "currency": "gbp",
                                       "invoiceId": "in_gbp"}).json()  # fmt: skip
    assert (replay["amount"], replay["currency"], replay["conversion"]["status"]) == (1250, "usd", "converted")


def test_a_pending_sale_older_than_every_rate_converts_at_the_first_one(project, no_rates):
    event = sale_event_track(project=project, customer_external_id="c", amount=1000, currency="aed")
    SaleEvent.objects.filter(pk=event.pk).update(created_at=datetime(2020, 5, 1, tzinfo=UTC))

    services.exchange_rates_load(
        rows=[("AED", Decimal("4"), date(2024, 1, 1)), ("AED", Decimal("2"), date(2025, 1, 1))]
    )

    event.refresh_from_db()
    assert (event.amount, event.exchange_rate_date) == (250, date(2024, 1, 1))


def test_only_non_iso_currencies_are_refused(api, no_rates):
    response = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 100, "currency": "xyz"})

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "currency: 'xyz' is not an ISO 4217 currency code."
    assert (Customer.objects.count(), SaleEvent.objects.count()) == (0, 0)


def test_the_same_invoice_again_replays_the_first_response_and_records_nothing(api, rates):
    first = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 1999, "currency": "eur", "invoiceId": "i"})
    again = post(api, "/track/sale", {"customerExternalId": "c2", "amount": 5, "invoiceId": "i", "eventName": "Other"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert SaleEvent.objects.count() == 1
    assert not Customer.objects.filter(external_id="c2").exists()


def test_without_invoice_id_each_call_is_a_sale(api):
    for _ in range(2):
        post(api, "/track/sale", {"customerExternalId": "c1", "amount": 10})
    assert SaleEvent.objects.count() == 2


def test_the_sale_links_to_the_latest_lead_or_the_named_one(api, project):
    customer = Customer.objects.create(project=project, external_id="c1", name="C", click_id="clk")
    signup = LeadEvent.objects.create(project=project, customer=customer, event_name="Sign up")
    trial = LeadEvent.objects.create(project=project, customer=customer, event_name="Trial")

    post(api, "/track/sale", {"customerExternalId": "c1", "amount": 10, "invoiceId": "latest"})
    post(
        api, "/track/sale", {"customerExternalId": "c1", "amount": 10, "invoiceId": "named", "leadEventName": "Sign up"}
    )

    assert SaleEvent.objects.get(invoice_id="latest").lead_event == trial
    assert SaleEvent.objects.get(invoice_id="named").lead_event == signup


def test_an_unknown_lead_event_name_is_a_404_and_records_nothing(api, project):
    Customer.objects.create(project=project, external_id="c1", name="C", click_id="clk")

    response = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 10, "leadEventName": "Nope"})

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "leadEventName: customer 'c1' has no lead event named 'Nope'.",
        "doc_url": "http://testserver/docs/errors/not_found",
    }
    assert SaleEvent.objects.count() == 0


def test_a_sale_costs_the_same_few_queries_every_time(project, rates, django_assert_num_queries):
    sale = {"project": project, "amount": 1999, "currency": "eur", "click_id": "k"}
    # The sale and its events: one statement on PostgreSQL, two on SQLite.
    together = 1 if connection.vendor == "postgresql" else 2
    # Rate, customer (with its latest lead) lookup, insert, lookup again, lead, then the sale with its events
    # (lead.created and conversion.created) for a new customer with a click (direct sale tracking); no savepoint.
    with django_assert_num_queries(5 + together):
        sale_event_track(customer_external_id="new", invoice_id="q1", **sale)
    # Known customer: rate, the customer with its latest lead, then the sale with its event.
    with django_assert_num_queries(2 + together):
        sale_event_track(customer_external_id="new", invoice_id="q2", **sale)
    # Replay: rate, the customer with its latest lead, the sale's insert (which inserts nothing, nor any event), the
    # invoice's sale.
    with django_assert_num_queries(4):
        sale_event_track(customer_external_id="new", invoice_id="q1", **sale)


def test_a_replay_naming_a_new_customer_takes_back_the_customer_and_its_lead(api, project):
    first = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 10, "invoiceId": "late"}).json()

    # The unique invoice id refuses the second sale (a replay, or the loser of a race: the same path).
    again = post(api, "/track/sale", {"customerExternalId": "c9", "clickId": "clk", "amount": 99, "invoiceId": "late"})

    assert again.status_code == 200
    assert again.json() == first
    assert SaleEvent.objects.count() == 1
    assert not Customer.objects.filter(external_id="c9").exists()
    assert not LeadEvent.objects.exists()
    assert list(Event.objects.filter(type__in=["lead.created", "conversion.created"]).values_list("type")) == [
        ("conversion.created",)
    ]


def test_a_replay_naming_an_unknown_lead_event_still_replays(api, project):
    first = post(api, "/track/sale", {"customerExternalId": "c1", "amount": 10, "invoiceId": "inv"}).json()

    body = {"customerExternalId": "c1", "amount": 10, "invoiceId": "inv", "leadEventName": "Nope"}
    again = post(api, "/track/sale", body)

    assert (again.status_code, again.json()) == (200, first)
    assert SaleEvent.objects.count() == 1


def test_another_projects_customer_with_the_same_external_id_is_invisible(api, other_api, other_project):
    post(other_api, "/track/lead", {"clickId": "clk_b", "eventName": "Sign up", "customerExternalId": "same"})
    theirs = post(other_api, "/track/sale", {"customerExternalId": "same", "amount": 10, "invoiceId": "inv"}).json()

    # Project A neither replays B's invoice nor sees B's lead: it gets its own customer and sale.
    mine = post(api, "/track/sale", {"customerExternalId": "same", "amount": 5, "invoiceId": "inv"}).json()
    unknown_lead = post(api, "/track/sale", {"customerExternalId": "same", "amount": 5, "leadEventName": "Sign up"})

    assert unknown_lead.status_code == 404
    assert mine["customerId"] != theirs["customerId"]
    assert (mine["amount"], theirs["amount"]) == (5, 10)
    assert Customer.objects.filter(external_id="same").count() == 2
    assert SaleEvent.objects.filter(invoice_id="inv").count() == 2
