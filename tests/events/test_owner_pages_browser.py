"""The owner's Webhooks page in a real headless browser: add an endpoint, test it, resend, rotate, disable."""

import pytest
from standardwebhooks import Webhook

from events.webhooks.models import WebhookEndpoint
from tests.browser import chromium_page, screenshot
from tests.events.receiver import receiver
from tests.events.tasks import run_due_tasks
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_tests_resends_rotates_and_disables_an_endpoint(live_server):
    owner = UserFactory(username="olivia", password="correct-horse-battery")
    ProjectFactory(slug="shop", name="Olivia's shop", owners=[owner])
    with receiver() as hooks, chromium_page() as page:
        page.goto(f"{live_server.url}/projects/")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.click("text=Webhooks")
        assert page.locator("h1").inner_text() == "Webhooks of Olivia's shop"

        page.fill("#id_url", "ftp://nowhere")
        page.click("#create-endpoint button[type=submit]")
        assert "Enter a valid URL." in page.locator("#create-endpoint").inner_text()
        page.fill("#id_url", hooks.url)
        page.fill("#id_event_types", "sale.*, ping")
        page.fill("#id_description", "Fulfilment")
        page.click("#create-endpoint button[type=submit]")
        secret = page.input_value("#new-secret-value")
        page.click("#copy-secret")
        assert page.locator("#copy-secret").inner_text() == "Copied"
        assert secret.startswith("whsec_")
        screenshot(page, "owner-webhook-created")

        page.goto(f"{live_server.url}/projects/shop/webhooks/")
        assert secret not in page.content()
        endpoint = page.locator(".endpoint", has_text="Fulfilment")
        endpoint.locator("form.ping button").click()
        assert "A test event (ping) is on its way" in page.locator(".flash").inner_text()
        run_due_tasks()
        [ping] = hooks.received
        assert Webhook(secret).verify(ping.body, ping.headers)["type"] == "ping"

        page.reload()
        row = page.locator(".deliveries tbody tr").first
        assert "delivered" in row.inner_text() and "200" in row.inner_text()
        row.locator("form.resend button").click()
        run_due_tasks()
        assert [r.headers["webhook-id"] for r in hooks.received] == [ping.headers["webhook-id"]] * 2

        page.locator(".endpoint form.rotate button").click()
        assert page.input_value("#new-secret-value") not in ("", secret)

        page.locator(".endpoint form.toggle button").click()
        assert "is disabled" in page.locator(".flash").inner_text()
        WebhookEndpoint.objects.update(disabled_reason="Disabled on 2026-11-30 10:00 UTC: every delivery failed.")
        page.reload()
        assert page.locator(".disabled-notice").inner_text().startswith("Disabled on 2026-11-30")
        screenshot(page, "owner-webhook-disabled")
        page.locator(".endpoint form.toggle button").click()
        assert "is enabled" in page.locator(".flash").inner_text()
        assert page.locator(".disabled-notice").count() == 0
