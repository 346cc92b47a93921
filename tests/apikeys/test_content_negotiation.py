"""The API answers JSON to every `Accept` that admits it, as DRF negotiates it; a type it cannot write is a 406."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        (None, 200, "application/json"),
        ("*/*", 200, "application/json"),
        ("application/json", 200, "application/json"),
        ("application/*", 200, "application/json"),
        ("text/html, application/json;q=0.9", 200, "application/json"),
        ("text/html", 406, "application/json"),
    ],
)
def test_accept(api, accept, status, content_type):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = api.get("/api/v1/project/", **headers)
    assert (response.status_code, response["Content-Type"]) == (status, content_type)
    if status == 200:
        assert response.json()["slug"] == api.project.slug


def test_format_override_is_negotiated_by_drf(api):
    response = api.get("/api/v1/project/?format=json")
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert api.get("/api/v1/project/?format=xml").status_code == 404
