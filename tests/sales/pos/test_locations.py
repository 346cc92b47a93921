"""Native /api/v1/locations/: CRUD, filters, deactivate-instead-of-delete, tenancy; the admin; the demo data."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from sales.ledger.models import Sale
from sales.pos.demo import seed
from sales.pos.models import Location
from sales.pos.services import TransactionInput, location_create, pos_transactions_create
from sales.reporting.selectors import dashboard_period
from tests.tenancy import assert_invisible

pytestmark = pytest.mark.django_db

PATH = "/api/v1/locations/"


def sell_at(project, location):
    item = TransactionInput(location_id=location.id, sale_type="SALE", created_at=datetime.now(UTC), amount=Decimal(1))
    pos_transactions_create(project=project, transactions=[item])


def test_create_read_update(api, project):
    response = api.post(
        PATH, data={"name": "Harbour", "address": "Pier 1", "time_zone": "Europe/Helsinki"}, format="json"
    )

    assert response.status_code == 201
    location_id = response.json()["id"]
    expected = {
        "id": location_id,
        "name": "Harbour",
        "address": "Pier 1",
        "time_zone": "Europe/Helsinki",
        "active": True,
    }
    assert response.json() == expected
    assert Location.objects.get(pk=location_id).project == project
    assert api.get(f"{PATH}{location_id}").json() == expected

    response = api.patch(f"{PATH}{location_id}/", data={"name": "Harbour East", "active": False}, format="json")
    assert response.json() == {**expected, "name": "Harbour East", "active": False}


def test_invalid_input_is_a_400_naming_the_field(api):
    response = api.post(PATH, data={"name": "", "time_zone": "Mars/Olympus"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"name", "time_zone"}
    assert Location.objects.count() == 0


def test_filters_by_name_and_active(api, project, other_project):
    for name, active in [("Main Street", True), ("Main Street Annex", False), ("Airport", True)]:
        location_create(project=project, name=name, active=active)
    location_create(project=other_project, name="Main Street")

    def names(query):
        return [item["name"] for item in api.get(f"{PATH}?{query}").json()["results"]]

    assert names("") == ["Airport", "Main Street", "Main Street Annex"]
    assert names("name=main street") == ["Main Street"]
    assert names("name__icontains=street") == ["Main Street", "Main Street Annex"]
    assert names("active=false") == ["Main Street Annex"]
    assert names("active=true&name__icontains=a") == ["Airport", "Main Street"]
    assert [item["name"] for item in api.get("/api/v1/locations?active=false").json()["results"]] == [
        "Main Street Annex"
    ]


def test_a_location_without_transactions_is_deleted(api, location):
    assert api.delete(f"{PATH}{location.id}/").status_code == 204
    assert Location.objects.count() == 0


def test_a_location_with_transactions_is_deactivated_not_deleted(api, project, location):
    sell_at(project, location)

    response = api.delete(f"{PATH}{location.id}")

    assert response.status_code == 200
    assert response.json()["active"] is False
    location.refresh_from_db()
    assert location.active is False
    assert Sale.objects.get().location == location


def test_another_projects_location_is_invisible(other_api, location):
    missing = f"{PATH}{location.id + 1000}/"
    assert_invisible(other_api, "get", f"{PATH}{location.id}/", missing)
    assert_invisible(other_api, "patch", f"{PATH}{location.id}/", missing, data={"name": "Stolen"})
    assert_invisible(other_api, "delete", f"{PATH}{location.id}/", missing)
    assert other_api.get(PATH).json()["results"] == []
    location.refresh_from_db()
    assert (location.name, location.active) == ("Main street", True)


def test_admin_lists_adds_and_deactivates_locations(client, project, location):
    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw-for-tests-1")
    client.force_login(staff)

    assert client.get("/admin/sales/location/").status_code == 200
    response = client.post(
        "/admin/sales/location/add/",
        {"project": project.pk, "name": "Kiosk", "address": "", "time_zone": "UTC", "active": "on"},
    )
    assert response.status_code == 302
    assert Location.objects.get(name="Kiosk").project == project

    client.post("/admin/sales/location/", {"action": "deactivate", "_selected_action": [location.pk]})
    location.refresh_from_db()
    assert location.active is False


def test_demo_data_is_created_once(project, owner, issued_key):
    out = io.StringIO()
    seed(project=project, user=owner, api_key=issued_key.api_key, stdout=out)
    seed(project=project, user=owner, api_key=issued_key.api_key, stdout=out)

    assert sorted(Location.objects.filter(project=project).values_list("name", flat=True)) == [
        "Airport kiosk",
        "Main Street store",
    ]
    sales = Sale.objects.filter(project=project, channel="connecteam")
    assert sales.count() == 5
    assert sorted(sales.values_list("sale_type", flat=True)) == ["REFUND", "SALE", "SALE", "SALE", "VOID"]
    assert out.getvalue().count("connecteam:") == 1
    # Inside the dashboard's "last 30 days", so a fresh demo shows the channel.
    period = dashboard_period(project=project, days=30)
    assert all(period.start <= sale.created_at < period.end for sale in sales)
