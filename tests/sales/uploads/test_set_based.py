"""The set-based write against the row-by-row one: the same rows uploaded at once (one COPY and one
UPDATE ... FROM per table on PostgreSQL) or one transaction at a time leave the same ledger, the same
rollups, the same events (each sale as it then was, every line with its id) and a stock that `check_stock`
accepts."""

import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from events.models import Event
from inventory.models import Product
from sales.ledger.models import Sale
from sales.reporting.models import ChannelSales, ProductSales, SalesTally
from sales.uploads.services import sales_upload
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def first_rows():
    rows = []
    for sale in range(40):
        for line in range(3):
            row = {"sale_external_id": f"S{sale}", "product_id": f"P{(sale + line) % 7}",
                   "quantity": 1 + line, "unit_price": 100 * (1 + sale % 5)}  # fmt: skip
            if line == 0:
                row.update(sale_date=f"2026-11-{1 + sale % 28:02d}T10:00:00Z", sale_customer_id=f"C{sale % 9}",
                           sale_state="NEW" if sale % 4 == 0 else "COMPLETE")  # fmt: skip
            if sale % 2:
                row["external_id"] = f"S{sale}-{line}"
            rows.append(row)
    return rows


def second_rows():
    """Changes: quantities of rows with ids, replaced rows without ids, confirmations, cancellations,
    a declared total, and new transactions."""
    rows = []
    for sale in range(0, 50, 3):
        if sale >= 40:
            rows.append({"sale_external_id": f"S{sale}", "sale_date": "2026-11-29", "sale_customer_id": "C1",
                         "product_id": "P-new", "quantity": 2, "unit_price": 999})  # fmt: skip
        elif sale % 2:
            rows.append({"sale_external_id": f"S{sale}", "external_id": f"S{sale}-1", "product_id": "P1",
                         "quantity": 5, "unit_price": 150, "sale_state": "CANCELLED"})  # fmt: skip
        else:
            rows += [{"sale_external_id": f"S{sale}", "product_sku": "SKU-9", "quantity": 1, "unit_price": 700,
                      "sale_state": "PROCESSING", "sale_total": 650}]  # fmt: skip
    return rows


def by_transaction(rows):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row["sale_external_id"]].append(row)
    return list(grouped.values())


def ledger(project):
    sales = Sale.objects.filter(project=project).select_related("customer").prefetch_related("lines__product")
    return {
        sale.external_id: (
            sale.status,
            sale.original_state,
            sale.subtotal,
            sale.discount,
            sale.total,
            sale.extra,
            sale.customer.external_id,
            sale.created_at,
            sale.confirmed_at is not None,
            sale.cancelled_at is not None,
            sorted(
                (
                    line.external_id or "",
                    line.position,
                    line.product.external_id,
                    line.quantity,
                    line.unit_price,
                    line.line_total,
                )
                for line in sale.lines.all()
            ),
        )  # fmt: skip
        for sale in sales
    }


def rollups(project):
    def summed(model, *keys):
        rows = model.objects.filter(project=project).values(*keys).annotate(total=Sum("revenue"), count=Sum("sales"))
        return {tuple(row[key] for key in keys): (row["total"], row["count"]) for row in rows if row["count"]}

    names = dict(Product.objects.filter(project=project).values_list("id", "external_id"))
    lines = ProductSales.objects.filter(project=project).values("day", "product_id").annotate(total=Sum("revenue"))
    return (
        summed(SalesTally, "status"),
        summed(ChannelSales, "day", "channel", "status"),
        sorted((row["day"], names[row["product_id"]], row["total"]) for row in lines if row["total"] != Decimal(0)),
    )


def events(project):
    """Each sale's events: type, previous status, and the sale's status, totals and lines as the event shows them."""
    names = dict(Product.objects.filter(project=project).values_list("id", "external_id"))
    shown = defaultdict(list)
    for event in Event.objects.filter(project_id=project.pk, type__startswith="sale.").order_by("created", "id"):
        data = event.data
        lines = sorted(
            (line["external_id"] or "", line["position"], names[uuid.UUID(line["product"])], line["quantity"],
             line["line_total"], line["id"] is not None)
            for line in data["lines"]
        )  # fmt: skip
        shown[data["external_id"]].append(
            (event.type, event.previous_status, data["status"], data["subtotal"], data["total"], lines)
        )
    return dict(shown)


def test_one_upload_leaves_what_uploads_of_one_transaction_at_a_time_leave():
    at_once, one_by_one = ProjectFactory(currency="EUR"), ProjectFactory(currency="EUR")

    for rows in (first_rows(), second_rows()):
        sales_upload(project=at_once, rows=rows)
        for transaction_rows in by_transaction(rows):
            sales_upload(project=one_by_one, rows=transaction_rows)

    assert ledger(at_once) == ledger(one_by_one)
    assert len(ledger(at_once)) == 43
    assert {value[0] for value in ledger(at_once).values()} == {"pending", "confirmed", "cancelled"}
    assert rollups(at_once) == rollups(one_by_one)
    assert events(at_once) == events(one_by_one)
    shown = [event for sale_events in events(at_once).values() for event in sale_events]
    assert len(shown) == 43 + 14  # 43 sales created, the 14 sent again changed
    assert all(has_id for *_, lines in shown for *_, has_id in lines)
    call_command("check_stock")
