"""POST /sales/v1/transactions: the document's examples, its error shapes, all-or-nothing batches, query counts."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from sales.ledger.models import Sale
from sales.pos.services import TransactionInput, pos_transactions_create

pytestmark = pytest.mark.django_db

PATH = "/sales/v1/transactions"


def post(client, items, path=PATH):
    return client.post(path, data={"transactionsCreateRequest": items}, format="json")


def without_ids(body):
    """The body with each generated id checked to be a UUID and then masked."""
    uuid.UUID(body["requestId"])
    for transaction in body["data"]["transactions"]:
        uuid.UUID(transaction.pop("transactionId"))
    return {**body, "requestId": "<uuid>"}


def revenue(project):
    """Revenue as every report counts it: the totals of the project's sales that are not cancelled."""
    return Sale.objects.filter(project=project).exclude(status="cancelled").aggregate(total=Sum("total"))["total"]


def item(location_id, **overrides):
    return {"locationId": location_id, "saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 10, **overrides}


def test_single_transaction_example(api_header, location):
    response = post(api_header, [
        {"locationId": location.id, "saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 99.99,
         "taxAmount": 8.50, "currency": "USD"},
    ])  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    sale_id = body["data"]["transactions"][0]["transactionId"]
    assert without_ids(body) == {
        "requestId": "<uuid>",
        "data": {
            "transactions": [
                {"locationId": location.id, "saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 99.99,
                 "taxAmount": 8.50, "currency": "USD"},
            ]
        },
    }  # fmt: skip
    sale = Sale.objects.get(pk=sale_id)
    assert (sale.channel, sale.status, sale.location, sale.sale_type) == ("connecteam", "confirmed", location, "SALE")
    assert (sale.subtotal, sale.tax, sale.total, sale.currency) == (
        Decimal("99.99"),
        Decimal("8.50"),
        Decimal("108.49"),
        "USD",
    )
    assert sale.created_at.isoformat() == "2024-01-28T15:00:00+00:00"


def test_bulk_example_with_a_refund_that_reduces_revenue(api_header, project, location, second_location):
    response = post(api_header, [
        {"locationId": location.id, "saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 99.99,
         "taxAmount": 8.50, "currency": "USD"},
        {"locationId": location.id, "saleType": "REFUND", "createdAt": 1706457600, "finalSaleAmount": -25.00,
         "currency": "USD"},
        {"locationId": second_location.id, "saleType": "SALE", "createdAt": 1706461200, "finalSaleAmount": 150.00,
         "taxAmount": 12.75, "currency": "USD"},
    ])  # fmt: skip

    assert response.status_code == 200
    assert without_ids(response.json()) == {
        "requestId": "<uuid>",
        "data": {
            "transactions": [
                {"locationId": location.id, "saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 99.99,
                 "taxAmount": 8.50, "currency": "USD"},
                {"locationId": location.id, "saleType": "REFUND", "createdAt": 1706457600, "finalSaleAmount": -25.00,
                 "currency": "USD"},
                {"locationId": second_location.id, "saleType": "SALE", "createdAt": 1706461200,
                 "finalSaleAmount": 150.00, "taxAmount": 12.75, "currency": "USD"},
            ]
        },
    }  # fmt: skip
    assert revenue(project) == Decimal("108.49") - Decimal("25.00") + Decimal("162.75")


def test_optional_fields_are_echoed_only_when_sent(api_header, project, location):
    project.currency = "EUR"
    project.save(update_fields=["currency"])
    response = post(api_header, [item(location.id, finalSaleAmount=12.5), item(location.id, taxAmount=None)])

    transactions = response.json()["data"]["transactions"]
    assert [set(transaction) for transaction in transactions] == [
        {"transactionId", "locationId", "saleType", "createdAt", "finalSaleAmount"}
    ] * 2
    assert set(Sale.objects.values_list("currency", "tax")) == {("EUR", Decimal(0))}


def test_a_refunds_tax_is_refunded_with_it(api_header, project, location):
    response = post(api_header, [item(location.id, saleType="REFUND", finalSaleAmount=-25, taxAmount=2.12)])

    assert response.json()["data"]["transactions"][0]["taxAmount"] == 2.12
    sale = Sale.objects.get()
    assert (sale.subtotal, sale.tax, sale.total) == (Decimal("-25"), Decimal("-2.12"), Decimal("-27.12"))
    assert revenue(project) == Decimal("-27.12")


def test_amounts_round_half_up_to_the_currency_and_codes_are_read_in_any_case(api_header, location):
    response = post(api_header, [
        item(location.id, finalSaleAmount=10.005, currency="usd"),
        item(location.id, finalSaleAmount=1437.5, currency="JPY"),
    ])  # fmt: skip

    assert [(t["finalSaleAmount"], t["currency"]) for t in response.json()["data"]["transactions"]] == [
        (10.01, "USD"),
        (1438, "JPY"),
    ]


def test_trailing_slash_is_the_same_endpoint(api_header, location):
    assert post(api_header, [item(location.id)], path=f"{PATH}/").status_code == 200
    assert Sale.objects.count() == 1


def test_the_request_id_is_the_requests_own_when_it_is_a_uuid(api_header, location):
    given = str(uuid.uuid4())
    response = api_header.post(
        PATH, data={"transactionsCreateRequest": [item(location.id)]}, format="json", HTTP_X_REQUEST_ID=given
    )
    assert response.json()["requestId"] == given


def test_missing_required_field_example(api_header, location):
    response = post(api_header, [{"saleType": "SALE", "createdAt": 1706454000, "finalSaleAmount": 99.99}])

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "transactionsCreateRequest", 0, "locationId"],
                "msg": "field required",
                "type": "value_error.missing",
            }
        ]
    }


def test_every_problem_of_the_batch_is_listed_and_nothing_is_written(api_header, location):
    response = post(api_header, [
        item(location.id),
        {"locationId": "7a", "saleType": "GIFT", "createdAt": 1.5, "finalSaleAmount": "12", "currency": "XYZ"},
        {},
        "not an object",
        item(location.id, finalSaleAmount=None, taxAmount=True),
    ])  # fmt: skip

    assert response.status_code == 422
    permitted = "'SALE', 'VOID', 'REFUND', 'SPLIT', 'TRANSFER', 'RECALL', 'UPDATE', 'FLOAT', 'TRANSITORY', 'CROSS_BL', "
    permitted += "'CANCEL', 'MANUAL'"
    loc = ["body", "transactionsCreateRequest"]
    assert response.json() == {
        "detail": [
            {"loc": [*loc, 1, "locationId"], "msg": "value is not a valid integer", "type": "type_error.integer"},
            {"loc": [*loc, 1, "saleType"], "msg": f"value is not a valid enumeration member; permitted: {permitted}",
             "type": "type_error.enum"},
            {"loc": [*loc, 1, "createdAt"], "msg": "value is not a valid integer", "type": "type_error.integer"},
            {"loc": [*loc, 1, "finalSaleAmount"], "msg": "value is not a valid float", "type": "type_error.float"},
            {"loc": [*loc, 1, "currency"], "msg": "value is not a valid ISO 4217 currency code",
             "type": "value_error.currency"},
            {"loc": [*loc, 2, "locationId"], "msg": "field required", "type": "value_error.missing"},
            {"loc": [*loc, 2, "saleType"], "msg": "field required", "type": "value_error.missing"},
            {"loc": [*loc, 2, "createdAt"], "msg": "field required", "type": "value_error.missing"},
            {"loc": [*loc, 2, "finalSaleAmount"], "msg": "field required", "type": "value_error.missing"},
            {"loc": [*loc, 3], "msg": "value is not a valid dict", "type": "type_error.dict"},
            {"loc": [*loc, 4, "finalSaleAmount"], "msg": "none is not an allowed value",
             "type": "type_error.none.not_allowed"},
            {"loc": [*loc, 4, "taxAmount"], "msg": "value is not a valid float", "type": "type_error.float"},
        ]
    }  # fmt: skip
    assert Sale.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "msg", "type_"),
    [
        ("createdAt", -1, "ensure this value is greater than or equal to 0", "value_error.number.not_ge"),
        ("createdAt", 10**12, "ensure this value is less than or equal to 7289654399", "value_error.number.not_le"),
        ("locationId", 2**63, f"ensure this value is less than or equal to {2**63 - 1}", "value_error.number.not_le"),
        ("finalSaleAmount", 10**15, "ensure this value is less than 1000000000000000 in absolute value",
         "value_error.number.not_lt"),
        ("currency", 840, "str type expected", "type_error.str"),
    ],
)  # fmt: skip
def test_values_out_of_range_are_422_not_500(api_header, location, field, value, msg, type_):
    response = post(api_header, [item(location.id, **{field: value})])

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body", "transactionsCreateRequest", 0, field], "msg": msg, "type": type_}]
    }


@pytest.mark.parametrize(
    ("body", "loc", "msg", "type_"),
    [
        ({"transactionsCreateRequest": []}, ["body", "transactionsCreateRequest"],
         "ensure this value has at least 1 items", "value_error.list.min_items"),
        ({"transactionsCreateRequest": {"locationId": 1}}, ["body", "transactionsCreateRequest"],
         "value is not a valid list", "type_error.list"),
        ({"transactionsCreateRequest": None}, ["body", "transactionsCreateRequest"],
         "none is not an allowed value", "type_error.none.not_allowed"),
        ({}, ["body", "transactionsCreateRequest"], "field required", "value_error.missing"),
        ([], ["body"], "value is not a valid dict", "type_error.dict"),
    ],
)  # fmt: skip
def test_a_batch_that_is_not_a_list_of_1_to_100(api_header, location, body, loc, msg, type_):
    response = api_header.post(PATH, data=body, format="json")

    assert response.status_code == 422
    assert response.json() == {"detail": [{"loc": loc, "msg": msg, "type": type_}]}


def test_101_transactions_are_refused_and_nothing_is_written(api_header, location):
    response = post(api_header, [item(location.id) for _ in range(101)])

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "transactionsCreateRequest"],
                "msg": "ensure this value has at most 100 items",
                "type": "value_error.list.max_items",
            }
        ]
    }
    assert Sale.objects.count() == 0


def test_location_not_found_example(api_header, location):
    response = post(api_header, [item(location.id), item(999)])

    assert response.status_code == 404
    assert response.json() == {"detail": "Locations with IDs [999] not found"}
    assert Sale.objects.count() == 0


def test_every_unknown_location_is_named_once_sorted_including_another_projects(api_header, location, foreign_location):
    response = post(api_header, [item(999), item(location.id), item(foreign_location.id), item(999), item(5000)])

    assert response.status_code == 404
    assert response.json() == {"detail": f"Locations with IDs {sorted([999, foreign_location.id, 5000])} not found"}
    assert Sale.objects.count() == 0


def test_an_inactive_location_still_accepts_late_syncs(api_header, location):
    location.active = False
    location.save(update_fields=["active"])
    assert post(api_header, [item(location.id)]).status_code == 200


def test_malformed_json_is_a_detail_error(api_header):
    response = api_header.post(PATH, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Missing API key: send Authorization: Bearer KEY, X-API-KEY: KEY or HTTP Basic."),
        ({"HTTP_X_API_KEY": "sl_live_nope_wrong"}, "Invalid or missing API key."),
    ],
)
def test_401_in_the_detail_shape(client, location, headers, detail):
    response = client.post(
        PATH, data={"transactionsCreateRequest": [item(location.id)]}, content_type="application/json", **headers
    )

    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert Sale.objects.count() == 0


@pytest.mark.parametrize("size", [1, 100])
def test_a_batch_costs_the_same_handful_of_queries_whatever_its_size(
    api_header, location, size, django_assert_max_num_queries
):
    # SQLite caps one INSERT at 999 parameters (41 sales), so it needs 3 inserts for 100; PostgreSQL one.
    extra_inserts = 2 if size == 100 and connection.vendor == "sqlite" else 0
    with django_assert_max_num_queries(13 + extra_inserts) as captured:
        response = post(api_header, [item(location.id, createdAt=1706454000 + n) for n in range(size)])
    assert response.status_code == 200
    assert Sale.objects.count() == size
    # Beyond the gate's own (key, rate limit, request log): the write's transaction (savepoint and
    # release here, begin and commit outside a test) around the service's savepoint, locked read of
    # the locations, the insert, the sale.created events' insert, release.
    ours = [query["sql"] for query in captured.captured_queries if "apikeys_" not in query["sql"]]
    assert len(ours) == 7 + extra_inserts, ours


def test_the_service_alone_is_five_queries_for_1_or_100(project, location, django_assert_num_queries):
    def batch(size):
        return [
            TransactionInput(location_id=location.id, sale_type="SALE", created_at=datetime.now(UTC), amount=Decimal(1))
            for _ in range(size)
        ]

    extra = 2 if connection.vendor == "sqlite" else 0
    # savepoint, the locked read of the locations, the insert, the events' insert, release.
    with django_assert_num_queries(5):
        pos_transactions_create(project=project, transactions=batch(1))
    with django_assert_num_queries(5 + extra):
        pos_transactions_create(project=project, transactions=batch(100))
    assert Sale.objects.count() == 101
