"""The trigger-kept rollups (SalesTally, ChannelSales, ProductSales) equal the ledger after every kind of write:
through each service, a bulk COPY (custobar on PostgreSQL), deletions and restores, a user or a
project deleted; their readers (GET /sells totals, the dashboard's charts) give the same
answers as aggregating the ledger; compaction and the rebuild command keep them exact."""

import datetime
import io
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apikeys.models import Project
from apikeys.services import project_create
from sales.ledger.models import Sale, SaleLine, SaleStatus
from sales.ledger.services import LineInput, sale_cancel, sale_confirm, sale_create
from sales.pos.models import TransactionDeletion
from sales.pos.services import (
    TransactionInput,
    location_create,
    pos_deletion_restore,
    pos_transaction_delete,
    pos_transactions_create,
)
from sales.reporting.models import ChannelSales, ProductMonthSales, ProductSales, SalesTally
from sales.reporting.selectors import dashboard_period, revenue_per_day, sales_count_per_status, top_products_by_revenue
from sales.reporting.services import TALLY_COMPACT_ROWS, sales_tally_compact
from tests.concurrency import race
from tests.sales.uploads.helpers import FIRST_EXAMPLE, upload

pytestmark = pytest.mark.django_db

CENT = Decimal("0.0001")


def _add(sums: dict, key, *values) -> None:
    before = sums.get(key, (0,) * len(values))
    sums[key] = tuple(Decimal(old) + Decimal(new) for old, new in zip(before, values, strict=True))


def _nonzero(sums: dict) -> dict:
    return {key: tuple(v.quantize(CENT) for v in values) for key, values in sums.items() if any(values)}


def ledger_rollups(project) -> tuple[dict, dict, dict]:
    """The rollups computed in Python straight from the project's sales and lines."""
    project.refresh_from_db()

    def day(moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(project.tzinfo).date()

    tally, channel_sales, product_sales = {}, {}, {}
    for sale in Sale.objects.filter(project=project):
        _add(tally, (sale.user_id, sale.status), 1, sale.total)
        _add(channel_sales, (day(sale.created_at), sale.channel, sale.currency, sale.status), 1, sale.total)
    lines = SaleLine.objects.filter(sale__project=project, product__isnull=False).select_related("sale")
    for line in lines.exclude(sale__status=SaleStatus.CANCELLED):
        key = (line.product_id, day(line.sale.created_at), line.sale.channel, line.sale.currency)
        _add(product_sales, key, 1, line.quantity, line.line_total)
    return _nonzero(tally), _nonzero(channel_sales), _nonzero(product_sales)


def stored_rollups(project) -> tuple[dict, dict, dict]:
    """The rollups as the database keeps them: the sums of their delta rows per key."""
    tally, channel_sales, product_sales = {}, {}, {}
    for row in SalesTally.objects.filter(project=project):
        _add(tally, (row.user_id, row.status), row.sales, row.revenue)
    for row in ChannelSales.objects.filter(project=project):
        _add(channel_sales, (row.day, row.channel, row.currency, row.status), row.sales, row.revenue)
    for row in ProductSales.objects.filter(project=project):
        key = (row.product_id, row.day, row.channel, row.currency)
        _add(product_sales, key, row.lines, row.quantity, row.revenue)
    return _nonzero(tally), _nonzero(channel_sales), _nonzero(product_sales)


def stored_product_months(project) -> dict:
    """The month rollup as the database keeps it: the sums of its delta rows per key."""
    months = {}
    for row in ProductMonthSales.objects.filter(project=project):
        _add(months, (row.product_id, row.month, row.currency), row.lines, row.quantity, row.revenue)
    return _nonzero(months)


def assert_exact(project):
    """The rollups equal the ledger, and the month rollup the day rollup summed per month."""
    ledger = ledger_rollups(project)
    assert stored_rollups(project) == ledger
    months = {}
    for (product_id, day, _, currency), values in ledger[2].items():
        _add(months, (product_id, day.replace(day=1), currency), *values)
    assert stored_product_months(project) == _nonzero(months)
    return ledger


def sell(project, owner, *lines, **fields):
    return sale_create(
        project=project,
        channel=Sale.Channel.NATIVE,
        user=owner,
        lines=[LineInput(quantity=Decimal(quantity), product=str(product.id)) for product, quantity in lines],
        **fields,
    )


def test_creating_confirming_and_cancelling_sales(project, owner, make_product):
    laptop, mouse = make_product("Laptop", stock=50, price="1299.99"), make_product("Mouse", stock=50, price="25.50")
    first = sell(project, owner, (laptop, 1), (mouse, 2))
    second = sell(project, owner, (mouse, 3), status=SaleStatus.CONFIRMED)
    gift = LineInput(quantity=Decimal(1), name="Gift", unit_price=Decimal(5))
    unlinked = sale_create(project=project, channel=Sale.Channel.NATIVE, user=owner, lines=[gift])
    tally, _, product_sales = assert_exact(project)
    assert tally[(owner.pk, "pending")] == (2, Decimal("1355.9900"))
    assert len(product_sales) == 2

    sale_confirm(sale=first)
    assert_exact(project)
    sale_cancel(sale=second)
    sale_cancel(sale=unlinked)
    tally, channel_sales, product_sales = assert_exact(project)
    assert tally[(owner.pk, "cancelled")] == (2, Decimal("81.5000"))
    assert {key[3] for key in channel_sales} == {"cancelled", "confirmed"}
    assert {key[0]: values for key, values in product_sales.items()} == {
        laptop.id: (1, Decimal("1.0000"), Decimal("1299.9900")),
        mouse.id: (1, Decimal("2.0000"), Decimal("51.0000")),
    }


def test_connecteam_transactions_deleted_and_restored(project, owner):
    location = location_create(project=project, name="Main street")
    moment = datetime.datetime(2024, 1, 28, 12, tzinfo=datetime.UTC)
    pos_transactions_create(
        project=project,
        transactions=[
            TransactionInput(location_id=location.id, sale_type=kind, created_at=moment, amount=Decimal(amount))
            for kind, amount in (("SALE", "30.00"), ("SALE", "12.50"), ("REFUND", "-5.00"))
        ],
    )
    assert_exact(project)
    refund = Sale.objects.get(project=project, sale_type="REFUND")
    pos_transaction_delete(project=project, transaction_id=str(refund.id), request_id="r-1")
    tally, _, _ = assert_exact(project)
    assert tally == {(None, "confirmed"): (2, Decimal("42.5000"))}
    pos_deletion_restore(deletion=TransactionDeletion.objects.get())
    tally, channel_sales, _ = assert_exact(project)
    assert tally == {(None, "confirmed"): (3, Decimal("37.5000"))}
    assert channel_sales == {(moment.date(), "connecteam", "USD", "confirmed"): (3, Decimal("37.5000"))}


def test_custobar_uploads_updating_moving_and_cancelling_sales(api, project):
    known = {"sale_external_id": "5000", "sale_date": "2017-12-02", "sale_email": "a@b.fi", "external_id": "5000-1",
             "product_id": "SKU0435", "unit_price": 100, "quantity": 1}  # fmt: skip
    assert upload(api, [known]).status_code == 200
    assert_exact(project)
    assert upload(api, FIRST_EXAMPLE["sales"]).status_code == 200
    assert_exact(project)
    changed = [dict(row) for row in FIRST_EXAMPLE["sales"][:2]]
    changed[0].update(quantity=3, total=3600, sale_date="2017-12-02T09:00:00Z")  # another day, another line total
    assert upload(api, changed).status_code == 200
    _, _, product_sales = assert_exact(project)
    moved = datetime.date(2017, 12, 2)  # sale 1000 moved to the day of sale 5000
    assert {key[1] for key in product_sales} == {moved}
    assert sum(values[0] for values in product_sales.values()) == 4  # lines: two of 1000, two of 5000
    assert sum(values[2] for values in product_sales.values()) == sum(
        line.line_total for line in SaleLine.objects.filter(sale__project=project)
    )
    assert upload(api, [{"sale_external_id": "1000", "sale_state": "CANCELLED"}]).status_code == 200
    tally, _, product_sales = assert_exact(project)
    assert {status for _, status in tally} == {"cancelled", "confirmed"}
    assert sum(values[0] for values in product_sales.values()) == 2  # sale 5000's two lines are left


def test_lines_written_before_their_sale_are_counted(project, owner, make_product):
    """Foreign keys are checked at commit, so a loader may write lines first: the sale's trigger counts them."""
    laptop = make_product("Laptop", stock=10, price="100.00")
    sale_id = uuid.uuid4()
    with transaction.atomic():
        SaleLine.objects.create(sale_id=sale_id, product=laptop, product_name="Laptop", quantity=2,
                                unit_price=Decimal(100), line_total=Decimal(200))  # fmt: skip
        Sale.objects.create(id=sale_id, project=project, channel="native", currency="USD", total=Decimal(200))
    _, _, product_sales = assert_exact(project)
    assert list(product_sales.values()) == [(1, Decimal(2), Decimal(200))]


def test_a_user_or_a_project_deleted(project, owner):
    gift = LineInput(quantity=Decimal(2), name="Gift", unit_price=Decimal("25.50"))
    sale_create(project=project, channel=Sale.Channel.NATIVE, user=owner, lines=[gift])
    get_user_model().objects.filter(pk=owner.pk).delete()
    tally, _, _ = assert_exact(project)
    assert tally == {(None, "pending"): (1, Decimal("51.0000"))}
    project_id = project.pk
    project.delete()  # its sales and lines go with it, in the same transaction as the rows they add
    assert not Sale.objects.exists()
    for model in (SalesTally, ChannelSales, ProductSales, ProductMonthSales):
        assert not model.objects.filter(project_id=project_id).exists()


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Kathmandu", "America/St_Johns", "Australia/Eucla"])
def test_dashboard_charts_cover_exactly_the_local_days_of_the_period(owner, make_product, time_zone):
    """+5:45, -3:30, +8:45: a sale a second before or after a local midnight is on the right day."""
    project = project_create(slug="zoned", name="Zoned", owner=owner, time_zone=time_zone)
    laptop = make_product("Laptop", stock=20, price="100.00", target_project=project)
    now = datetime.datetime(2026, 11, 22, 12, tzinfo=datetime.UTC)
    period = dashboard_period(project=project, days=30, now=now)
    second = datetime.timedelta(seconds=1)
    for moment, quantity in ((period.start - second, 1), (period.start, 2), (period.end - second, 4), (period.end, 8)):
        sell(project, owner, (laptop, quantity), created_at=moment)
    assert_exact(project)
    (top,) = top_products_by_revenue(project=project, since=period.start, until=period.end)
    assert (top.name, top.revenue) == ("Laptop", Decimal("600.0000"))  # the sales of 2 and 4 units, not 1 or 8
    days = revenue_per_day(project=project, since=period.start, until=period.end)
    assert [(day.day, day.revenue) for day in days] == [(period.days[0], 200), (period.days[-1], 400)]
    counts = sales_count_per_status(project=project, since=period.start, until=period.end)
    assert counts == {"pending": 2, "confirmed": 0, "cancelled": 0}


def test_a_time_zone_change_moves_the_sales_to_their_new_days(project, owner, make_product):
    laptop = make_product("Laptop", stock=10, price="100.00")
    late = datetime.datetime(2026, 3, 9, 23, 30, tzinfo=datetime.UTC)  # the 10th in Tokyo, the 9th in UTC
    sell(project, owner, (laptop, 1), created_at=late)
    _, channel_sales, product_sales = assert_exact(project)
    assert {key[0] for key in channel_sales} == {key[1] for key in product_sales} == {datetime.date(2026, 3, 9)}

    project.time_zone = "Asia/Tokyo"
    project.save(update_fields=["time_zone"])
    _, channel_sales, product_sales = assert_exact(project)
    assert {key[0] for key in channel_sales} == {key[1] for key in product_sales} == {datetime.date(2026, 3, 10)}


def test_compaction_folds_the_tally_and_totals_stay_exact(api, project, owner, make_product):
    mouse = make_product("Mouse", stock=1000, price="2.00")
    sales = [sell(project, owner, (mouse, 1)) for _ in range(TALLY_COMPACT_ROWS + 5)]
    for sale in sales[:10]:
        sale_cancel(sale=sale)
    rows = SalesTally.objects.filter(project=project).count()
    assert rows > TALLY_COMPACT_ROWS
    expected = {"totalSales": TALLY_COMPACT_ROWS + 5, "totalRevenue": 2 * (TALLY_COMPACT_ROWS - 5)}

    cancelled = api.get("/sells?status=cancelled&limit=1").json()
    assert (cancelled["totalSales"], cancelled["totalRevenue"]) == (10, 0)
    assert SalesTally.objects.filter(project=project).count() == rows  # a read never writes
    out = io.StringIO()
    call_command("compact_sales_rollups", stdout=out)
    assert out.getvalue() == "Compacted 1 sales tally.\nCompacted 1 product month.\n"
    assert SalesTally.objects.filter(project=project).count() == 2  # one row per status
    assert ProductMonthSales.objects.filter(project=project).count() == 1  # one product, one month
    body = api.get("/sells?limit=1").json()
    assert {key: body[key] for key in expected} == expected
    assert api.get("/sells?status=pending&limit=1").json()["totalSales"] == TALLY_COMPACT_ROWS - 5
    assert_exact(project)


def test_a_tally_of_80000_rows_is_folded_in_one_compaction(api, project, owner, make_product):
    """A user who writes much: 80,000 delta rows fold into one in a single run of the compaction."""
    mouse = make_product("Mouse", stock=10, price="2.00")
    sell(project, owner, (mouse, 1))
    pairs = (SalesTally(project=project, user=owner, status="pending", sales=sign, revenue=sign * 2)
             for _ in range(40_000) for sign in (1, -1))  # fmt: skip
    SalesTally.objects.bulk_create(pairs, batch_size=5_000)

    call_command("compact_sales_rollups", stdout=io.StringIO())
    body = api.get("/sells?limit=1").json()
    assert (body["totalSales"], body["totalRevenue"]) == (1, 2)
    assert SalesTally.objects.filter(project=project).count() == 1
    assert_exact(project)


def test_rebuild_command_recomputes_rollups_from_the_ledger(project, owner, make_product):
    mouse = make_product("Mouse", stock=10, price="25.50")
    sell(project, owner, (mouse, 2))
    expected = assert_exact(project)
    SalesTally.objects.update(sales=7)
    ProductSales.objects.all().delete()
    call_command("rebuild_sales_rollups", stdout=io.StringIO())
    assert stored_rollups(project) == expected
    assert SalesTally.objects.count() == ChannelSales.objects.count() == ProductSales.objects.count() == 1
    call_command("rebuild_sales_rollups", "--project", project.slug, stdout=io.StringIO())
    assert stored_rollups(project) == expected
    with pytest.raises(CommandError, match="No project with slug 'nope'"):
        call_command("rebuild_sales_rollups", "--project", "nope")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sales_moves_and_reads_keep_the_rollups_exact(project, owner, make_product, issued_key):
    """16 threads at once: each creates sales, confirms or cancels them, reads GET /sells and compacts
    the tally. No deadlock, no lost delta, the totals exact afterwards."""
    from tests.helpers import keyed_client

    products = [make_product(f"Product {index}", stock=1000, price="3.00") for index in range(4)]
    assert connection.vendor == "postgresql"

    def work(index):
        client = keyed_client(project, issued_key)
        for round_ in range(8):
            sale = sell(project, owner, (products[(index + round_) % 4], 1), (products[(index + 1) % 4], 2))
            (sale_confirm if (index + round_) % 3 else sale_cancel)(sale=sale)
            assert client.get("/sells?limit=1").status_code == 200
            sales_tally_compact(project_id=project.pk, user_id=owner.pk)
        return True

    assert race(16, work) == [True] * 16
    tally, _, _ = assert_exact(project)
    assert sum(count for count, _ in tally.values()) == 128
    body = keyed_client(project, issued_key).get("/sells?limit=1").json()
    assert body["totalSales"] == 128
    assert Decimal(str(body["totalRevenue"])) == sum(
        (revenue for (_, status), (_, revenue) in tally.items() if status != "cancelled"), Decimal(0)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sales_written_while_the_time_zone_changes_land_on_the_new_days(project, owner, make_product):
    """8 threads sell while one changes the project's time zone back and forth: every sale's day
    is the one of the zone in force when it committed, so the rollups end exact."""
    products = [make_product(f"Product {index}", stock=1000, price="3.00") for index in range(4)]
    zones = ["Asia/Kathmandu", "America/St_Johns", "Pacific/Kiritimati", "UTC"]
    moments = [datetime.datetime(2026, 3, 9, hour, 50, tzinfo=datetime.UTC) for hour in range(24)]

    def work(index):
        if index == 8:
            for round_ in range(12):
                Project.objects.filter(pk=project.pk).update(time_zone=zones[round_ % len(zones)])
            return True
        for round_ in range(10):
            moment = moments[(index * 7 + round_) % 24]
            sale = sell(project, owner, (products[(index + round_) % 4], 1), created_at=moment)
            if round_ % 3 == 0:
                sale_cancel(sale=sale)
        return True

    assert race(9, work) == [True] * 9
    tally, _, _ = assert_exact(project)
    assert sum(count for count, _ in tally.values()) == 80


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_line_added_while_its_sale_is_cancelled_is_not_counted(project, owner, make_product):
    """The line's trigger waits for the cancel to commit (it share-locks the sale), then sees it cancelled."""
    laptop = make_product("Laptop", stock=10, price="100.00")
    sale = sell(project, owner, (laptop, 1), deduct_stock=False)
    cancelling = threading.Barrier(2)

    def work(index):
        if index == 0:
            with transaction.atomic():
                Sale.objects.filter(pk=sale.pk).update(status="cancelled", cancelled_at=timezone.now())
                cancelling.wait()
                time.sleep(0.5)  # the line is inserted meanwhile
        else:
            cancelling.wait()
            SaleLine.objects.create(sale_id=sale.pk, product=laptop, product_name="Laptop", quantity=1,
                                    unit_price=Decimal(100), line_total=Decimal(100), position=1)  # fmt: skip
        return True

    assert race(2, work) == [True, True]
    _, _, product_sales = assert_exact(project)
    assert product_sales == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_time_zone_change_needs_read_committed(project):
    with pytest.raises(DatabaseError, match="READ COMMITTED"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        Project.objects.filter(pk=project.pk).update(time_zone="Asia/Tokyo")
