"""The sales dashboard: the owner's project page and the admin's home page, and their CSV export."""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode

from apikeys.models import Project
from apikeys.selectors import projects_owned_by
from sales.ledger.models import SaleChannel
from sales.reporting import charts
from sales.reporting.selectors import (
    EXPORT_COLUMNS,
    PERIODS,
    conversions_per_day,
    dashboard_period,
    low_stock_products,
    revenue_per_day,
    sales_count_per_status,
    sales_for_export,
    top_products_by_revenue,
)
from salesledger.money import quantize
from tracking.selectors import exchange_rate_table

# Rows per streamed chunk: big enough to keep writes few, small enough to keep memory flat.
EXPORT_CHUNK_ROWS = 2000
# The export's extra period: every sale of the project, whatever its date.
ALL_TIME = "all"


class FixedSelect(forms.Select):
    """A select of fixed choices whose HTML is rendered once per process for each of them (and for no
    choice): Django's templates render every option, on every page, otherwise."""

    rendered: dict[tuple, str] = {}

    def render(self, name, value, attrs=None, renderer=None):
        values = tuple(self.format_value(value))
        if not {*values} <= {"", *(str(choice) for choice, _ in self.choices)}:
            return super().render(name, value, attrs, renderer)  # a value no one chose: not kept
        key = (name, values, tuple(self.choices), tuple(sorted(self.build_attrs(self.attrs, attrs).items())))
        if key not in self.rendered:
            self.rendered[key] = super().render(name, value, attrs, renderer)
        return self.rendered[key]


class DashboardFilterForm(forms.Form):
    period = forms.TypedChoiceField(
        choices=[(days, f"Last {days} days") for days in PERIODS],
        coerce=int,
        required=False,
        empty_value=PERIODS[0],
        widget=FixedSelect,
    )
    channel = forms.ChoiceField(
        choices=[("", "All channels"), *SaleChannel.choices], required=False, widget=FixedSelect
    )


class StaffDashboardFilterForm(DashboardFilterForm):
    project = forms.ModelChoiceField(
        queryset=Project.objects.order_by("name"), to_field_name="slug", required=False, empty_label=None
    )

    field_order = ["project", "period", "channel"]


def _filters(form: DashboardFilterForm) -> dict:
    """The form's valid filters; a bad value falls back to its default rather than failing the page."""
    form.is_valid()
    cleaned = form.cleaned_data
    return {"days": cleaned.get("period") or PERIODS[0], "channel": cleaned.get("channel") or None}


def _money(currency: str):
    return lambda value: f"{quantize(value, currency):,}"


def _dashboard(*, project: Project, days: int, channel: str | None) -> dict:
    """Every chart of the dashboard for one project, five queries in all."""
    period = dashboard_period(project=project, days=days)
    revenue = defaultdict(lambda: defaultdict(Decimal))
    other_currencies = defaultdict(Decimal)
    rows = revenue_per_day(project=project, since=period.start, until=period.end, channel=channel)
    foreign = {row.currency for row in rows} - {project.currency}
    # Sales in other currencies are converted at the rates of their day (one more query, only when there are any).
    rates = exchange_rate_table(currencies={*foreign, project.currency}, until=period.days[-1]) if foreign else None
    for row in rows:
        if row.currency == project.currency:
            revenue[row.channel][row.day] += row.revenue
            continue
        converted = rates.convert(row.revenue, from_currency=row.currency, to_currency=project.currency, day=row.day)
        if converted is None:
            other_currencies[row.currency] += row.revenue
        else:
            revenue[row.channel][row.day] += converted
    money, usd = _money(project.currency), _money("USD")
    statuses = sales_count_per_status(project=project, since=period.start, until=period.end, channel=channel)
    top = top_products_by_revenue(project=project, since=period.start, until=period.end, channel=channel, rates=rates)
    conversions = conversions_per_day(project=project, since=period.start, until=period.end)
    return {
        "project": project,
        "days": days,
        "channel": channel,
        "revenue_total": money(sum((value for values in revenue.values() for value in values.values()), Decimal(0))),
        "other_currencies": [(code, _money(code)(amount)) for code, amount in sorted(other_currencies.items())],
        "rates_used": _rates_used(rates),
        "sales_count": sum(statuses.values()),
        "conversions_usd": usd(sum((Decimal(row.usd_cents) / 100 for row in conversions), Decimal(0))),
        "low_stock": low_stock_products(project=project),
        "revenue_chart": charts.stacked_bar_chart(
            days=period.days, series=revenue, fmt=money, label=f"Revenue per day by channel ({project.currency})"
        ),
        "status_chart": charts.horizontal_bar_chart(items=list(statuses.items()), fmt=str, label="Sales per status"),
        "top_products_chart": charts.horizontal_bar_chart(
            items=[(row.name, row.revenue) for row in top], fmt=money, label=f"Top products ({project.currency})"
        ),
        "conversions_chart": charts.line_chart(
            days=period.days,
            values={row.day: Decimal(row.usd_cents) / 100 for row in conversions},
            fmt=usd,
            label="Conversions per day (USD)",
        ),
    }


def _rates_used(rates) -> list[dict]:
    """Per currency, the dates of the rates a dashboard's conversions used and the latest of them."""
    if rates is None:
        return []
    by_currency = defaultdict(list)
    for used in rates.used:
        by_currency[used.currency].append(used)
    summary = []
    for code, used in sorted(by_currency.items()):
        latest = max(used, key=lambda rate: rate.effective_date)
        summary.append({
            "currency": code, "first": min(rate.effective_date for rate in used), "latest": latest.effective_date,
            "rate": f"{latest.rate:.6f}".rstrip("0").rstrip("."),
        })  # fmt: skip
    return summary


def _export_urls(url: str, project: Project | None, filters: dict) -> dict:
    """Links to the CSV of the sales shown, and of all the sales of the channel shown."""
    params = {"project": project.slug} if project is not None else {}
    channel = filters["channel"] or ""
    return {
        "export_url": url + "?" + urlencode({**params, "period": filters["days"], "channel": channel}),
        "export_all_url": url + "?" + urlencode({**params, "period": ALL_TIME, "channel": channel}),
    }


@login_required
def owner_dashboard(request, slug):
    """`/projects/<slug>/`: the project page with its dashboard; another owner's project is a 404."""
    project = get_object_or_404(projects_owned_by(request.user), slug=slug)
    form = DashboardFilterForm(request.GET)
    filters = _filters(form)
    export_urls = _export_urls(reverse("project-sales-export", args=[project.slug]), None, filters)
    context = {**_dashboard(project=project, **filters), **export_urls, "dashboard_form": form}
    return render(request, "dashboard/project_detail.html", context)


def _staff_project(form: StaffDashboardFilterForm) -> Project | None:
    """The project staff chose, else the first by name (None when there is no project at all)."""
    form.is_valid()
    return form.cleaned_data.get("project") or Project.objects.order_by("name").first()


def _staff_dashboard(request):
    """The admin's home page with the dashboard of the chosen project above the usual app list."""
    form = StaffDashboardFilterForm(request.GET)
    filters = _filters(form)
    project = _staff_project(form)
    context = {"dashboard_form": form}
    if project is not None:
        export_urls = _export_urls(reverse("admin-sales-export"), project, filters)
        context.update({**_dashboard(project=project, **filters), **export_urls})
    response = admin.site.index(request, extra_context=context)
    response.template_name = "dashboard/admin_index.html"
    return response


staff_dashboard = admin.site.admin_view(_staff_dashboard)


# A text cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CURRENCY = EXPORT_COLUMNS.index("currency")
_MONEY = [EXPORT_COLUMNS.index(name) for name in ("subtotal", "discount", "shipping", "tax", "total")]
_TIMES = [EXPORT_COLUMNS.index(name) for name in ("created_at", "confirmed_at", "cancelled_at")]


def _cell(value):
    """A text cell that a spreadsheet would run as a formula, prefixed with ' to stay text; numbers,
    times and ids (never str here) are written as they are."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _export_row(row: tuple, zone) -> list:
    """Amounts with their currency's decimals (34.00, 1500 JPY), times in ISO 8601 in the project's zone,
    text that a spreadsheet would run as a formula kept text."""
    cells = list(row)
    for index in _MONEY:
        cells[index] = quantize(cells[index], cells[_CURRENCY])
    for index in _TIMES:
        if cells[index] is not None:
            cells[index] = cells[index].astimezone(zone).isoformat()
    return [_cell(value) for value in cells]


def _csv_chunks(rows: Iterable[tuple], zone) -> Iterator[str]:
    """The header, then the rows EXPORT_CHUNK_ROWS at a time, as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(_export_row(row, zone))
        if count % EXPORT_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _export(project: Project, query, form_class=DashboardFilterForm) -> StreamingHttpResponse:
    """The CSV of the sales the dashboard shows for `query`; `period=all` exports every sale."""
    filters = _filters(form_class(query))
    days, channel = (None if query.get("period") == ALL_TIME else filters["days"]), filters["channel"]
    period = dashboard_period(project=project, days=days) if days else None
    bounds = {"since": period.start, "until": period.end} if period else {"since": None}
    # iterator(): a server-side cursor on PostgreSQL, so 200,000 sales never sit in memory at once.
    rows = sales_for_export(project=project, channel=channel, **bounds).iterator(chunk_size=EXPORT_CHUNK_ROWS)
    response = StreamingHttpResponse(_csv_chunks(rows, project.tzinfo), content_type="text/csv; charset=utf-8")
    name = f"{project.slug}-sales-{f'{days}d' if days else ALL_TIME}{'-' + channel if channel else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def owner_export(request, slug):
    """The owner's sales of the period (and channel) shown on the dashboard, as a streamed CSV."""
    project = get_object_or_404(projects_owned_by(request.user), slug=slug)
    return _export(project, request.GET)


def _staff_export(request):
    project = _staff_project(StaffDashboardFilterForm(request.GET))
    if project is None:
        raise Http404("There is no project yet.")
    return _export(project, request.GET, StaffDashboardFilterForm)


staff_export = admin.site.admin_view(_staff_export)
