"""DELETE /sales/v1/transactions (by period) and /sales/v1/transactions/{id}: exact answers, exact
boundaries, one location of one project, every deletion recorded and restorable from the admin."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from sales.ledger.models import Sale
from sales.pos.models import TransactionDeletion
from sales.pos.services import (
    TransactionInput,
    pos_deletion_restore,
    pos_transactions_create,
    pos_transactions_delete_period,
)
from tests.concurrency import race
from tests.tenancy import assert_invisible, missing_id

pytestmark = pytest.mark.django_db

PATH = "/sales/v1/transactions"
START, END = 1706400000, 1706486400


def record(project, location, *created_at, amount="10.00", sale_type="SALE", api_key=None):
    """Transactions at these Unix seconds, through the service the API uses."""
    items = [
        TransactionInput(
            location_id=location.id,
            sale_type=sale_type,
            created_at=datetime.fromtimestamp(seconds, tz=UTC),
            amount=Decimal(amount),
        )
        for seconds in created_at
    ]
    return pos_transactions_create(project=project, transactions=items, api_key=api_key)


def period(location_id, start=START, end=END):
    return f"{PATH}?locationId={location_id}&startTime={start}&endTime={end}"


def revenue(project):
    return Sale.objects.filter(project=project).exclude(status="cancelled").aggregate(total=Sum("total"))["total"]


def assert_empty_answer(response):
    assert response.status_code == 200
    body = response.json()
    uuid.UUID(body["requestId"])
    assert body == {"requestId": body["requestId"], "data": {}}
    return body["requestId"]


def test_delete_by_period_example(api_header, project, issued_key, location, second_location):
    inside = record(project, location, 1706454000, 1706457600)
    elsewhere = record(project, second_location, 1706461200)

    request_id = assert_empty_answer(api_header.delete(period(location.id)))

    assert list(Sale.objects.all()) == elsewhere
    deletion = TransactionDeletion.objects.get()
    assert (deletion.kind, deletion.location, deletion.count, deletion.request_id) == (
        "period",
        location,
        2,
        request_id,
    )
    assert (deletion.user, deletion.api_key) == (issued_key.api_key.user, issued_key.api_key)
    assert (deletion.start_time.timestamp(), deletion.end_time.timestamp()) == (START, END)
    assert sorted(row["pk"] for row in deletion.rows) == sorted(str(sale.id) for sale in inside)


def test_the_period_includes_its_start_and_excludes_its_end(api_header, project, location):
    before, first, last, after = record(project, location, START - 1, START, END - 1, END)

    assert_empty_answer(api_header.delete(period(location.id)))

    assert set(Sale.objects.all()) == {before, after}
    assert {row["pk"] for row in TransactionDeletion.objects.get().rows} == {str(first.id), str(last.id)}


def test_only_that_locations_and_projects_transactions_go(
    api_header, project, other_project, location, second_location, foreign_location
):
    record(project, location, START + 10)
    kept = [*record(project, second_location, START + 10), *record(other_project, foreign_location, START + 10)]

    assert_empty_answer(api_header.delete(period(location.id)))
    assert set(Sale.objects.all()) == set(kept)


def test_a_period_without_transactions_answers_the_same_and_records_nothing(api_header, project, location):
    record(project, location, END + 100)
    assert_empty_answer(api_header.delete(period(location.id).replace("?", "/?")))
    assert (Sale.objects.count(), TransactionDeletion.objects.count()) == (1, 0)


def test_sales_of_other_channels_at_the_location_are_not_transactions(api_header, project, location):
    other = Sale.objects.create(
        project=project, channel="native", currency="USD", location=location,
        created_at=datetime.fromtimestamp(START + 5, tz=UTC),
    )  # fmt: skip
    assert_empty_answer(api_header.delete(period(location.id)))
    assert api_header.delete(f"{PATH}/{other.id}").status_code == 404
    assert list(Sale.objects.all()) == [other]


def test_invalid_time_range_example(api_header, project, location):
    record(project, location, START)
    for start, end in [(START, START), (END, START)]:
        response = api_header.delete(period(location.id, start, end))
        assert response.status_code == 422
        assert response.json() == {
            "detail": [
                {"loc": ["query", "endTime"], "msg": "end_time must be greater than start_time", "type": "value_error"}
            ]
        }
    assert Sale.objects.count() == 1


def test_missing_and_malformed_query_parameters(api_header, location):
    response = api_header.delete(f"{PATH}?startTime=soon")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["query", "locationId"], "msg": "field required", "type": "value_error.missing"},
            {"loc": ["query", "startTime"], "msg": "value is not a valid integer", "type": "type_error.integer"},
            {"loc": ["query", "endTime"], "msg": "field required", "type": "value_error.missing"},
        ]
    }


def test_unknown_or_another_projects_location_is_the_documented_404(api_header, foreign_location):
    assert api_header.delete(period(999)).json() == {"detail": "Locations with IDs [999] not found"}
    response = api_header.delete(period(foreign_location.id))
    assert response.status_code == 404
    assert response.json() == {"detail": f"Locations with IDs [{foreign_location.id}] not found"}


def test_delete_single_transaction_example(api_header, project, issued_key, location):
    sale, kept = record(project, location, 1706454000, 1706457600)

    request_id = assert_empty_answer(api_header.delete(f"{PATH}/{sale.id}"))

    assert list(Sale.objects.all()) == [kept]
    deletion = TransactionDeletion.objects.get()
    assert (deletion.kind, deletion.count, deletion.request_id, deletion.api_key) == (
        "single",
        1,
        request_id,
        issued_key.api_key,
    )
    assert deletion.rows[0]["pk"] == str(sale.id)
    assert_empty_answer(api_header.delete(f"{PATH}/{kept.id}/"))


@pytest.mark.parametrize("transaction_id", ["invalid-id", "7", str(uuid.UUID(int=1))])
def test_transaction_not_found_example(api_header, transaction_id):
    response = api_header.delete(f"{PATH}/{transaction_id}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"Transaction with ID '{transaction_id}' not found"}


def test_another_projects_transaction_is_invisible(other_api, project, location):
    (sale,) = record(project, location, START)

    assert_invisible(other_api, "delete", f"{PATH}/{sale.id}", f"{PATH}/{missing_id()}")
    # A location's 404 names the id asked for, exactly as for an id that exists nowhere.
    assert other_api.delete(period(location.id)).json() == {"detail": f"Locations with IDs [{location.id}] not found"}
    assert Sale.objects.get() == sale
    assert TransactionDeletion.objects.count() == 0


def test_deleted_transactions_leave_the_api_and_the_reports(api_header, project, location):
    record(project, location, START, amount="40.00")
    record(project, location, START + 1, amount="-15.00", sale_type="REFUND")
    assert revenue(project) == Decimal("25.00")

    assert_empty_answer(api_header.delete(period(location.id)))

    assert revenue(project) is None
    listed = api_header.get(period(location.id)).json()["data"]["transactions"]
    assert listed == []


def admin_client(client):
    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw-for-tests-1")
    client.force_login(staff)
    return client, staff


def test_staff_see_and_restore_deletions_in_the_admin(client, api_header, project, location):
    sales = record(project, location, START, START + 60, amount="12.34")
    assert_empty_answer(api_header.delete(period(location.id)))
    deletion = TransactionDeletion.objects.get()
    client, staff = admin_client(client)

    assert client.get("/admin/sales/transactiondeletion/").status_code == 200
    page = client.get(f"/admin/sales/transactiondeletion/{deletion.pk}/change/")
    assert page.status_code == 200 and str(sales[0].id) in page.content.decode()

    response = client.post(
        "/admin/sales/transactiondeletion/", {"action": "restore", "_selected_action": [deletion.pk]}, follow=True
    )

    assert "2 transaction(s) restored." in response.content.decode()
    restored = Sale.objects.order_by("created_at")
    assert [(sale.id, sale.total, sale.created_at) for sale in restored] == [
        (sale.id, sale.total, sale.created_at) for sale in sales
    ]
    assert revenue(project) == Decimal("24.68")
    deletion.refresh_from_db()
    assert deletion.restored_by == staff and deletion.restored_at is not None
    listed = api_header.get(period(location.id)).json()["data"]["transactions"]
    assert [item["transactionId"] for item in listed] == [str(sale.id) for sale in sales]

    again = client.post(
        "/admin/sales/transactiondeletion/", {"action": "restore", "_selected_action": [deletion.pk]}, follow=True
    )
    assert [(m.level_tag, str(m)) for m in again.context["messages"]] == [
        ("warning", f"{deletion}: This deletion was already restored at {deletion.restored_at:%Y-%m-%d %H:%M} UTC."),
        ("warning", "Nothing was restored."),
    ]
    assert Sale.objects.count() == 2


def test_a_location_with_restorable_deletions_is_not_deleted(api, project, location):
    record(project, location, START)
    pos_transactions_delete_period(
        project=project, location_id=location.id, start=datetime.fromtimestamp(START, tz=UTC),
        end=datetime.fromtimestamp(END, tz=UTC), request_id="r-1",
    )  # fmt: skip

    response = api.delete(f"/api/v1/locations/{location.id}/")

    assert response.status_code == 200 and response.json()["active"] is False
    assert TransactionDeletion.objects.get().location == location


@pytest.mark.parametrize("size", [1, 50])
def test_delete_by_period_costs_the_same_queries_for_1_or_50(
    api_header, project, location, size, django_assert_max_num_queries
):
    record(project, location, *range(START, START + size))
    with django_assert_max_num_queries(17) as captured:
        assert_empty_answer(api_header.delete(period(location.id)))
    ours = [query["sql"] for query in captured.captured_queries if "apikeys_" not in query["sql"]]
    # the write's transaction around the service's: savepoint, savepoint, location, locked read, the
    # sale.deleted events' insert, the deleting collector's 3 (sales, their lines, the sales), record,
    # release, release
    assert len(ours) == 11, ours
    assert TransactionDeletion.objects.get().count == size


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_deletes_record_each_transaction_once(project, location):
    sales = record(project, location, *range(START, START + 20))

    def delete(index):
        return pos_transactions_delete_period(
            project=project, location_id=location.id, request_id=f"r-{index}",
            start=datetime.fromtimestamp(START + index * 5, tz=UTC), end=datetime.fromtimestamp(END, tz=UTC),
        )  # fmt: skip

    results = race(4, delete)

    assert not [result for result in results if isinstance(result, Exception)], results
    recorded = [row["pk"] for deletion in TransactionDeletion.objects.all() for row in deletion.rows]
    assert sorted(recorded) == sorted(str(sale.id) for sale in sales)
    assert Sale.objects.count() == 0


@pytest.mark.parametrize("value", ["--5", "1.5", "", "12a", "1e3"])
def test_a_query_value_that_is_not_an_integer(api_header, value):
    response = api_header.delete(f"{PATH}?locationId={value}&startTime={START}&endTime={END}")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["query", "locationId"], "msg": "value is not a valid integer", "type": "type_error.integer"}
        ]
    }


def test_a_restore_forgets_a_key_deleted_since_and_costs_the_same_for_1_or_many(
    project, owner, issued_key, location, django_assert_num_queries
):
    sales = record(project, location, *range(START, START + 30), api_key=issued_key.api_key)
    deletion = pos_transactions_delete_period(
        project=project, location_id=location.id, start=datetime.fromtimestamp(START, tz=UTC),
        end=datetime.fromtimestamp(END, tz=UTC), request_id="r-1", user=owner,
    )  # fmt: skip
    issued_key.api_key.delete()

    # savepoint, lock the record, which of the named keys still exist (no user or customer is named),
    # one insert, the sale.restored events' insert, mark restored, release
    with django_assert_num_queries(7):
        restored = pos_deletion_restore(deletion=deletion, user=owner)

    assert sorted(sale.id for sale in restored) == sorted(sale.id for sale in sales)
    assert set(Sale.objects.values_list("api_key", "user")) == {(None, None)}
    assert deletion.restored_by == owner
