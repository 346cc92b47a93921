"""Reads of the sales ledger: lists with their lines and totals, free of N+1."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, Expression, Prefetch, Q, QuerySet, Subquery, Sum, TextField
from django.db.models.functions import Cast, Coalesce, TruncDate

from apikeys.models import Project
from sales.ledger.models import Sale, SaleLine, SaleStatus
from sales.reporting.models import SalesTally
from salesledger import times
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
        raise NotFound(f"Sale '{sale_id}' not found.")
    return sale


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
) -> tuple[list[dict], SalesTotals]:
    """A page of `sales_of_user` (newest first) as dicts of `sale_fields`, each with its "lines" as dicts
    of `line_fields` in position order, and the totals of every sale the filters match (`_user_totals`).

    One statement: the page's sales (their ids picked by the project+user+created_at index) joined to
    their lines, one row per line, with the totals as scalar subqueries beside every row (computed
    once). A page past the end has no row to carry them: its totals are read on their own. Sales in
    other currencies than the project's add the conversion's queries (`_in_project_currency`)."""
    filters = {"status": status, "created_from": created_from, "created_to": created_to}
    totals = _user_totals(project=project, user=user, **filters)
    page = sales_of_user(project=project, user=user, **filters).values("pk")[offset : offset + limit]
    rows = (
        Sale.objects.filter(pk__in=page)
        .order_by("-created_at", "-id", "lines__position", "lines__id")
        .values_list(*sale_fields, "lines__id", *(f"lines__{name}" for name in line_fields), *totals.values())
    )
    sales, sale_width, id_at = [], len(sale_fields), sale_fields.index("id")
    for row in rows:
        if not sales or sales[-1]["id"] != row[id_at]:
            sales.append({**dict(zip(sale_fields, row[:sale_width], strict=True)), "lines": []})
        if row[sale_width] is not None:  # the line's id: None for a sale without lines
            sales[-1]["lines"].append(dict(zip(line_fields, row[sale_width + 1 : -3], strict=True)))
    if sales:
        count, revenue, foreign = row[-3:]
    else:
        count, revenue, foreign = Project.objects.filter(pk=project.pk).values_list(*totals.values()).get()
    if foreign:
        revenue = _in_project_currency(project=project, user=user, revenue=revenue, **filters)
    return sales, SalesTotals(count=count, revenue=revenue)


def _user_totals(*, project, user, status, created_from, created_to) -> dict[str, Expression]:
    """Scalar subqueries of `sales_of_user` with these filters: how many sales ("count"), their revenue
    summed over currencies ("revenue"), and whether any sale it counts is in another currency than the
    project's ("foreign"). Without a time range the count and revenue are the sums of the user's few
    tally rows (exact, kept by the database), whatever the number of sales; with one, aggregates over
    the range of the (project, user, created_at) index. A read never writes: the tally's delta rows are
    folded by `compact_sales_rollups` (cron), not here."""
    sales = sales_of_user(project=project, user=user, status=status, created_from=created_from,
                          created_to=created_to).order_by()  # fmt: skip
    if created_from is not None or created_to is not None:
        counted, count, revenue = sales, Count("id"), Sum("total", filter=~Q(status=SaleStatus.CANCELLED))
    else:
        counted = SalesTally.objects.filter(project=project, user=user, **({"status": status} if status else {}))
        count, revenue = Sum("sales"), Sum("revenue", filter=~Q(status=SaleStatus.CANCELLED))

    def scalar(aggregate, zero):
        return Coalesce(Subquery(counted.values("project").annotate(value=aggregate).values("value")), zero)

    return {
        "count": scalar(count, 0),
        "revenue": scalar(revenue, Decimal(0)),
        "foreign": Exists(_foreign_currency(sales, project=project)),
    }


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
