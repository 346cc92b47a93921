"""The dashboard in a real headless browser: the SVG charts are drawn, with their labels."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import chromium_page, screenshot
from tests.factories import (
    ProductFactory,
    ProjectFactory,
    SaleEventFactory,
    SaleFactory,
    SaleLineFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url, username, password, next_path):
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit], input[type=submit]")


def test_owner_dashboard_draws_its_charts(live_server):
    owner = UserFactory(username="olivia", password="correct-horse-battery")
    project = ProjectFactory(slug="shop", name="Olivia's shop", currency="EUR", owners=[owner])
    today = timezone.now()
    mug = ProductFactory(project=project, name="Mug", stock=100)
    ProductFactory(project=project, name="Green tea", stock=3)
    for days_ago in range(5):  # sells and costtrack every day, connecteam every other day: 5 + 5 + 3 segments
        created_at = today - datetime.timedelta(days=days_ago)
        sale = SaleFactory(project=project, channel="sells", status="confirmed", total=Decimal(40 + days_ago),
                           created_at=created_at)  # fmt: skip
        SaleLineFactory(sale=sale, product=mug, quantity=2, unit_price=Decimal(20))
        SaleFactory(project=project, channel="costtrack", total=Decimal(15), created_at=created_at)
        if days_ago % 2 == 0:
            SaleFactory(project=project, channel="connecteam", status="confirmed", total=Decimal(25),
                        created_at=created_at)  # fmt: skip
        SaleEventFactory(project=project, amount=1000 * (days_ago + 1), created_at=created_at)
    SaleFactory(project=project, channel="sells", status="cancelled", total=Decimal(99), created_at=today)

    with chromium_page() as page:
        log_in(page, live_server.url, "olivia", "correct-horse-battery", "/projects/shop/")
        assert page.locator("h1").inner_text() == "Olivia's shop"

        revenue = page.locator("#chart-revenue svg")
        # Counted as Playwright waits: the charts are drawn by the page's script after it loads.
        expect(revenue.locator("rect.bar")).to_have_count(13)
        assert revenue.locator("text.legend-label").all_text_contents() == ["connecteam", "costtrack", "sells"]
        status = page.locator("#chart-status svg")
        assert status.locator("rect.bar").count() == 3
        assert status.locator("text.label").all_text_contents() == ["pending", "confirmed", "cancelled"]
        assert status.locator("text.value").all_text_contents() == ["5", "8", "1"]
        assert page.locator("#chart-top-products svg text.label").all_text_contents() == ["Mug"]
        conversions = page.locator("#chart-conversions svg")
        assert conversions.locator("path.line").count() == 1
        assert conversions.locator("circle.dot").count() == 5
        assert page.locator("#low-stock td").first.inner_text() == "Green tea"
        assert page.locator("#revenue-total").inner_text() == "360.00 EUR"
        # the bars have a real size on screen, not only markup
        box = revenue.locator("rect.bar").first.bounding_box()
        assert box["width"] > 2 and box["height"] > 2
        screenshot(page, "dashboard-owner")

        page.select_option("#id_channel", "costtrack")
        page.click("#dashboard-filters button[type=submit]")
        expect(page.locator("#chart-revenue svg rect.bar")).to_have_count(5)
        export_url = page.locator("#export-csv").get_attribute("href")
        assert export_url == "/projects/shop/sales.csv?period=30&channel=costtrack"


def test_staff_dashboard_on_the_admin_home(live_server):
    UserFactory(username="sam", password="correct-horse-battery", is_staff=True, is_superuser=True)
    project = ProjectFactory(slug="shop", name="Shop")
    SaleFactory(project=project, channel="sells", total=Decimal(10))

    with chromium_page() as page:
        log_in(page, live_server.url, "sam", "correct-horse-battery", "/admin/")
        assert page.locator("#sales-dashboard h2").inner_text() == "Sales dashboard: Shop"
        expect(page.locator("#chart-revenue svg rect.bar")).to_have_count(1)
        assert page.locator("#id_project").input_value() == "shop"
        # The whole width of the page (1280 px less the admin's padding), two charts side by side.
        assert page.evaluate("document.querySelector('#sales-dashboard').getBoundingClientRect().width") > 1150
        status, top = (page.locator(f"#{name}").bounding_box() for name in ("chart-status", "chart-top-products"))
        assert status["y"] == top["y"] and status["x"] < top["x"]
        screenshot(page, "dashboard-admin")
