"""Upkeep of the trigger-kept rollups (sales/reporting/models.py): folding a key's delta rows into one,
and recomputing them from the ledger after a bulk load that bypassed the triggers."""

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Sum

from apikeys.models import Project
from sales.ledger.models import Sale, SaleLine, SaleStatus
from sales.reporting.models import ChannelSales, LocalDay, ProductMonthSales, ProductSales, SalesTally

# pg_advisory_xact_lock's first key: the namespace of tally compaction locks (any constant int4).
_COMPACT_LOCK_NAMESPACE = 0x7A11
# A (project, user) whose tally has more delta rows than this is folded by the periodic compaction.
TALLY_COMPACT_ROWS = 100


def sales_tally_compact(*, project_id: int, user_id: int) -> None:
    """Replace a (project, user)'s tally rows with one row per status holding their sums.

    One statement deletes the rows and returns what it deleted, and exactly that is added back, so
    rows the triggers insert meanwhile stay as they are, and any number of rows costs the same three
    statements. One compaction runs at a time per (project, user): another one already running makes
    this one return at once. It share-locks the project like the triggers, so a rebuild or the
    project's deletion waits for it or is waited for.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            key = (project_id * 1_000_003 + user_id) % 2**31
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_COMPACT_LOCK_NAMESPACE, key])
            if not cursor.fetchone()[0]:
                return
            cursor.execute("SELECT 1 FROM apikeys_project WHERE id = %s FOR SHARE", [project_id])
            if cursor.fetchone() is None:
                return
        cursor.execute(
            "DELETE FROM sales_salestally WHERE project_id = %s AND user_id = %s RETURNING status, sales, revenue",
            [project_id, user_id],
        )
        sums = defaultdict(lambda: [0, Decimal(0)])
        for status, sales, revenue in cursor.fetchall():
            sums[status][0] += sales
            sums[status][1] += Decimal(str(revenue))  # SQLite returns a float
        SalesTally.objects.bulk_create(
            SalesTally(project_id=project_id, user_id=user_id, status=status, sales=sales, revenue=revenue)
            for status, (sales, revenue) in sums.items()
            if sales or revenue
        )


def sales_tallies_compact(*, min_rows: int = TALLY_COMPACT_ROWS) -> int:
    """Fold the tally of every (project, user) that has more than `min_rows` delta rows
    (`sales_tally_compact` each); returns how many were folded. The periodic upkeep behind
    `manage.py compact_sales_rollups`: reads never write, so the rows pile up until it runs."""
    keys = (
        SalesTally.objects.values_list("project_id", "user_id")
        .annotate(rows=Count("id"))
        .filter(rows__gt=min_rows, user_id__isnull=False)
        .order_by()
    )
    folded = 0
    for project_id, user_id, _ in keys.iterator():
        sales_tally_compact(project_id=project_id, user_id=user_id)
        folded += 1
    return folded


def product_months_compact(*, project_id: int, month) -> None:
    """Replace a project's month rows of `month` with one row per (product, currency) holding their sums,
    as `sales_tally_compact` does for a tally: exactly the rows deleted are added back, summed; the
    project share-locked like the triggers, so a rebuild waits for it or is waited for."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM apikeys_project WHERE id = %s FOR SHARE", [project_id])
            if cursor.fetchone() is None:
                return
        cursor.execute(
            "DELETE FROM sales_productmonthsales WHERE project_id = %s AND month = %s"
            " RETURNING product_id, currency, lines, quantity, revenue",
            [project_id, month],
        )
        sums = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
        for product_id, currency, lines, quantity, revenue in cursor.fetchall():
            key = sums[(product_id, currency)]
            key[0] += lines
            key[1] += Decimal(str(quantity))  # SQLite returns a float
            key[2] += Decimal(str(revenue))
        ProductMonthSales.objects.bulk_create(
            ProductMonthSales(project_id=project_id, product_id=product_id, month=month, currency=currency,
                              lines=lines, quantity=quantity, revenue=revenue)
            for (product_id, currency), (lines, quantity, revenue) in sums.items()
            if lines or quantity or revenue
        )  # fmt: skip


def product_months_compact_all() -> int:
    """Fold every (project, month) of the month rollup holding more than twice as many rows as products
    (`product_months_compact` each); returns how many were folded. Part of `compact_sales_rollups`."""
    months = (
        ProductMonthSales.objects.values_list("project_id", "month")
        .annotate(rows=Count("id"), products=Count("product_id", distinct=True))
        .filter(rows__gt=2 * F("products"))
        .order_by()
    )
    folded = 0
    for project_id, month, _, _ in months.iterator():
        product_months_compact(project_id=project_id, month=month)
        folded += 1
    return folded


def _insert_select(model, queryset: QuerySet, columns: list[str]) -> None:
    """INSERT INTO `model`'s table the rows of `queryset`, whose values() aliases are `columns`."""
    select, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) SELECT {names} FROM ({select}) AS source", params)


def rollups_rebuild(*, project=None) -> None:
    """Recompute the rollups of `project` (None: every project) from the sales and lines as they are.
    Safe while sales are written: they wait for it."""
    sales = Sale.objects.all() if project is None else Sale.objects.filter(project=project)
    lines = SaleLine.objects.filter(sale__in=sales, product__isnull=False).exclude(sale__status=SaleStatus.CANCELLED)
    with transaction.atomic():
        # The projects' rows locked first: the triggers share-lock them, so no sale is written
        # between the delete and the recompute below (it waits, then adds its delta on top).
        projects = Project.objects.all() if project is None else Project.objects.filter(pk=project.pk)
        list(projects.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))
        # The month rows last: deleting the day rows writes their months' negative rows (a trigger).
        for model in (SalesTally, ChannelSales, ProductSales, ProductMonthSales):
            (model.objects.all() if project is None else model.objects.filter(project=project)).delete()
        _insert_select(
            SalesTally,
            sales.order_by()
            .values("project_id", "user_id", "status")
            .annotate(sales=Count("id"), revenue=Sum("total")),
            ["project_id", "user_id", "status", "sales", "revenue"],
        )
        _insert_select(
            ChannelSales,
            sales.order_by()
            .annotate(day=LocalDay("created_at", "project__time_zone"))
            .values("project_id", "day", "channel", "currency", "status")
            .annotate(sales=Count("id"), revenue=Sum("total")),
            ["project_id", "day", "channel", "currency", "status", "sales", "revenue"],
        )
        _insert_select(
            ProductSales,
            lines.order_by()
            .values("product_id")
            .annotate(
                project_id=F("sale__project_id"),
                day=LocalDay("sale__created_at", "sale__project__time_zone"),
                channel=F("sale__channel"),
                currency=F("sale__currency"),
            )
            .values("project_id", "product_id", "day", "channel", "currency")
            .annotate(lines=Count("id"), quantity=Sum("quantity"), revenue=Sum("line_total")),
            ["project_id", "product_id", "day", "channel", "currency", "lines", "quantity", "revenue"],
        )
