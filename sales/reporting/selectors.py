"""The sales dashboard's numbers: one aggregate query per chart, each a range scan of the period in a
(project, time) index: of the trigger-kept rollups (sales/reporting/models.py) for the sales charts.

Days are the project's local calendar days. Revenue counts pending and confirmed sales, never
cancelled ones; a refund (a sale with a negative total) lowers it.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Rank, TruncDate
from django.utils import timezone

from apikeys.models import Project
from inventory.models import Product, Stock, Variant
from sales.ledger.models import Sale, SaleStatus
from sales.ledger.selectors import converted_rows
from sales.reporting.models import ChannelSales, ProductMonthSales, ProductSales
from salesledger.money import quantize
from tracking.models import SaleEvent
from tracking.selectors import RateTable

PERIODS = (30, 90)
LOW_STOCK_THRESHOLD = 5


@dataclass(frozen=True)
class Period:
    """The last `days` local days of a project, today included: from the first day's midnight
    (`start`) to tomorrow's (`end`), so a sale dated in the future is not counted in it."""

    days: list[datetime.date]
    start: datetime.datetime
    end: datetime.datetime


@dataclass(frozen=True)
class DayRevenue:
    day: datetime.date
    channel: str
    currency: str
    revenue: Decimal


@dataclass(frozen=True)
class ProductRevenue:
    product_id: object
    name: str
    quantity: Decimal
    revenue: Decimal


@dataclass(frozen=True)
class LowStock:
    product_id: object
    name: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class DayConversions:
    day: datetime.date
    count: int
    usd_cents: int


def dashboard_period(*, project: Project, days: int, now: datetime.datetime | None = None) -> Period:
    """The period of `days` days ending today in the project's time zone."""
    today = timezone.localtime(now or timezone.now(), project.tzinfo).date()
    first = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=project.tzinfo)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tzinfo=project.tzinfo)
    return Period(days=[first + datetime.timedelta(days=offset) for offset in range(days)], start=start, end=end)


def _sales(*, project: Project, since: datetime.datetime | None, until, channel: str | None) -> QuerySet[Sale]:
    queryset = Sale.objects.filter(project=project)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.filter(channel=channel) if channel else queryset


def _local_days(*, project: Project, since: datetime.datetime, until) -> dict:
    """Filters on a rollup's `day` for the local days from midnight `since` to midnight `until`."""
    days = {"day__gte": timezone.localtime(since, project.tzinfo).date()}
    if until is not None:
        days["day__lt"] = timezone.localtime(until, project.tzinfo).date()
    return days


def _channel_sales(*, project: Project, since: datetime.datetime, until, channel: str | None) -> QuerySet:
    """The period's rows of the trigger-kept ChannelSales rollup (sales per local day): an index-only
    range scan. `since` and `until` are the period's local midnights (`dashboard_period`)."""
    rows = ChannelSales.objects.filter(project=project, **_local_days(project=project, since=since, until=until))
    return rows.filter(channel=channel) if channel else rows


def revenue_per_day(
    *, project: Project, since: datetime.datetime, until: datetime.datetime | None = None, channel: str | None = None
) -> list[DayRevenue]:
    """Revenue per local day, channel and currency (a sum is only meaningful within one currency)."""
    rows = (
        _channel_sales(project=project, since=since, until=until, channel=channel)
        .exclude(status=SaleStatus.CANCELLED)
        .values("day", "channel", "currency")
        .annotate(sold=Sum("sales"), revenue=Sum("revenue"))
        .filter(sold__gt=0)
        .order_by("day", "channel", "currency")
    )
    return [DayRevenue(day=row["day"], channel=row["channel"], currency=row["currency"], revenue=row["revenue"])
            for row in rows]  # fmt: skip


def sales_count_per_status(
    *, project: Project, since: datetime.datetime, until: datetime.datetime | None = None, channel: str | None = None
) -> dict[str, int]:
    """How many sales of the period are in each status; every status is present, zero or not."""
    rows = (
        _channel_sales(project=project, since=since, until=until, channel=channel)
        .values("status")
        .annotate(count=Sum("sales"))
        .order_by("status")
    )
    counts = dict.fromkeys(SaleStatus.values, 0)
    counts.update({row["status"]: row["count"] for row in rows})
    return counts


def top_products_by_revenue(
    *,
    project: Project,
    since: datetime.datetime,
    until: datetime.datetime | None = None,
    channel: str | None = None,
    limit: int = 10,
    rates: RateTable | None = None,
) -> list[ProductRevenue]:
    """The products whose lines brought the most revenue in the project's currency over the period.

    Read from the trigger-kept ProductSales rollup like `_channel_sales`, summed per product, then
    the names of the products kept. With `rates` (the period has sales in other currencies), lines in
    another currency count too, converted at the rate of their day; those without a rate are left out.
    """
    days = _local_days(project=project, since=since, until=until)
    if channel or rates is not None:
        rows = ProductSales.objects.filter(project=project, **days)
        rows = rows.filter(channel=channel) if channel else rows
        if rates is not None:
            return _top_products_converted(project=project, rows=rows, rates=rates, limit=limit)
        return _top_products_of_days(project=project, rows=rows.filter(currency=project.currency), limit=limit)
    today = timezone.localdate(timezone=project.tzinfo)
    months, day_ranges = _months_and_days(first=days["day__gte"], end=days.get("day__lt"), today=today)
    parts, params = [], []
    if months:
        parts.append(f"""SELECT product_id, lines, quantity, revenue FROM sales_productmonthsales
            WHERE project_id = %s AND currency = %s AND month IN ({", ".join(["%s"] * len(months))})""")
        params += [project.pk, project.currency, *months]
    for sign, first, end in day_ranges:
        parts.append(f"""SELECT product_id, {sign}lines, {sign}quantity, {sign}revenue FROM sales_productsales
            WHERE project_id = %s AND currency = %s AND day >= %s{" AND day < %s" if end else ""}""")
        params += [project.pk, project.currency, first, *([end] if end else [])]
    with connection.cursor() as cursor:
        cursor.execute(TOP_PRODUCTS.format(parts="\n            UNION ALL\n            ".join(parts)), [*params, limit])
        sums = [ProductMonthSales._meta.get_field(name) for name in ("quantity", "revenue")]
        ranked = converted_rows(cursor.fetchall(), [Product._meta.pk, None, *sums])
    return [
        ProductRevenue(product_id=product_id, name=name, quantity=quantity, revenue=revenue)
        for product_id, name, quantity, revenue in sorted(ranked, key=lambda row: (-row[3], row[1] or ""))[:limit]
    ]


# The top products of a period in the project's currency: the rows of `parts` (the month rollup's whole
# months, the day rollup's days signed + or -) summed per product and ranked by revenue, in SQL that
# PostgreSQL and SQLite read alike; only the products that can make the list (those tied at its end
# included) get their name looked up.
TOP_PRODUCTS = """SELECT ranked.product_id, product.name, ranked.quantity, ranked.revenue FROM (
    SELECT product_id, quantity, revenue, RANK() OVER (ORDER BY revenue DESC) AS place FROM (
        SELECT product_id, SUM(lines) AS lines, SUM(quantity) AS quantity, SUM(revenue) AS revenue FROM (
            {parts}
        ) AS rollup GROUP BY product_id HAVING SUM(lines) > 0
    ) AS sums
) AS ranked LEFT JOIN inventory_product AS product ON product.id = ranked.product_id
WHERE ranked.place <= %s"""


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=31)).replace(day=1)


def _months_and_days(*, first: datetime.date, end: datetime.date | None, today: datetime.date) -> tuple[list, list]:
    """The local days from `first` to `end` (excluded; None: no end) as whole months of the month
    rollup and signed ranges (sign, first, end or None) of the day rollup. A month only partly in the
    period is read as its days in the period, or as the whole month less its other days, whichever
    has fewer days up to `today` (days after it have next to no rows). Exact either way."""
    last_month = (end - datetime.timedelta(days=1) if end else max(first, today)).replace(day=1)
    tomorrow = today + datetime.timedelta(days=1)

    def past_days(start, stop):
        return max((min(stop, tomorrow) - start).days, 0)

    months, day_ranges, month = [], [], first.replace(day=1)
    while month <= last_month:
        following = _next_month(month)
        inside = (max(month, first), min(following, end) if end else following)
        outside = [days for days in ((month, inside[0]), (inside[1], following)) if days[0] < days[1]]
        if sum(past_days(*days) for days in outside) <= past_days(*inside):
            months.append(month)
            day_ranges += [("-", *days) for days in outside]
        else:
            day_ranges.append(("", *inside))
        month = following
    if end is None:  # sales dated after the last month
        day_ranges.append(("", _next_month(last_month), None))
    return months, day_ranges


def _top_products_of_days(*, project: Project, rows: QuerySet, limit: int) -> list[ProductRevenue]:
    """`top_products_by_revenue` of day rows in the project's currency (a channel's: a sixth of them)."""
    ranked = (
        rows.values("product_id")
        .annotate(sold_lines=Sum("lines"), quantity=Sum("quantity"), revenue=Sum("revenue"))
        .filter(sold_lines__gt=0)
        # Ranked by revenue before any name is looked up: only the products that can make the list
        # (those tied at its end included) get one, not every product sold in the period.
        .annotate(place=Window(Rank(), order_by=F("revenue").desc()))
        .filter(place__lte=limit)
        .annotate(name=Subquery(Product.objects.filter(pk=OuterRef("product_id")).order_by().values("name")))
        .order_by("-revenue")
    )
    return [
        ProductRevenue(product_id=row["product_id"], name=row["name"], quantity=row["quantity"], revenue=row["revenue"])
        for row in sorted(ranked, key=lambda row: (-row["revenue"], row["name"]))[:limit]
    ]


def _top_products_converted(*, project: Project, rows: QuerySet, rates: RateTable, limit: int) -> list[ProductRevenue]:
    """`top_products_by_revenue` across currencies: the sums per (product, day, currency) converted and
    added up here (a few rows per product and day), then the names of the products kept."""
    quantity, revenue = defaultdict(Decimal), defaultdict(Decimal)
    sums = (
        rows.values("product_id", "day", "currency")
        .annotate(sold_lines=Sum("lines"), quantity=Sum("quantity"), revenue=Sum("revenue"))
        .filter(sold_lines__gt=0)
        .order_by()
    )
    for row in sums:
        amount = row["revenue"]
        if row["currency"] != project.currency:
            amount = rates.convert(amount, from_currency=row["currency"], to_currency=project.currency, day=row["day"])
            if amount is None:
                continue
        quantity[row["product_id"]] += row["quantity"]
        revenue[row["product_id"]] += amount
    # Only the products that can make the list (those tied at its end included) get their name looked up.
    ordered = sorted(revenue.values(), reverse=True)
    cutoff = ordered[limit - 1] if len(ordered) >= limit else None
    kept = [product_id for product_id, amount in revenue.items() if cutoff is None or amount >= cutoff]
    names = dict(Product.objects.filter(pk__in=kept).order_by().values_list("pk", "name"))
    ranked = sorted(kept, key=lambda product_id: (-revenue[product_id], names.get(product_id, "")))[:limit]
    return [
        ProductRevenue(product_id=product_id, name=names.get(product_id, ""), quantity=quantity[product_id],
                       revenue=quantize(revenue[product_id], project.currency))
        for product_id in ranked
    ]  # fmt: skip


def low_stock_products(*, project: Project, threshold: int = LOW_STOCK_THRESHOLD, limit: int = 10) -> list[LowStock]:
    """Active products without variants, and variants, with at most `threshold` units available, fewest
    first. A product with variants keeps its stock in them: its own (empty) counter is not listed."""
    has_variants = Exists(Variant.objects.filter(product_id=OuterRef("product_id")))
    rows = (
        Stock.objects.filter(product__project=project, product__active=True)
        .filter(Q(variant__isnull=False) | ~has_variants)
        .annotate(available=F("on_hand") - F("reserved"))
        .filter(available__lte=threshold)
        .values("product_id", "on_hand", "reserved", "available", "product__name", "variant__name")
        .order_by("available", "product__name", "variant__name")[:limit]
    )
    return [
        LowStock(
            product_id=row["product_id"],
            name=f"{row['product__name']} / {row['variant__name']}" if row["variant__name"] else row["product__name"],
            on_hand=row["on_hand"],
            reserved=row["reserved"],
            available=row["available"],
        )
        for row in rows
    ]


def conversions_per_day(
    *, project: Project, since: datetime.datetime, until: datetime.datetime | None = None
) -> list[DayConversions]:
    """Tracked sale events per local day: how many, and their amount in US cents."""
    events = SaleEvent.objects.filter(project=project, created_at__gte=since)
    rows = (
        (events.filter(created_at__lt=until) if until is not None else events)
        .annotate(day=TruncDate("created_at", tzinfo=project.tzinfo))
        .values("day")
        .annotate(count=Count("*"), usd_cents=Sum("amount"))
        .order_by("day")
    )
    return [DayConversions(**row) for row in rows]


EXPORT_COLUMNS = (
    "id", "created_at", "channel", "status", "currency", "subtotal", "discount", "shipping", "tax", "total",
    "external_id", "original_state", "sale_type", "category", "location_id", "customer_id", "confirmed_at",
    "cancelled_at",
)  # fmt: skip


def sales_for_export(
    *,
    project: Project,
    since: datetime.datetime | None,
    until: datetime.datetime | None = None,
    channel: str | None = None,
) -> QuerySet:
    """The sales from `since` to `until` (None: no bound) as rows of EXPORT_COLUMNS, newest first,
    in the order of the (project, created_at, id) index."""
    return (
        _sales(project=project, since=since, until=until, channel=channel)
        .order_by("-created_at", "-id")
        .values_list(*EXPORT_COLUMNS)
    )
