"""Reads of the sales ledger: lists with their lines and totals, free of N+1."""

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DateTimeField, Prefetch, Q, QuerySet, Sum, TextField, UUIDField
from django.db.models.functions import Cast, Coalesce, TruncDate

from sales.ledger.models import Sale, SaleLine, SaleStatus
from salesledger import times
from salesledger.db import execute_prepared_text, utc_text_sql, uuid_text_sql
from salesledger.errors import NotFound
from tracking.selectors import exchange_rate_table


@dataclass(frozen=True)
class SalesTotals:
    count: int
    revenue: Decimal


def parse_uuid(value) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (an id that can match nothing)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def sale_get(*, queryset: QuerySet[Sale], sale_id) -> Sale:
    """The sale `sale_id` within `queryset` (already scoped to a project). Raises NotFound (404)."""
    sale_uuid = parse_uuid(sale_id)
    sale = queryset.filter(pk=sale_uuid).first() if sale_uuid is not None else None
    if sale is None:
        raise sale_not_found(sale_id)
    return sale


def sale_not_found(sale_id) -> NotFound:
    """The error of a sale `sale_id` that is not in the caller's scope (or not a sale id at all)."""
    return NotFound(f"Sale '{sale_id}' not found.")


def sales_with_lines(queryset: QuerySet[Sale] | None = None) -> QuerySet[Sale]:
    """Sales with their lines prefetched in position order (one extra query per page, whatever its size)."""
    queryset = Sale.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(Prefetch("lines", queryset=SaleLine.objects.order_by("position", "id")))


def sales_of_user(*, project, user, status: str | None = None, created_from=None, created_to=None) -> QuerySet[Sale]:
    """One user's sales in a project, newest first (served by the project+user+created_at index)."""
    queryset = Sale.objects.filter(project=project, user=user)
    if status:
        queryset = queryset.filter(status=status)
    if created_from is not None:
        queryset = queryset.filter(created_at__gte=created_from)
    if created_to is not None:
        queryset = queryset.filter(created_at__lte=created_to)
    return queryset.order_by("-created_at", "-id")


def sales_totals(queryset: QuerySet[Sale]) -> SalesTotals:
    """How many sales `queryset` matches and their revenue, in one aggregate query.

    Revenue counts pending and confirmed sales, never cancelled ones. The sales summed are assumed
    to share the project's currency.
    """
    totals = queryset.order_by().aggregate(
        count=Count("id"),
        revenue=Coalesce(Sum("total", filter=~Q(status=SaleStatus.CANCELLED)), Decimal(0)),
    )
    return SalesTotals(count=totals["count"], revenue=totals["revenue"])


def user_sales_page(
    *,
    project,
    user,
    offset: int,
    limit: int,
    sale_fields: Sequence[str],
    line_fields: Sequence[str],
    status: str | None = None,
    created_from=None,
    created_to=None,
) -> tuple[list[tuple[tuple, list[tuple]]], SalesTotals]:
    """A page of `sales_of_user` (newest first), each sale as a pair: the tuple of its `sale_fields` and the
    list of its lines as tuples of `line_fields`, in position order (tuples: the caller shapes its answer
    from them in one pass; dicts in between cost a fifth of the page's Python), and the totals of every
    sale the filters match, in one statement (USER_SALES_PAGE). Ids (UUIDs) come as their text and times as
    their UTC text to the second (2026-03-07T14:30:00Z), written by the database: loading them into Python
    objects only to write them out again cost more than the rest of the page. Sales in other currencies
    than the project's add the conversion's queries (`_in_project_currency`)."""
    params = [project.pk, user.pk]  # a key always has a user
    if status:
        params.append(status)
    tally_params = list(params)  # the tally has the same three columns
    params += [connection.ops.adapt_datetimefield_value(b) for b in (created_from, created_to) if b is not None]
    statement, fields = _user_sales_page_statement(
        tuple(sale_fields), tuple(line_fields), bool(status), created_from is not None, created_to is not None,
        connection.vendor,
    )  # fmt: skip
    counted = params if len(params) > len(tally_params) else tally_params
    head = [*params, project.currency, *params, project.currency, *counted, *params]
    with connection.cursor() as cursor:
        if offset == 0 and len(params) == len(tally_params):
            # The first page, without a time range: what clients read most, prepared (its plan kept by the
            # session). Its LIMIT is written into the text: PostgreSQL's generic plan of a LIMIT parameter
            # assumes a tenth of the user's sales, and joins them to every line. A client may vary it, so a
            # session prepares a few first pages only (the writes' statements keep their places).
            first_page = statement.replace(PAGE, f"LIMIT {int(limit)}")
            execute_prepared_text(cursor, "sales_sale_user_page_", first_page, head, most=PREPARED_FIRST_PAGES)
        else:
            cursor.execute(statement, [*head, limit, offset])
        rows = converted_rows(cursor.fetchall(), fields)
    count, revenue, foreign = rows[0][:3]
    sales, line_at, id_at, sale_id = [], 3 + len(sale_fields), 3 + sale_fields.index("id"), None
    for row in rows:
        if row[id_at] is None:  # a page past the end: the totals' row alone
            break
        if row[id_at] != sale_id:
            sale_id, lines = row[id_at], []
            sales.append((row[3:line_at], lines))
        if row[line_at] is not None:  # the line's id: None for a sale without lines
            lines.append(row[line_at + 1 :])
    count = int(count)  # a SUM of integers is a numeric on PostgreSQL
    if foreign:
        revenue = _in_project_currency(project=project, user=user, revenue=revenue, status=status,
                                       created_from=created_from, created_to=created_to)  # fmt: skip
    return sales, SalesTotals(count=count, revenue=revenue)


# `GET /sells` in one statement, in SQL that PostgreSQL and SQLite read alike: the totals of every sale
# the filters match, one row (`counted`, and whether any sale it counts is in another currency than the
# project's: the currencies before and after the project's in the (project, user, currency) index, the
# first row of each), joined to the page (picked in the order of the (project, user, created_at) index)
# and then to each sale's lines: one row per line, a sale without lines on a row of its own, a page past
# the end a row of totals alone. Built and run without the ORM because compiling the same statement cost
# more than running it (3.6 ms a request). (The first row in the index's order, not an EXISTS: prepared,
# the EXISTS's generic plan expects to meet a row at once in a sequential scan, and reads a user's sales
# whole when none is in another currency; ordered by currency, it reads the index's two ranges.)
PAGE = "LIMIT %s OFFSET %s"
# The first pages (one per page size and status filter) a session prepares.
PREPARED_FIRST_PAGES = 4
USER_SALES_PAGE = """SELECT totals.sales, totals.revenue,
       COALESCE((SELECT 1 FROM sales_sale WHERE {matching} AND currency < %s AND status <> 'cancelled'
                 ORDER BY currency LIMIT 1),
                (SELECT 1 FROM sales_sale WHERE {matching} AND currency > %s AND status <> 'cancelled'
                 ORDER BY currency LIMIT 1), 0) AS foreign_currency,
       {sale_columns}, line.id, {line_columns}
FROM ({counted}) AS totals
LEFT JOIN (
    SELECT {page_columns} FROM sales_sale WHERE {matching}
    ORDER BY created_at DESC, id DESC {page}
) AS page ON TRUE
LEFT JOIN sales_saleline AS line ON line.sale_id = page.id
ORDER BY page.created_at DESC, page.id DESC, line.position, line.id
"""
# Without a time range the count and revenue are the sums of the user's few tally rows (exact, kept by
# the database), whatever the number of sales; a read never writes: the tally's delta rows are folded
# by `compact_sales_rollups` (cron), not here. With one, aggregates over the range of the index.
TOTALS_OF_TALLY = """SELECT COALESCE(SUM(sales), 0) AS sales,
           COALESCE(SUM(CASE WHEN status <> 'cancelled' THEN revenue END), 0) AS revenue
    FROM sales_salestally WHERE {matching}"""
TOTALS_OF_RANGE = """SELECT COUNT(*) AS sales,
           COALESCE(SUM(CASE WHEN status <> 'cancelled' THEN total END), 0) AS revenue
    FROM sales_sale WHERE {matching}"""


@functools.cache
def _user_sales_page_statement(sale_fields, line_fields, status: bool, since: bool, until: bool, vendor: str):
    """The text of USER_SALES_PAGE for these fields and filters, and the fields to convert its columns
    by, built once per process."""
    matching = ["project_id = %s", "user_id = %s"] + (["status = %s"] if status else [])
    tally_matching = list(matching)
    matching += [
        condition for condition, wanted in (("created_at >= %s", since), ("created_at <= %s", until)) if wanted
    ]
    if len(matching) > len(tally_matching):
        counted = TOTALS_OF_RANGE.format(matching=" AND ".join(matching))
    else:
        counted = TOTALS_OF_TALLY.format(matching=" AND ".join(tally_matching))
    sale_columns = [Sale._meta.get_field(name) for name in sale_fields]
    line_columns = [SaleLine._meta.get_field(name) for name in line_fields]
    statement = USER_SALES_PAGE.format(
        page=PAGE,
        counted=counted,
        matching=" AND ".join(matching),
        page_columns=", ".join(dict.fromkeys(("id", "created_at", *sale_fields))),
        sale_columns=", ".join(_read_as_text("page", field, vendor) for field in sale_columns),
        line_columns=", ".join(_read_as_text("line", field, vendor) for field in line_columns),
    )
    # The count, the revenue (an amount), "foreign", the sale's columns, the line's id and columns; the
    # database's text (ids, times) is converted by nothing.
    fields = [None, Sale._meta.get_field("total"), None]
    fields += [None if _text_kind(field) else field for field in sale_columns]
    fields += [None, *(None if _text_kind(field) else field for field in line_columns)]
    return statement, fields


def _text_kind(field) -> type | None:
    """UUIDField or DateTimeField when `field` (or the key a foreign key refers to) is read as text."""
    target = field.target_field if field.is_relation else field
    return next((kind for kind in (UUIDField, DateTimeField) if isinstance(target, kind)), None)


def _read_as_text(table: str, field, vendor: str) -> str:
    """The SQL reading `field` of `table`: an id or a time as its text (salesledger.db), anything else as it is."""
    column, kind = f"{table}.{field.column}", _text_kind(field)
    if kind is UUIDField:
        return uuid_text_sql(column, vendor=vendor)
    if kind is DateTimeField:
        return utc_text_sql(column, vendor=vendor)
    return column


def converted_rows(rows: list[tuple], fields: list) -> list[tuple]:
    """`rows` with each column read as its model field in `fields` reads it (None: left as it is), by
    Django's own converters for this database: SQLite holds UUIDs, decimals and times as text or
    numbers; psycopg reads them typed, so on PostgreSQL there is nothing to convert."""
    converting = []
    for index, field in enumerate(fields):
        if field is not None:
            column = field.get_col(field.model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            converting += [(index, column, function) for function in functions]
    if not converting:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for index, column, function in converting:
            row[index] = function(row[index], column, connection)
        converted.append(row)
    return converted


def _foreign_currency(sales: QuerySet[Sale], *, project) -> QuerySet[Sale]:
    """The sales of `sales` that revenue counts (not cancelled) in another currency than the project's:
    two ranges of the (project, user, currency) index, empty when every sale is in the project's currency."""
    other = Q(currency__lt=project.currency) | Q(currency__gt=project.currency)
    return sales.filter(other).exclude(status=SaleStatus.CANCELLED)


def _in_project_currency(*, project, user, revenue: Decimal, status, created_from, created_to) -> Decimal:
    """`revenue`, summed over currencies, with the sums in other currencies replaced by their value in
    the project's currency at the rate of each sale's local day. One indexed query for those sums, one
    for the rates. A currency with no rate at all counts nothing."""
    sales = sales_of_user(project=project, user=user, status=status, created_from=created_from,
                          created_to=created_to)  # fmt: skip
    foreign = list(
        _foreign_currency(sales, project=project)
        .annotate(day=TruncDate("created_at", tzinfo=project.tzinfo))
        .values("day", "currency")
        .annotate(revenue=Sum("total"))
        .order_by()
    )
    if not foreign:
        return revenue
    rates = exchange_rate_table(currencies={row["currency"] for row in foreign} | {project.currency},
                                until=max(row["day"] for row in foreign))  # fmt: skip
    for row in foreign:
        converted = rates.convert(row["revenue"], from_currency=row["currency"], to_currency=project.currency,
                                  day=row["day"])  # fmt: skip
        revenue += (converted or 0) - row["revenue"]
    return revenue


@dataclass(frozen=True)
class OutOfRangeTime:
    project: str
    sale_id: uuid.UUID
    channel: str
    external_id: str | None
    field: str
    stored: str  # as the database holds it: it may be a time Python cannot represent


SALE_TIME_FIELDS = ("created_at", "confirmed_at", "cancelled_at")


def sales_with_times_out_of_range() -> list[OutOfRangeTime]:
    """Sales holding a time outside the business range (salesledger.times), compared and printed by
    the database: rows stored before every input was checked, which reads show clamped."""
    found = []
    for name in SALE_TIME_FIELDS:
        rows = (
            Sale.objects.filter(Q(**{f"{name}__lt": times.EARLIEST}) | Q(**{f"{name}__gt": times.LATEST}))
            .annotate(stored=Cast(name, TextField()))
            .order_by("project__slug", "id")
            .values_list("project__slug", "id", "channel", "external_id", "stored")
        )
        found += [
            OutOfRangeTime(slug, pk, channel, external_id, name, stored)
            for slug, pk, channel, external_id, stored in rows
        ]
    return found
