"""Every native time filter takes any ISO 8601 offset: converted to UTC, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

TIME_FILTERS = [
    ("/api/v1/stock-movements/", "since"),
    ("/api/v1/conversions/", "since"),
    ("/api/v1/conversions/", "until"),
    ("/api/v1/sales/", "created_after"),
    ("/api/v1/sales/", "created_before"),
]


@pytest.mark.parametrize(("path", "name"), TIME_FILTERS)
def test_offsets_the_database_refuses_are_converted(api, path, name):
    response = api.get(path, {name: "2000-01-01T00:00:00+18:11"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("path", "name"), TIME_FILTERS)
def test_times_beyond_the_calendar_in_utc_are_a_400_naming_the_filter(api, path, name):
    response = api.get(path, {name: "9999-12-31T23:00:00-05:00"})
    assert response.status_code == 400
    field = "created" if name.startswith("created") else name
    assert field in response.json()
