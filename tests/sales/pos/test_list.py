"""GET /sales/v1/transactions (beyond the document): a period's transactions in the create shape, paginated."""

import uuid

import pytest

pytestmark = pytest.mark.django_db

PATH = "/sales/v1/transactions"
START, END = 1706400000, 1706486400


def create(client, items):
    response = client.post(PATH, data={"transactionsCreateRequest": items}, format="json")
    assert response.status_code == 200
    return response.json()["data"]["transactions"]


def test_lists_the_period_oldest_first_in_the_create_shape(api_header, location, second_location):
    created = create(api_header, [
        {"locationId": location.id, "saleType": "REFUND", "createdAt": START + 20, "finalSaleAmount": -25.00},
        {"locationId": location.id, "saleType": "SALE", "createdAt": START + 10, "finalSaleAmount": 99.99,
         "taxAmount": 8.50, "currency": "USD"},
        {"locationId": location.id, "saleType": "SALE", "createdAt": END, "finalSaleAmount": 1},
        {"locationId": second_location.id, "saleType": "SALE", "createdAt": START + 10, "finalSaleAmount": 1},
    ])  # fmt: skip

    response = api_header.get(f"{PATH}?locationId={location.id}&startTime={START}&endTime={END}")

    assert response.status_code == 200
    body = response.json()
    uuid.UUID(body["requestId"])
    assert body == {
        "requestId": body["requestId"],
        "data": {"transactions": [created[1], created[0]]},
        "paging": {"limit": 100, "offset": 0, "total": 2},
    }


def test_pages(api_header, location, django_assert_max_num_queries):
    create(api_header, [
        {"locationId": location.id, "saleType": "SALE", "createdAt": START + n, "finalSaleAmount": n}
        for n in range(5)
    ])  # fmt: skip

    with django_assert_max_num_queries(9) as captured:
        response = api_header.get(f"{PATH}/?locationId={location.id}&startTime={START}&endTime={END}&limit=2&offset=3")

    body = response.json()
    assert [item["finalSaleAmount"] for item in body["data"]["transactions"]] == [3, 4]
    assert body["paging"] == {"limit": 2, "offset": 3, "total": 5}
    # the location, the page, the count: whatever the page size
    assert len([query for query in captured.captured_queries if "apikeys_" not in query["sql"]]) == 3


def test_the_same_errors_as_delete(api_header, foreign_location):
    assert api_header.get(f"{PATH}?locationId={foreign_location.id}&startTime={START}&endTime={END}").json() == {
        "detail": f"Locations with IDs [{foreign_location.id}] not found"
    }
    response = api_header.get(f"{PATH}?locationId=1&startTime={END}&endTime={START}&limit=0")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["query", "limit"], "msg": "ensure this value is greater than or equal to 1",
             "type": "value_error.number.not_ge"},
        ]
    }  # fmt: skip
