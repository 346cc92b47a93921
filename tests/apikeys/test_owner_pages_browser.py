"""The first hour of an owner, in a real headless browser against the live server and its API: log in, see
the dashboard, create a key (a reload makes no second one), call the API with it, regenerate it with a grace
period, revoke it after confirming, find the webhooks page, read the API docs; no request ever leaves the
server's host."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from apikeys.models import APIKey
from apikeys.services import request_log_write
from tests.browser import chromium_page, screenshot
from tests.factories import ProjectFactory, UserFactory, issue_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_status(base_url: str, key: str) -> int:
    request = urllib.request.Request(f"{base_url}/api/v1/project/", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["slug"] == "shop"
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_first_hour_of_an_owner(live_server):
    owner = UserFactory(username="olivia", password="correct-horse-battery")
    project = ProjectFactory(slug="shop", name="Olivia's shop", owners=[owner], time_zone="Europe/Helsinki")
    own_host = urllib.parse.urlsplit(live_server.url).netloc

    with chromium_page() as page:
        requested, dialogs, answer = [], [], {"accept": True}

        def confirm(dialog):
            dialogs.append(dialog.message)
            dialog.accept() if answer["accept"] else dialog.dismiss()

        page.on("request", lambda request: requested.append(request.url))
        page.on("dialog", confirm)

        page.goto(f"{live_server.url}/projects/")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.click("text=Olivia's shop")
        assert page.url == f"{live_server.url}/projects/shop/"
        assert page.locator("h1").inner_text().startswith("Olivia's shop")
        page.click("text=API keys")
        assert page.locator("h1").inner_text() == "API keys of Olivia's shop"

        page.fill("#id_name", "Shop webhook")
        page.click("#create-key button[type=submit]")
        first_key = page.input_value("#new-key-secret")
        page.click("button[data-target=new-key-secret]")  # the shared copy script (static/js/copy-secret.js)
        assert page.locator("button[data-target=new-key-secret]").inner_text() == "Copied"
        assert page.locator("#new-key .warning").inner_text().startswith("Copy this key now")
        screenshot(page, "owner-key-created")
        page.reload()
        assert page.locator("#new-key-secret").count() == 0 and first_key not in page.content()
        assert project.api_keys.count() == 1
        assert api_status(live_server.url, first_key) == 200

        row = page.locator("#keys tbody tr", has_text="Shop webhook")
        row.locator("select[name=grace]").select_option("1h")
        row.locator("button[name=rotate]").click()
        second_key = page.input_value("#new-key-secret")
        assert second_key != first_key
        assert dialogs[-1].startswith("Regenerate “Shop webhook”")
        assert api_status(live_server.url, first_key) == 200  # the grace hour
        assert api_status(live_server.url, second_key) == 200
        assert page.locator("#keys tbody tr", has_text="grace").count() == 1

        active = page.locator("#keys tbody tr", has_text="active")
        answer["accept"] = False
        active.locator("button[name=revoke]").click()
        assert dialogs[-1].startswith("Revoke “Shop webhook”")
        assert api_status(live_server.url, second_key) == 200  # dismissed: nothing happened
        answer["accept"] = True
        active.locator("button[name=revoke]").click()
        assert "is revoked" in page.locator(".flash").inner_text()
        assert dialogs[-1].startswith("Revoke “Shop webhook”")
        assert api_status(live_server.url, second_key) == 401
        assert APIKey.objects.filter(project=project, revoked_at__isnull=True).count() == 1  # the graced one
        screenshot(page, "owner-key-revoked")

        page.click("text=Olivia's shop")
        page.click("text=Webhooks")
        assert page.locator("h1").inner_text() == "Webhooks of Olivia's shop"
        assert page.locator("#create-endpoint").is_visible()

        page.goto(f"{live_server.url}/api/redoc/")
        page.wait_for_selector("text=SalesLedger API")
        page.wait_for_load_state("networkidle")
        screenshot(page, "redoc")

    elsewhere = [url for url in requested if urllib.parse.urlsplit(url).netloc not in (own_host, "")]
    assert elsewhere == []
    assert any(url.endswith("/api/schema/") for url in requested)


def test_the_request_log_fits_a_1280_pixel_window(live_server):
    owner = UserFactory(username="olivia", password="correct-horse-battery")
    project = ProjectFactory(slug="shop", name="Olivia's shop", owners=[owner])
    issued = issue_key(project)
    long_path = "/api/v1/products/?" + "&".join(f"name=very-long-filter-value-{n}" for n in range(15))
    request_log_write([dict(project=project, api_key=issued.api_key, method="GET", path=long_path[:500],
                            status_code=400, duration_ms=3, request_id="r" * 128, client_address="2001:db8::1",
                            error='{"detail": "' + "x" * 2000 + '"}')])  # fmt: skip

    with chromium_page() as page:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{live_server.url}/accounts/login/?next=/projects/shop/keys/{issued.api_key.pk}/requests")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.wait_for_selector("#requests")
        screenshot(page, "request-log")

        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert page.get_attribute("#requests tbody td:nth-child(3)", "title") == long_path[:500]
