"""The dashboard's numbers, exactly, against sales created here; and one query per chart."""

import datetime
from decimal import Decimal

import pytest

from inventory.services.catalogue import product_create
from sales.reporting.selectors import (
    DayConversions,
    DayRevenue,
    LowStock,
    ProductRevenue,
    conversions_per_day,
    dashboard_period,
    low_stock_products,
    revenue_per_day,
    sales_count_per_status,
    sales_for_export,
    top_products_by_revenue,
)
from tests.factories import (
    ProductFactory,
    SaleEventFactory,
    SaleFactory,
    SaleLineFactory,
)
from tracking.models import ExchangeRate
from tracking.selectors import exchange_rate_table
from tracking.services import exchange_rates_load

UTC = datetime.UTC
NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY1, DAY2 = datetime.date(2026, 3, 9), datetime.date(2026, 3, 10)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=UTC)


@pytest.fixture
def since(project):
    return dashboard_period(project=project, days=30, now=NOW).start


@pytest.fixture
def ledger(project, other_project):
    """Sales of two days in project A (one cancelled, one refund, one in EUR), an old one and one of B."""
    sales = {
        "sells_confirmed": SaleFactory(project=project, channel="sells", status="confirmed", total=Decimal("100.00"),
                                       created_at=at(DAY1)),
        "sells_pending": SaleFactory(project=project, channel="sells", total=Decimal("50.50"), created_at=at(DAY1, 11)),
        "costtrack": SaleFactory(project=project, channel="costtrack", total=Decimal("20.00"), created_at=at(DAY1, 12)),
        "cancelled": SaleFactory(project=project, channel="sells", status="cancelled", total=Decimal("999.00"),
                                 created_at=at(DAY1, 13)),
        "pos": SaleFactory(project=project, channel="connecteam", status="confirmed", total=Decimal("80.00"),
                           created_at=at(DAY2, 8)),
        "refund": SaleFactory(project=project, channel="connecteam", status="confirmed", total=Decimal("-30.00"),
                              sale_type="REFUND", created_at=at(DAY2, 9)),
        "euro": SaleFactory(project=project, channel="sells", currency="EUR", total=Decimal("10.00"),
                            created_at=at(DAY2, 10)),
        "old": SaleFactory(project=project, channel="sells", total=Decimal("500.00"),
                           created_at=at(datetime.date(2026, 1, 1))),
        "other": SaleFactory(project=other_project, channel="sells", total=Decimal("77.00"), created_at=at(DAY2)),
    }  # fmt: skip
    return sales


def test_the_period_is_the_last_days_of_the_project_calendar(project):
    project.time_zone = "Pacific/Auckland"
    period = dashboard_period(project=project, days=30, now=NOW)
    # 12:00 UTC on the 10th is already the 11th in Auckland: the 30 days end there.
    assert period.days[0] == datetime.date(2026, 2, 10)
    assert period.days[-1] == datetime.date(2026, 3, 11)
    assert len(period.days) == 30
    assert period.start == datetime.datetime(2026, 2, 10, tzinfo=project.tzinfo)
    assert period.end == datetime.datetime(2026, 3, 12, tzinfo=project.tzinfo)


def test_revenue_per_day_by_channel_excludes_cancelled_and_counts_refunds_negative(ledger, project, since):
    assert revenue_per_day(project=project, since=since) == [
        DayRevenue(day=DAY1, channel="costtrack", currency="USD", revenue=Decimal("20.00")),
        DayRevenue(day=DAY1, channel="sells", currency="USD", revenue=Decimal("150.50")),
        DayRevenue(day=DAY2, channel="connecteam", currency="USD", revenue=Decimal("50.00")),
        DayRevenue(day=DAY2, channel="sells", currency="EUR", revenue=Decimal("10.00")),
    ]


def test_sales_dated_after_today_are_not_in_the_period(ledger, project):
    period = dashboard_period(project=project, days=30, now=NOW)
    SaleFactory(project=project, channel="connecteam", total=Decimal("1000.00"), created_at=period.end)
    assert revenue_per_day(project=project, since=period.start, until=period.end, channel="connecteam") == [
        DayRevenue(day=DAY2, channel="connecteam", currency="USD", revenue=Decimal("50.00")),
    ]
    assert sales_count_per_status(project=project, since=period.start, until=period.end, channel="connecteam") == {
        "pending": 0,
        "confirmed": 2,
        "cancelled": 0,
    }


def test_revenue_per_day_filtered_by_channel(ledger, project, since):
    assert revenue_per_day(project=project, since=since, channel="connecteam") == [
        DayRevenue(day=DAY2, channel="connecteam", currency="USD", revenue=Decimal("50.00")),
    ]


def test_revenue_days_are_the_project_local_days(project):
    project.time_zone = "Pacific/Auckland"  # UTC+13 in March: 12:00 UTC on the 9th is the 10th there
    project.save()
    SaleFactory(project=project, channel="sells", total=Decimal("5.00"), created_at=at(DAY1, 12))
    since = dashboard_period(project=project, days=30, now=NOW).start
    assert revenue_per_day(project=project, since=since) == [
        DayRevenue(day=DAY2, channel="sells", currency="USD", revenue=Decimal("5.00"))
    ]


def test_sales_count_per_status(ledger, project, since):
    assert sales_count_per_status(project=project, since=since) == {"pending": 3, "confirmed": 3, "cancelled": 1}
    assert sales_count_per_status(project=project, since=since, channel="sells") == {
        "pending": 2,
        "confirmed": 1,
        "cancelled": 1,
    }
    assert sales_count_per_status(project=project, since=since, channel="admin") == {
        "pending": 0,
        "confirmed": 0,
        "cancelled": 0,
    }


def test_top_products_by_revenue_in_the_project_currency(ledger, project, since):
    mug, tea = (
        ProductFactory(project=project, name="Mug", stock=100),
        ProductFactory(project=project, name="Tea", stock=100),
    )
    SaleLineFactory(sale=ledger["sells_confirmed"], product=mug, quantity=2, unit_price=Decimal("10.00"), position=0)
    SaleLineFactory(sale=ledger["sells_confirmed"], product=tea, quantity=1, unit_price=Decimal("5.00"), position=1)
    SaleLineFactory(sale=ledger["costtrack"], product=tea, quantity=3, unit_price=Decimal("5.00"), position=0)
    SaleLineFactory(sale=ledger["cancelled"], product=tea, quantity=9, unit_price=Decimal("100.00"))
    SaleLineFactory(sale=ledger["euro"], product=tea, quantity=9, unit_price=Decimal("100.00"))
    SaleLineFactory(sale=ledger["old"], product=mug, quantity=9, unit_price=Decimal("100.00"))
    SaleLineFactory(sale=ledger["sells_pending"], product=None, product_name="Gift wrap", unit_price=Decimal("1.00"))

    assert top_products_by_revenue(project=project, since=since) == [
        ProductRevenue(product_id=mug.id, name="Mug", revenue=Decimal("20.00")),
        ProductRevenue(product_id=tea.id, name="Tea", revenue=Decimal("20.00")),
    ]
    assert top_products_by_revenue(project=project, since=since, channel="costtrack") == [
        ProductRevenue(product_id=tea.id, name="Tea", revenue=Decimal("15.00")),
    ]
    assert top_products_by_revenue(project=project, since=since, limit=1)[0].name == "Mug"


@pytest.mark.parametrize(
    ("first", "end"),
    [
        ("2026-01-20", "2026-03-11"),  # a partial month, a whole one, a partial one
        ("2026-02-01", "2026-03-01"),  # one whole month
        ("2026-01-31", "2026-02-02"),  # two days, across a month's end
        ("2026-02-14", "2026-02-15"),  # one day
        ("2026-02-02", None),  # no end: sales dated in the future count too
        ("2025-12-01", "2027-02-01"),  # months without sales, and the future
    ],
)
def test_top_products_read_whole_months_and_the_days_of_partial_months_exactly(
    project, first, end, django_assert_num_queries
):
    """Months from the month rollup, less or plus days from the day rollup: the same sums as the lines."""
    products = [ProductFactory(project=project, name=name, stock=100) for name in "ABCDE"]
    days = ["2026-01-15", "2026-01-31", "2026-02-01", "2026-02-14", "2026-02-28", "2026-03-01", "2026-03-10",
            "2027-01-05"]  # fmt: skip
    expected = {}
    for index, day in enumerate(days):
        sale = SaleFactory(project=project, channel="sells", created_at=at(datetime.date.fromisoformat(day)))
        for position, product in enumerate(products[index % 3 : index % 3 + 3]):
            price = Decimal(index * 10 + position + 1)
            SaleLineFactory(sale=sale, product=product, quantity=1, unit_price=price, position=position)
            if day >= first and (end is None or day < end):
                expected[product.name] = expected.get(product.name, 0) + price
    since = datetime.datetime.fromisoformat(first).replace(tzinfo=UTC)
    until = end and datetime.datetime.fromisoformat(end).replace(tzinfo=UTC)
    with django_assert_num_queries(1):
        top = top_products_by_revenue(project=project, since=since, until=until)
    assert {row.name: row.revenue for row in top} == expected
    assert [row.revenue for row in top] == sorted(expected.values(), reverse=True)


def test_top_products_convert_other_currencies_at_the_rate_of_their_day(ledger, project, since):
    mug = ProductFactory(project=project, name="Mug", stock=100)
    tea = ProductFactory(project=project, name="Tea", stock=100)
    dates = ProductFactory(project=project, name="Dates", stock=100)
    SaleLineFactory(sale=ledger["sells_confirmed"], product=mug, quantity=2, unit_price=Decimal("10.00"), position=0)
    SaleLineFactory(sale=ledger["sells_confirmed"], product=tea, quantity=1, unit_price=Decimal("5.00"), position=1)
    SaleLineFactory(sale=ledger["euro"], product=tea, quantity=9, unit_price=Decimal("100.00"))
    dirhams = SaleFactory(project=project, channel="sells", currency="AED", total=Decimal(5000), created_at=at(DAY2))
    SaleLineFactory(sale=dirhams, product=dates, quantity=1, unit_price=Decimal(5000))
    ExchangeRate.objects.all().delete()
    exchange_rates_load(rows=[("EUR", Decimal("0.5"), DAY1)])
    rates = exchange_rate_table(currencies={"USD", "EUR", "AED"}, until=DAY2)

    # 5 USD + 900 EUR at 1 USD = 0.5 EUR; the dirham has no rate, so its sale is left out.
    assert top_products_by_revenue(project=project, since=since, rates=rates) == [
        ProductRevenue(product_id=tea.id, name="Tea", revenue=Decimal("1805.00")),
        ProductRevenue(product_id=mug.id, name="Mug", revenue=Decimal("20.00")),
    ]
    assert [row.name for row in top_products_by_revenue(project=project, since=since, rates=rates, limit=1)] == ["Tea"]


def test_low_stock_reads_the_counters_of_active_products(project, other_project):
    low = ProductFactory(project=project, name="Low", stock=3, reserved=1)
    edge = ProductFactory(project=project, name="Edge", stock=10, reserved=5)
    ProductFactory(project=project, name="Plenty", stock=100)
    ProductFactory(project=project, name="Retired", active=False)
    ProductFactory(project=other_project, name="Theirs")

    assert low_stock_products(project=project) == [
        LowStock(product_id=low.pk, name="Low", on_hand=3, reserved=1, available=2),
        LowStock(product_id=edge.pk, name="Edge", on_hand=10, reserved=5, available=5),
    ]


def test_low_stock_lists_the_variants_of_a_product_never_its_empty_own_counter(project, owner):
    mouse = product_create(project=project, name="Mouse", price=Decimal(1), actor_user=owner, variants=[
        {"name": "Black", "stock_on_hand": 40}, {"name": "Red", "stock_on_hand": 3}])  # fmt: skip

    assert low_stock_products(project=project) == [
        LowStock(product_id=mouse.pk, name="Mouse / Red", on_hand=3, reserved=0, available=3),
    ]


def test_conversions_per_day_in_usd_cents(project, other_project, since):
    SaleEventFactory(project=project, amount=1999, created_at=at(DAY1))
    SaleEventFactory(project=project, amount=1, created_at=at(DAY1, 20))
    SaleEventFactory(project=project, amount=500, created_at=at(DAY2))
    SaleEventFactory(project=project, amount=700, created_at=at(datetime.date(2026, 1, 1)))
    SaleEventFactory(project=other_project, amount=900, created_at=at(DAY2))

    assert conversions_per_day(project=project, since=since) == [
        DayConversions(day=DAY1, count=2, usd_cents=2000),
        DayConversions(day=DAY2, count=1, usd_cents=500),
    ]


def test_export_rows_are_the_period_newest_first(ledger, project, since):
    rows = list(sales_for_export(project=project, since=since, channel="connecteam"))
    assert [(row[0], row[2], row[9]) for row in rows] == [
        (ledger["refund"].id, "connecteam", Decimal("-30.00")),
        (ledger["pos"].id, "connecteam", Decimal("80.00")),
    ]


def test_each_chart_is_one_query(ledger, project, since, django_assert_num_queries):
    for chart in (revenue_per_day, sales_count_per_status, top_products_by_revenue):
        with django_assert_num_queries(1):
            chart(project=project, since=since, channel="sells")
    with django_assert_num_queries(1):
        conversions_per_day(project=project, since=since)
    with django_assert_num_queries(1):
        low_stock_products(project=project)
