"""The owner's key pages in a real headless browser, against the live server and its API."""

import json
import urllib.error
import urllib.request

import pytest

from tests.browser import chromium_page, screenshot
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_status(base_url: str, key: str) -> int:
    request = urllib.request.Request(f"{base_url}/api/v1/project/", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["slug"] == "shop"
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_owner_creates_regenerates_and_revokes_a_key(live_server):
    owner = UserFactory(username="olivia", password="correct-horse-battery")
    ProjectFactory(slug="shop", name="Olivia's shop", owners=[owner])

    with chromium_page() as page:
        page.goto(f"{live_server.url}/projects/")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.click("text=API keys")
        assert page.locator("h1").inner_text() == "API keys of Olivia's shop"

        page.fill("#id_name", "Shop webhook")
        page.click("#create-key button[type=submit]")
        first_key = page.input_value("#new-key-secret")
        assert page.locator("#new-key .warning").inner_text().startswith("Copy this key now")
        screenshot(page, "owner-key-created")
        assert api_status(live_server.url, first_key) == 200

        page.goto(f"{live_server.url}/projects/shop/keys/")
        assert page.locator("#new-key-secret").count() == 0
        assert first_key not in page.content()

        row = page.locator("#keys tbody tr", has_text="Shop webhook")
        row.locator("select[name=grace]").select_option("none")
        row.locator("button[name=rotate]").click()
        second_key = page.input_value("#new-key-secret")
        assert second_key != first_key
        assert api_status(live_server.url, first_key) == 401
        assert api_status(live_server.url, second_key) == 200

        active = page.locator("#keys tbody tr", has_text="active")
        active.locator("button[name=revoke]").click()
        assert "is revoked" in page.locator(".flash").inner_text()
        assert api_status(live_server.url, second_key) == 401
        screenshot(page, "owner-key-revoked")
