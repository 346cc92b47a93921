"""Tenant isolation of the gate's own endpoints, the health check and the API docs."""

import pytest

from tests.tenancy import assert_invisible, missing_id

pytestmark = pytest.mark.django_db


def test_project_endpoint_shows_only_the_keys_project(api, other_api):
    assert api.get("/api/v1/project/").json()["slug"] == "alpha"
    assert other_api.get("/api/v1/project").json()["slug"] == "beta"


def test_key_list_shows_only_own_keys_without_secrets(api, issued_key, other_key):
    body = api.get("/api/v1/keys/").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == str(issued_key.api_key.pk)
    assert row["prefix"] == issued_key.api_key.display_prefix
    assert row["status"] == "active"
    assert "hashed_key" not in row and issued_key.secret not in str(body)


def test_other_projects_key_is_invisible(issued_key, other_api):
    assert_invisible(other_api, "get", f"/api/v1/keys/{issued_key.api_key.pk}/", f"/api/v1/keys/{missing_id()}/")


def test_keys_endpoint_is_read_only(api, issued_key):
    response = api.delete(f"/api/v1/keys/{issued_key.api_key.pk}/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


@pytest.mark.parametrize("page", ["/admin", "/projects", "/api/schema", "/api/docs", "/api/redoc"])
def test_pages_typed_without_their_slash_lead_to_them(client, page):
    response = client.get(page, {"format": "json"})
    assert (response.status_code, response["Location"]) == (302, f"{page}/?format=json")


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Content-Type"]) == (200, "image/x-icon")
    assert response.content[:4] == b"\x00\x00\x01\x00"


def test_unknown_api_path_is_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_schema_documents_three_key_schemes(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    schemes = response.json()["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer sl_live_...`",
    }
    assert schemes["HeaderKey"]["name"] == "X-API-KEY"
    assert schemes["BasicKey"]["scheme"] == "basic"
    # Alternatives: any one of the three authenticates, never all three together.
    alternatives = [{"BearerKey": []}, {"HeaderKey": []}, {"BasicKey": []}]
    assert response.json()["paths"]["/api/v1/project/"]["get"]["security"] == alternatives
    assert response.json()["paths"]["/api/v1/products/"]["post"]["security"] == alternatives


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_use_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "sidecar" in html or "redoc.standalone.js" in html
    assert "https://" not in html and "cdn." not in html and "unpkg" not in html


def test_redoc_bundle_names_no_other_host_and_the_page_allows_none(client):
    page = client.get("/api/redoc/")
    bundle = client.get("/api/redoc/redoc.standalone.js")

    assert page["Content-Security-Policy"].startswith("default-src 'self';")
    assert '<script src="/api/redoc/redoc.standalone.js">' in page.content.decode()
    assert bundle.status_code == 200
    assert b"cdn.redoc.ly" not in bundle.content and b"fonts.googleapis" not in bundle.content


def test_schema_describes_each_dialect(api):
    tags = {tag["name"]: tag["description"] for tag in api.get("/api/schema/?format=json").json()["tags"]}
    assert set(tags) == {"costtrack", "sells", "track", "custobar", "connecteam", "native"}
    assert tags["track"].startswith("Dub's conversion tracking API")
