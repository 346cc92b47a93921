"""The ledger's transitions: what each does to the sale and to stock, what it refuses, what it costs."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import StockMovement
from inventory.services.stock import InsufficientStock
from sales.ledger.models import Sale, SaleChannel, SaleStatus
from sales.ledger.services import (
    DuplicateSale,
    InvalidLine,
    InvalidTransition,
    LineInput,
    ProductNotFound,
    sale_cancel,
    sale_confirm,
    sale_create,
)
from tests.helpers import ledger_size, levels

pytestmark = pytest.mark.django_db


def create(project, lines, **kwargs):
    kwargs.setdefault("channel", SaleChannel.NATIVE)
    return sale_create(project=project, lines=lines, **kwargs)


def test_pending_sale_reserves_confirm_deducts(project, make_product, owner):
    laptop = make_product("Laptop", stock=5, price="1299.99")
    sale = create(project, [LineInput(product=laptop.id, quantity=Decimal(2))], user=owner)
    assert (sale.status, sale.total, sale.subtotal, sale.currency) == (
        "pending",
        Decimal("2599.98"),
        Decimal("2599.98"),
        "USD",
    )
    assert sale.stock_applied is True
    assert levels(laptop) == (5, 2)

    confirmed = sale_confirm(sale=sale, user=owner)
    assert confirmed.status == "confirmed" and confirmed.confirmed_at is not None
    assert levels(laptop) == (3, 0)

    cancelled = sale_cancel(sale=sale, user=owner)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert levels(laptop) == (5, 0)
    reasons = list(StockMovement.objects.filter(sale_id=sale.id).order_by("id").values_list("reason", flat=True))
    assert reasons == ["reserve", "commit", "restore"]


def test_pending_sale_cancelled_releases_reservation(project, make_product):
    cable = make_product("Cable", stock=10)
    sale = create(project, [LineInput(product=cable.id, quantity=Decimal(4))])
    assert levels(cable) == (10, 4)
    sale_cancel(sale=sale)
    assert levels(cable) == (10, 0)


def test_confirmed_directly_deducts_or_not(project, make_product):
    dock = make_product("Dock", stock=3)
    deducted = create(project, [LineInput(product=dock.id, quantity=Decimal(2))], status=SaleStatus.CONFIRMED)
    assert levels(dock) == (1, 0)
    untouched = create(
        project, [LineInput(product=dock.id, quantity=Decimal("7.5"))], status=SaleStatus.CONFIRMED, deduct_stock=False
    )
    assert levels(dock) == (1, 0)
    assert untouched.stock_applied is False and untouched.total == Decimal("75.00")
    sale_cancel(sale=untouched)
    assert levels(dock) == (1, 0), "a sale that never touched stock restores none"
    sale_cancel(sale=deducted)
    assert levels(dock) == (3, 0)


def test_product_by_external_id_variant_price_and_snapshot(project, make_product):
    mouse = make_product(
        "Mouse", price="29.99", variants=[("Black", 5, None), ("Red", 5, "31.90")], external_id="prod_124",
        image_url="https://cdn.example.com/mouse.jpg",
    )  # fmt: skip
    black, red = mouse.variants.order_by("name")
    sale = create(
        project,
        [LineInput(product="prod_124", variant=black.id, quantity=Decimal(1)),
         LineInput(product=str(mouse.id), variant=str(red.id), quantity=Decimal(2))],
    )  # fmt: skip
    lines = list(sale.lines.order_by("position"))
    assert [(line.product_name, line.unit_price, line.line_total) for line in lines] == [
        ("Mouse / Black", Decimal("29.99"), Decimal("29.99")),
        ("Mouse / Red", Decimal("31.90"), Decimal("63.80")),
    ]
    assert lines[0].product_image == "https://cdn.example.com/mouse.jpg"
    assert sale.total == Decimal("93.79")
    assert levels(mouse, black) == (5, 1) and levels(mouse, red) == (5, 2)
    mouse.name = "Renamed mouse"
    mouse.save()
    assert sale.lines.get(position=0).product_name == "Mouse / Black", "history keeps the name sold"


def test_money_rounds_half_up_to_the_currency(project, make_product):
    yen = make_product("Tea", price="0")
    sale = create(
        project, [LineInput(product=yen.id, quantity=Decimal(3), unit_price=Decimal("33.3350"))],
        deduct_stock=False, currency="jpy",
    )  # fmt: skip
    assert (sale.currency, sale.total) == ("JPY", Decimal(100))


@pytest.mark.parametrize("target", ["confirm", "cancel"])
def test_refused_moves_raise_with_current_status_and_change_nothing(project, make_product, target):
    product = make_product(stock=5)
    sale = create(project, [LineInput(product=product.id, quantity=Decimal(1))])
    sale_cancel(sale=sale)
    before = list(StockMovement.objects.values_list("id", flat=True))
    move = sale_confirm if target == "confirm" else sale_cancel
    with pytest.raises(InvalidTransition) as refused:
        move(sale=sale)
    assert refused.value.status_code == 409
    assert refused.value.data["status"] == "cancelled"
    verb = "confirmed" if target == "confirm" else "cancelled"
    assert refused.value.message == f"Sale {sale.id} is cancelled and cannot be {verb}."
    assert list(StockMovement.objects.values_list("id", flat=True)) == before
    assert Sale.objects.get(pk=sale.pk).status == "cancelled"


def test_confirming_twice_is_refused(project, make_product):
    product = make_product(stock=5)
    sale = create(project, [LineInput(product=product.id, quantity=Decimal(1))])
    sale_confirm(sale=sale)
    with pytest.raises(InvalidTransition) as refused:
        sale_confirm(sale=sale)  # the stale instance still says pending: the lock re-reads it
    assert refused.value.data["status"] == "confirmed"
    assert levels(product) == (4, 0)


def test_insufficient_stock_writes_nothing(project, make_product):
    short = make_product("Short", stock=1)
    plenty = make_product("Plenty", stock=9)
    lines = [LineInput(product=plenty.id, quantity=Decimal(2)), LineInput(product=short.id, quantity=Decimal(3))]
    with pytest.raises(InsufficientStock) as error:
        create(project, lines)
    assert error.value.message == "Insufficient stock: Short (requested 3, available 1)"
    assert ledger_size() == (0, 0)
    assert levels(short) == (1, 0) and levels(plenty) == (9, 0)


def test_unknown_and_foreign_products_are_not_found(project, other_project, make_product):
    foreign = make_product("Foreign", stock=5, target_project=other_project)
    for reference in [foreign.id, "no-such-product"]:
        with pytest.raises(ProductNotFound) as error:
            create(project, [LineInput(product=reference, quantity=Decimal(1))])
        assert error.value.message == f"Product '{reference}' does not exist in this project."
    assert ledger_size() == (0, 0)
    assert levels(foreign) == (5, 0)


def test_variant_of_another_product_and_fractional_units_are_invalid(project, make_product):
    mouse = make_product("Mouse", variants=[("Black", 5, None)])
    cable = make_product("Cable", stock=5)
    with pytest.raises(InvalidLine, match="is not a variant of product"):
        create(project, [LineInput(product=cable.id, variant=mouse.variants.get().id, quantity=Decimal(1))])
    with pytest.raises(InvalidLine, match="not a whole number of units"):
        create(project, [LineInput(product=cable.id, quantity=Decimal("1.5"))])
    assert ledger_size() == (0, 0)


def test_external_id_is_unique_per_channel(project, make_product):
    product = make_product(stock=5)
    line = [LineInput(product=product.id, quantity=Decimal(1))]
    create(project, line, external_id="order-1")
    with pytest.raises(DuplicateSale):
        create(project, line, external_id="order-1")
    create(project, line, external_id="order-1", channel=SaleChannel.ADMIN)
    assert levels(product) == (5, 2), "the refused duplicate reserved nothing"


def test_free_line_without_product(project):
    sale = create(project, [LineInput(name="Gift wrapping", quantity=Decimal(1), unit_price=Decimal("2.50"))])
    line = sale.lines.get()
    assert (line.product, line.product_name, line.line_total, sale.total) == (
        None,
        "Gift wrapping",
        Decimal("2.50"),
        Decimal("2.50"),
    )


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


def test_a_sale_of_any_size_costs_the_same_queries(project, make_product):
    products = [make_product(f"P{index}", stock=10) for index in range(50)]

    def sale_of(count):
        return lambda: create(project, [LineInput(product=p.id, quantity=Decimal(1)) for p in products[:count]])

    one, fifty = _queries(sale_of(1)), _queries(sale_of(50))
    assert one == fifty
    small, large = Sale.objects.order_by("created_at")
    assert (small.lines.count(), large.lines.count()) == (1, 50)
    assert _queries(lambda: sale_confirm(sale=small)) == _queries(lambda: sale_confirm(sale=large))
    assert _queries(lambda: sale_cancel(sale=small)) == _queries(lambda: sale_cancel(sale=large))


def test_query_counts_are_pinned(project, make_product, django_assert_num_queries):
    product = make_product(stock=10)
    # No savepoint of their own. Create: the products with their stock rows locked, the lines; then the stock
    # counters, the movements, the sale and its sale.created event, one statement on PostgreSQL (four on SQLite).
    # Confirm: the sale locked, its lines, the stock rows locked; then counters, movements, the sale and
    # sale.confirmed, likewise.
    together = 1 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(2 + together):
        sale = create(project, [LineInput(product=product.id, quantity=Decimal(1))])
    with django_assert_num_queries(3 + together):
        sale_confirm(sale=sale)
