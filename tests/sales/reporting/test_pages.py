"""The dashboard as owners and staff see it, and its streamed CSV export."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from sales.reporting import views
from tests.factories import ProductFactory, SaleEventFactory, SaleFactory, SaleLineFactory
from tracking.models import ExchangeRate
from tracking.services import exchange_rates_load

HEADER = (
    "id,created_at,channel,status,currency,subtotal,discount,shipping,tax,total,external_id,original_state,"
    "sale_type,category,location_id,customer_id,confirmed_at,cancelled_at"
)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def sales(project, now):
    yesterday = now - datetime.timedelta(days=1)
    mug = ProductFactory(project=project, name="Mug <b>", stock=2)
    confirmed = SaleFactory(
        project=project,
        channel="sells",
        status="confirmed",
        total=Decimal("12.50"),
        created_at=yesterday,
        external_id="S-1",
    )
    SaleLineFactory(sale=confirmed, product=mug, quantity=1, unit_price=Decimal("12.50"))
    return {
        "confirmed": confirmed,
        "refund": SaleFactory(project=project, channel="connecteam", status="confirmed", total=Decimal("-2.00"),
                              created_at=now - datetime.timedelta(minutes=5), sale_type="REFUND"),
        "old": SaleFactory(project=project, channel="sells", total=Decimal("40.00"),
                           created_at=now - datetime.timedelta(days=60)),
        "event": SaleEventFactory(project=project, amount=1234, created_at=yesterday),
    }  # fmt: skip


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_owner_sees_the_dashboard_of_their_project(owner_client, sales, django_assert_num_queries):
    # session, user, project, then one query per chart (revenue, statuses, top products, conversions, low stock)
    with django_assert_num_queries(8):
        response = owner_client.get("/projects/alpha/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Manage API keys" in html  # it is the project page, with the dashboard in it
    assert '<span class="figure" id="revenue-total">10.50 USD</span>' in html
    assert '<span class="figure" id="sales-count">2</span>' in html
    assert '<span class="figure" id="conversions-usd">12.34 USD</span>' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 4
    assert 'data-series="sells"' in html and 'data-series="connecteam"' in html
    assert "Mug &lt;b&gt;" in html and "Mug <b>" not in html
    assert 'href="/projects/alpha/sales.csv?period=30&amp;channel="' in html
    assert 'href="/projects/alpha/sales.csv?period=all&amp;channel="' in html


def test_other_currencies_are_converted_at_the_rate_of_their_day_and_the_page_says_which(
    owner_client, project, now, django_assert_num_queries
):
    ExchangeRate.objects.all().delete()
    exchange_rates_load(rows=[("EUR", Decimal("0.5"), datetime.date(2020, 1, 1)),
                              ("EUR", Decimal("0.8"), (now - datetime.timedelta(days=2)).date())])  # fmt: skip
    SaleFactory(project=project, channel="sells", currency="EUR", total=Decimal(8), created_at=now)
    SaleFactory(project=project, channel="sells", currency="EUR", total=Decimal(1),
                created_at=now - datetime.timedelta(days=5))  # fmt: skip
    SaleFactory(project=project, channel="sells", currency="AED", total=Decimal(3), created_at=now)
    SaleFactory(project=project, channel="sells", currency="USD", total=Decimal(1), created_at=now)

    with django_assert_num_queries(9):  # the rates: one more query
        html = owner_client.get("/projects/alpha/").content.decode()

    # 8 EUR / 0.8 + 1 EUR / 0.5 + 1 USD; the dirham has no rate
    assert '<span class="figure" id="revenue-total">13.00 USD</span>' in html
    rate_day = (now - datetime.timedelta(days=2)).date()
    assert (
        "Sales in other currencies are converted to USD at the exchange rates of each sale's day:\n"
        f"    EUR rates of 2020-01-01 to {rate_day} (latest: 1 USD = 0.8 EUR)."
    ) in html
    assert "Not charted, no exchange rate yet:\n    3.00 AED." in html


def test_the_period_and_channel_filters(owner_client, sales):
    html = owner_client.get("/projects/alpha/", {"period": 90, "channel": "sells"}).content.decode()
    assert '<span class="figure" id="revenue-total">52.50 USD</span>' in html
    assert 'data-series="connecteam"' not in html
    assert 'href="/projects/alpha/sales.csv?period=90&amp;channel=sells"' in html


def test_bad_filters_fall_back_to_the_defaults(owner_client, sales):
    response = owner_client.get("/projects/alpha/", {"period": "7", "channel": "fax"})
    assert response.status_code == 200
    assert '<span class="figure" id="sales-count">2</span>' in response.content.decode()


def test_an_owner_gets_404_for_another_project(owner_client, other_project):
    assert owner_client.get("/projects/beta/").status_code == 404
    assert owner_client.get("/projects/beta/sales.csv").status_code == 404
    assert owner_client.get("/projects/nope/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, project):
    response = client.get("/projects/alpha/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/projects/alpha/"


def test_the_owner_export_streams_the_sales_shown(owner_client, sales, project):
    response = owner_client.get("/projects/alpha/sales.csv", {"period": 30})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="alpha-sales-30d.csv"'
    refund, confirmed = sales["refund"], sales["confirmed"]

    def local(moment):
        return moment.astimezone(project.tzinfo).isoformat()

    assert b"".join(response.streaming_content).decode().splitlines() == [
        HEADER,
        f"{refund.id},{local(refund.created_at)},connecteam,confirmed,USD,-2.00,0.00,0.00,0.00,-2.00,,,REFUND,,,,"
        f"{local(refund.confirmed_at)},",
        f"{confirmed.id},{local(confirmed.created_at)},sells,confirmed,USD,12.50,0.00,0.00,0.00,12.50,S-1,,,,,,"
        f"{local(confirmed.confirmed_at)},",
    ]


def test_the_export_shows_each_currencys_decimals_and_times_in_the_projects_zone(owner_client, project):
    project.time_zone = "Europe/Helsinki"
    project.save()
    moment = datetime.datetime(2026, 11, 29, 22, 30, tzinfo=datetime.UTC)
    SaleFactory(project=project, channel="sells", currency="JPY", total=Decimal(1500), created_at=moment)
    SaleFactory(project=project, channel="sells", currency="KWD", total=Decimal("1.5"), created_at=moment)
    SaleFactory(project=project, channel="sells", currency="USD", total=Decimal(34), created_at=moment)

    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(owner_client.get("/projects/alpha/sales.csv", {"period": "all"}).streaming_content).decode()
            )
        )
    )

    assert sorted((row["currency"], row["total"], row["created_at"]) for row in rows) == [
        ("JPY", "1500", "2026-11-30T00:30:00+02:00"),
        ("KWD", "1.500", "2026-11-30T00:30:00+02:00"),
        ("USD", "34.00", "2026-11-30T00:30:00+02:00"),
    ]


def test_the_export_is_filtered_by_channel(owner_client, sales):
    response = owner_client.get("/projects/alpha/sales.csv", {"period": 90, "channel": "sells"})
    assert response["Content-Disposition"] == 'attachment; filename="alpha-sales-90d-sells.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["id"] for row in rows] == [str(sales["confirmed"].id), str(sales["old"].id)]


def test_the_export_of_all_sales_of_a_channel(owner_client, sales, project, now):
    ancient = SaleFactory(project=project, channel="sells", created_at=now - datetime.timedelta(days=400))
    response = owner_client.get("/projects/alpha/sales.csv", {"period": "all", "channel": "sells"})
    assert response["Content-Disposition"] == 'attachment; filename="alpha-sales-all-sells.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["id"] for row in rows] == [str(sales["confirmed"].id), str(sales["old"].id), str(ancient.id)]


def test_the_export_is_written_in_chunks_as_rows_are_read(owner_client, project, now, monkeypatch):
    monkeypatch.setattr(views, "EXPORT_CHUNK_ROWS", 2)
    SaleFactory.create_batch(5, project=project, created_at=now)
    response = owner_client.get("/projects/alpha/sales.csv")
    chunks = list(response.streaming_content)
    # header + 2 rows, 2 rows, 1 row: never the whole export in one piece
    assert [chunk.decode().count("\n") for chunk in chunks] == [3, 2, 1]


def test_staff_see_the_dashboard_on_the_admin_home(staff_client, sales, other_project):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sales dashboard: Alpha" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 4
    assert '<div class="app-apikeys module' in html  # still the admin's home, with its app list
    assert 'href="/admin/sales-export.csv?project=alpha&amp;period=30&amp;channel="' in html

    html = staff_client.get("/admin/", {"project": "beta"}).content.decode()
    assert "Sales dashboard: Beta" in html
    assert '<span class="figure" id="sales-count">0</span>' in html


def test_staff_export_any_project(staff_client, sales):
    response = staff_client.get("/admin/sales-export.csv", {"project": "alpha", "period": 90})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3


def test_the_admin_dashboard_is_for_staff_only(client, owner, project):
    client.force_login(owner)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/sales-export.csv").status_code == 302


@pytest.mark.parametrize("path", ["/projects/alpha/sales.csv", "/admin/sales-export.csv?project=alpha"])  # owner, staff
def test_text_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(client, owner, staff, project, now, path):
    client.force_login(staff if path.startswith("/admin/") else owner)
    cells = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain"]
    for position, cell in enumerate(cells):
        SaleFactory(project=project, external_id=cell, category=cell, total=Decimal("-2.50"),
                    created_at=now - datetime.timedelta(minutes=position))  # fmt: skip
    response = client.get(path.split("?")[0], {"period": "all", **({"project": "alpha"} if "?" in path else {})})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    expected = ["'" + cell for cell in cells[:-1]] + ["plain"]
    assert [row["external_id"] for row in rows] == expected
    assert [row["category"] for row in rows] == expected
    assert {row["total"] for row in rows} == {"-2.50"}  # numbers are numbers, even negative ones
