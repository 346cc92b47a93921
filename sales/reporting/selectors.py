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
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Rank
from django.utils import timezone

from apikeys.models import Project
from inventory.models import Product
from sales.ledger.models import Sale, SaleStatus
from sales.ledger.selectors import converted_rows
from sales.reporting.models import ChannelSales, ProductMonthSales, ProductSales
from salesledger.money import quantize
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


def _channel_days_sql(*, project: Project, since: datetime.datetime, until, channel: str | None) -> tuple[str, list]:
    """The WHERE clause (and its parameters) of the ChannelSales rows of a period: an index-only range
    scan of the (project, day) index. `since` and `until` are the period's local midnights (`dashboard_period`)."""
    days = _local_days(project=project, since=since, until=until)
    where, params = "project_id = %s AND day >= %s", [project.pk, days["day__gte"]]
    if "day__lt" in days:
        where, params = where + " AND day < %s", [*params, days["day__lt"]]
    if channel:
        where, params = where + " AND channel = %s", [*params, channel]
    return where, params


def _fetch(sql: str, params: list, fields: list) -> list:
    """The rows of one hand-written statement, each column read as its model field in `fields` reads it."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return converted_rows(cursor.fetchall(), fields)


def revenue_per_day(
    *, project: Project, since: datetime.datetime, until: datetime.datetime | None = None, channel: str | None = None
) -> list[DayRevenue]:
    """Revenue per local day, channel and currency (a sum is only meaningful within one currency)."""
    where, params = _channel_days_sql(project=project, since=since, until=until, channel=channel)
    # The sales not cancelled per (day, channel, currency), in that order; a key whose deltas sum to no
    # sale (all of its sales cancelled or deleted since) is left out.
    rows = _fetch(
        f"""SELECT day, channel, currency, SUM(revenue) FROM sales_channelsales
        WHERE {where} AND status != %s GROUP BY day, channel, currency HAVING SUM(sales) > 0
        ORDER BY day, channel, currency""",
        [*params, SaleStatus.CANCELLED],
        [ChannelSales._meta.get_field("day"), None, None, ChannelSales._meta.get_field("revenue")],
    )
    return [DayRevenue(day=day, channel=channel, currency=currency, revenue=revenue)
            for day, channel, currency, revenue in rows]  # fmt: skip


def sales_count_per_status(
    *, project: Project, since: datetime.datetime, until: datetime.datetime | None = None, channel: str | None = None
) -> dict[str, int]:
    """How many sales of the period are in each status; every status is present, zero or not."""
    where, params = _channel_days_sql(project=project, since=since, until=until, channel=channel)
    # One row per status that has rows in the period: its sales summed (a whole number on both databases).
    rows = _fetch(
        f"SELECT status, CAST(SUM(sales) AS BIGINT) FROM sales_channelsales WHERE {where} GROUP BY status", params, []
    )
    counts = dict.fromkeys(SaleStatus.values, 0)
    counts.update(rows)
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

    Read from the trigger-kept ProductSales rollup like `revenue_per_day`, summed per product, then
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
        parts.append(f"""SELECT product_id, lines, revenue FROM sales_productmonthsales
            WHERE project_id = %s AND currency = %s AND month IN ({", ".join(["%s"] * len(months))})""")
        params += [project.pk, project.currency, *months]
    for sign, first, end in day_ranges:
        parts.append(f"""SELECT product_id, {sign}lines, {sign}revenue FROM sales_productsales
            WHERE project_id = %s AND currency = %s AND day >= %s{" AND day < %s" if end else ""}""")
        params += [project.pk, project.currency, first, *([end] if end else [])]
    ranked = _fetch(
        TOP_PRODUCTS.format(parts="\n                UNION ALL\n                ".join(parts)),
        [*params, limit],
        [Product._meta.pk, None, ProductMonthSales._meta.get_field("revenue")],
    )
    return [
        ProductRevenue(product_id=product_id, name=name, revenue=revenue)
        for product_id, name, revenue in sorted(ranked, key=lambda row: (-row[2], row[1] or ""))[:limit]
    ]


# The top products of a period in the project's currency: the rows of `parts` (the month rollup's whole
# months, the day rollup's days signed + or -) summed per product and ranked by revenue, in SQL that
# PostgreSQL and SQLite read alike. Only the products that can make the list (those tied at its end
# included) get their name looked up, each by its primary key (a join let the planner, which cannot tell
# how few rows the rank keeps, hash every product of the project). PostgreSQL's sum of a numeric costs
# most per product, not per row: the statement sums no more than the ranking needs.
TOP_PRODUCTS = """SELECT product_id,
    (SELECT product.name FROM inventory_product AS product WHERE product.id = places.product_id), revenue
FROM (
    SELECT product_id, revenue, RANK() OVER (ORDER BY revenue DESC) AS place FROM (
        SELECT product_id, SUM(lines) AS lines, SUM(revenue) AS revenue FROM (
                {parts}
        ) AS rollup GROUP BY product_id HAVING SUM(lines) > 0
    ) AS sums
) AS places WHERE place <= %s"""


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
        .annotate(sold_lines=Sum("lines"), revenue=Sum("revenue"))
        .filter(sold_lines__gt=0)
        # Ranked by revenue before any name is looked up: only the products that can make the list
        # (those tied at its end included) get one, not every product sold in the period.
        .annotate(place=Window(Rank(), order_by=F("revenue").desc()))
        .filter(place__lte=limit)
        .annotate(name=Subquery(Product.objects.filter(pk=OuterRef("product_id")).order_by().values("name")))
        .order_by("-revenue")
    )
    return [
        ProductRevenue(product_id=row["product_id"], name=row["name"], revenue=row["revenue"])
        for row in sorted(ranked, key=lambda row: (-row["revenue"], row["name"]))[:limit]
    ]


def _top_products_converted(*, project: Project, rows: QuerySet, rates: RateTable, limit: int) -> list[ProductRevenue]:
    """`top_products_by_revenue` across currencies: the sums per (product, day, currency) converted and
    added up here (a few rows per product and day), then the names of the products kept."""
    revenue = defaultdict(Decimal)
    sums = (
        rows.values("product_id", "day", "currency")
        .annotate(sold_lines=Sum("lines"), revenue=Sum("revenue"))
        .filter(sold_lines__gt=0)
        .order_by()
    )
    for row in sums:
        amount = row["revenue"]
        if row["currency"] != project.currency:
            amount = rates.convert(amount, from_currency=row["currency"], to_currency=project.currency, day=row["day"])
            if amount is None:
                continue
        revenue[row["product_id"]] += amount
    # Only the products that can make the list (those tied at its end included) get their name looked up.
    ordered = sorted(revenue.values(), reverse=True)
    cutoff = ordered[limit - 1] if len(ordered) >= limit else None
    kept = [product_id for product_id, amount in revenue.items() if cutoff is None or amount >= cutoff]
    names = dict(Product.objects.filter(pk__in=kept).order_by().values_list("pk", "name"))
    ranked = sorted(kept, key=lambda product_id: (-revenue[product_id], names.get(product_id, "")))[:limit]
    return [
        ProductRevenue(product_id=product_id, name=names.get(product_id, ""),
                       revenue=quantize(revenue[product_id], project.currency))
        for product_id in ranked
    ]  # fmt: skip


def low_stock_products(*, project: Project, threshold: int = LOW_STOCK_THRESHOLD, limit: int = 10) -> list[LowStock]:
    """Active products without variants, and variants, with at most `threshold` units available, fewest
    first. A product with variants keeps its stock in them: its own (empty) counter is not listed."""
    # The counters of the project's active products, filtered and ordered on the expression
    # `on_hand - reserved` (the inventory's expression index) and then by name, with the names.
    rows = _fetch(
        """SELECT stock.product_id, stock.on_hand, stock.reserved, stock.on_hand - stock.reserved,
            product.name, variant.name
        FROM inventory_stock AS stock
        INNER JOIN inventory_product AS product ON stock.product_id = product.id
        LEFT OUTER JOIN inventory_variant AS variant ON stock.variant_id = variant.id
        WHERE product.active AND product.project_id = %s
            AND (stock.variant_id IS NOT NULL
                 OR NOT EXISTS (SELECT 1 FROM inventory_variant AS other WHERE other.product_id = stock.product_id))
            AND stock.on_hand - stock.reserved <= %s
        ORDER BY 4, 5, 6 LIMIT %s""",
        [project.pk, threshold, limit],
        [Product._meta.pk],
    )
    return [
        LowStock(product_id=product_id, name=f"{name} / {variant}" if variant else name, on_hand=on_hand,
                 reserved=reserved, available=available)
        for product_id, on_hand, reserved, available, name, variant in rows
    ]  # fmt: skip


def conversions_per_day(
    *, project: Project, since: datetime.datetime, until: datetime.datetime | None = None
) -> list[DayConversions]:
    """Tracked sale events per local day: how many, and their amount in US cents."""
    # The events of the period (a range of the (project, created_at) index) counted and summed (a whole
    # number on both databases) per local day, the day computed as Django's TruncDate computes it.
    day, day_params = connection.ops.datetime_cast_date_sql('"created_at"', (), project.time_zone)
    adapt = connection.ops.adapt_datetimefield_value
    where, params = "project_id = %s AND created_at >= %s", [project.pk, adapt(since)]
    if until is not None:
        where, params = where + " AND created_at < %s", [*params, adapt(until)]
    rows = _fetch(
        f"""SELECT {day}, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM tracking_saleevent WHERE {where}
        GROUP BY 1 ORDER BY 1""",
        [*day_params, *params],
        [ChannelSales._meta.get_field("day")],  # read as the rollups' local days are
    )
    return [DayConversions(day=day, count=count, usd_cents=usd_cents) for day, count, usd_cents in rows]


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
