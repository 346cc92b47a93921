"""sales_upload: the document's defaults, currencies, states, products, customers, upserts, batching."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Product, Stock, StockMovement
from sales.ledger.models import Sale, SaleLine
from sales.ledger.selectors import sales_totals
from sales.uploads.parse import UploadInvalid, sale_rows_parse
from sales.uploads.services import UploadRunning, sales_upload, sales_upload_parsed
from tests.concurrency import race
from tests.factories import ProductFactory, ProjectFactory
from tests.sales.uploads.helpers import SECOND_EXAMPLE, custobar_sale, lines_of
from tracking.models import Customer

pytestmark = pytest.mark.django_db

NEW = {"sale_date": "2017-12-01T13:11:23Z", "sale_customer_id": "C1"}


def row(sale="S1", **fields):
    """A row of a new transaction with one product line; `fields` override or add."""
    return {"sale_external_id": sale, **NEW, "product_id": "P1", "quantity": 1, "unit_price": 1000, **fields}


def problems(project, rows):
    with pytest.raises(UploadInvalid) as raised:
        sales_upload(project=project, rows=rows)
    assert raised.value.problems, "an UploadInvalid always names at least one problem"
    return [(problem["row"], problem["field"], problem["message"]) for problem in raised.value.problems]


# Defaults and money ---------------------------------------------------------------------------


def test_row_total_defaults_to_unit_price_times_quantity_minus_discount(project):
    sales_upload(project=project, rows=[row(quantity=3, unit_price=1999, discount=500)])

    assert lines_of(custobar_sale(project, "S1")) == [
        (None, "P1", 3, Decimal("19.99"), Decimal("5.00"), Decimal("54.97"), [])
    ]


def test_negative_discount_counts_as_a_discount(project):
    sales_upload(project=project, rows=[row(quantity=1, unit_price=1000, discount=-250)])

    assert lines_of(custobar_sale(project, "S1"))[0][4:6] == (Decimal("2.50"), Decimal("7.50"))


def test_quantity_is_rounded_half_up_to_two_places(project):
    sales_upload(
        project=project,
        rows=[
            row(external_id="a", quantity=0.003),
            row(external_id="b", quantity=1.005),
            row(external_id="c", quantity="2.675"),
        ],
    )

    assert [line[2] for line in lines_of(custobar_sale(project, "S1"))] == [
        Decimal("0.00"), Decimal("1.01"), Decimal("2.68")
    ]  # fmt: skip


def test_row_total_sent_wins_over_the_computed_one(project):
    sales_upload(project=project, rows=[row(quantity=2, unit_price=1000, total=1500)])

    assert lines_of(custobar_sale(project, "S1"))[0][5] == Decimal("15.00")


def test_sale_total_defaults_to_row_totals_minus_sale_discount(project):
    sales_upload(
        project=project,
        rows=[
            row(external_id="a", sale_discount=300, sale_shipping=495),
            row(external_id="b", unit_price=250, quantity=2),
        ],
    )

    sale = custobar_sale(project, "S1")
    assert (sale.subtotal, sale.discount, sale.shipping, sale.total) == (
        Decimal("15.00"), Decimal("3.00"), Decimal("4.95"), Decimal("12.00")
    )  # fmt: skip


def test_sale_total_sent_wins(project):
    sales_upload(project=project, rows=[row(sale_total=999)])

    assert custobar_sale(project, "S1").total == Decimal("9.99")


def test_rows_priced_only_by_the_sale_total(project):
    sales_upload(project=project, rows=[row(unit_price=None, sale_total=4200), row(unit_price=None, product_id="P2")])

    sale = custobar_sale(project, "S1")
    assert sale.total == Decimal("42.00")
    assert [line[3] for line in lines_of(sale)] == [0, 0]


def test_unit_price_in_currency_divided_by_the_exchange_rate(project):
    project.currency = "EUR"
    project.save()

    sales_upload(project=project, rows=[row(unit_price=None, unit_price_in_currency=2080, quantity=2,
                                            sale_currency="usd", sale_exchange_rate=1.112)])  # fmt: skip

    sale = custobar_sale(project, "S1")
    assert sale.currency == "EUR"
    # 20.80 USD / 1.112 = 18.7050... EUR, half-up to 18.71.
    assert lines_of(sale)[0][3:6] == (Decimal("18.71"), 0, Decimal("37.42"))
    assert sale.extra == {"sale_currency": "USD", "sale_exchange_rate": "1.112"}


def test_zero_decimal_sale_currency_is_converted_with_its_exponent(project):
    project.currency = "EUR"
    project.save()

    sales_upload(project=project, rows=[row(unit_price=None, unit_price_in_currency=2080,
                                            sale_currency="JPY", sale_exchange_rate=160)])  # fmt: skip

    # 2080 JPY are 2080 yen (no minor unit): / 160 = 13.00 EUR, not 13 cents.
    assert lines_of(custobar_sale(project, "S1"))[0][3] == Decimal("13.00")


def test_zero_decimal_project_currency_takes_minor_units_as_whole_yen(project):
    project.currency = "JPY"
    project.save()

    sales_upload(project=project, rows=[
        row(external_id="a", unit_price=1437, quantity=1.5),
        row(external_id="b", unit_price=None, unit_price_in_currency=1999, sale_currency="USD",
            sale_exchange_rate="0.0066"),
    ])  # fmt: skip

    sale = custobar_sale(project, "S1")
    # 1437 x 1.5 = 2155.5 -> 2156 yen; 19.99 USD / 0.0066 = 3028.78... -> 3029 yen.
    assert [line[3:6] for line in lines_of(sale)] == [
        (Decimal(1437), 0, Decimal(2156)), (Decimal(3029), 0, Decimal(3029))
    ]  # fmt: skip
    assert sale.total == Decimal(5185)


def test_three_decimal_currency(project):
    project.currency = "KWD"
    project.save()

    sales_upload(project=project, rows=[row(unit_price=12345)])

    assert custobar_sale(project, "S1").total == Decimal("12.345")


def test_shipping_in_currency_is_converted(project):
    project.currency = "EUR"
    project.save()

    sales_upload(
        project=project, rows=[row(sale_currency="USD", sale_exchange_rate=1.25, sale_shipping_in_currency=500)]
    )

    sale = custobar_sale(project, "S1")
    assert sale.shipping == Decimal("4.00")
    assert sale.extra["sale_shipping_in_currency"] == 500


def test_date_without_zone_takes_the_project_time_zone(project):
    project.time_zone = "Europe/Helsinki"
    project.save()

    sales_upload(project=project, rows=[row("A", sale_date="2017-08-28"), row("B", sale_date="2017-08-28T14:10:00")])

    assert custobar_sale(project, "A").created_at == datetime(2017, 8, 27, 21, 0, tzinfo=UTC)
    assert custobar_sale(project, "B").created_at == datetime(2017, 8, 28, 11, 10, tzinfo=UTC)


def test_transaction_fields_merge_from_any_row_and_company_fields_are_kept(project):
    sales_upload(project=project, rows=[
        {"sale_external_id": "S1", "sale_date": "2017-12-01", "product_id": "P1", "quantity": 1, "unit_price": 1,
         "ACME__pos_id": "till-4", "sale_coupon_codes": ["XMAS", "XMAS", "VIP"]},
        {"sale_external_id": "S1", "sale_phone_number": "+358401234567", "product_id": "P2", "quantity": 1,
         "unit_price": 1, "sale_payment_method": "cash", "sale_shipping_method": "pickup", "sale_shop_id": 12,
         "sale_tags": ["gift"], "tags": ["CANCELED"], "ACME__cashier": {"id": 7}},
    ])  # fmt: skip

    sale = custobar_sale(project, "S1")
    assert sale.customer.phone == "+358401234567"
    assert sale.extra == {
        "sale_coupon_codes": ["XMAS", "VIP"],
        "sale_payment_method": "cash",
        "sale_shipping_method": "pickup",
        "sale_shop_id": "12",
        "sale_tags": ["gift"],
        "ACME__pos_id": "till-4",
        "ACME__cashier": {"id": 7},
    }
    assert [line[6] for line in lines_of(sale)] == [[], ["CANCELED"]]


def test_a_deeply_nested_company_field_is_kept_and_checked_without_recursion(project):
    deep, nul = [], ["\x00"]
    for _ in range(600):  # as deep as the request's JSON parser lets through
        deep, nul = [deep], [nul]
    sales_upload(project=project, rows=[row(ACME__tree=deep)])
    assert custobar_sale(project, "S1").extra["ACME__tree"] == deep
    assert problems(project, [row("S2", ACME__tree=nul)]) == [
        (0, "ACME__tree", "must not contain NUL (U+0000) characters.")
    ]


def test_conflicting_transaction_fields_are_a_problem(project):
    found = problems(project, [row(sale_shop_id="1"), row(sale_shop_id="2", external_id="x")])

    assert found == [(1, "sale_shop_id", "Conflicts with row 0 of transaction 'S1', which says '1'.")]
    assert not Sale.objects.exists()


# States and revenue ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("NEW", "pending"), ("PENDING_PAYMENT", "pending"), ("HOLDED", "pending"), ("PROCESSING", "confirmed"),
        ("COMPLETE", "confirmed"), ("CANCELLED", "cancelled"), ("CLOSED", "cancelled"), ("CANCELED", "cancelled"),
        ("complete", "confirmed"), (None, "confirmed"),
    ],
)  # fmt: skip
def test_state_maps_to_the_ledger_status_and_is_kept(project, state, status):
    sales_upload(project=project, rows=[row(sale_state=state)])

    sale = custobar_sale(project, "S1")
    assert (sale.status, sale.original_state) == (status, (state or "").upper())
    assert (sale.confirmed_at is not None) == (status == "confirmed")
    assert (sale.cancelled_at is not None) == (status == "cancelled")


def revenue(project):
    return sales_totals(Sale.objects.filter(project=project)).revenue


def test_cancelled_or_closed_sale_leaves_revenue(project):
    sales_upload(project=project, rows=[row("A", unit_price=1000), row("B", unit_price=500, sale_state="NEW")])
    assert revenue(project) == Decimal("15.00")

    sales_upload(project=project, rows=[{"sale_external_id": "A", "sale_state": "CLOSED"}])

    assert revenue(project) == Decimal("5.00")
    assert custobar_sale(project, "A").lines.count() == 1  # a state-only row leaves the lines alone
    sales_upload(project=project, rows=[{"sale_external_id": "B", "sale_state": "CANCELED"}])
    assert revenue(project) == 0


def test_pending_sale_moves_to_confirmed(project):
    sales_upload(project=project, rows=[row(sale_state="PENDING_PAYMENT")])

    sales_upload(project=project, rows=[{"sale_external_id": "S1", "sale_state": "PROCESSING"}])

    sale = custobar_sale(project, "S1")
    assert (sale.status, sale.original_state, sale.cancelled_at) == ("confirmed", "PROCESSING", None)
    assert sale.confirmed_at is not None


def test_a_row_cancelled_with_price_zero_reduces_revenue(project):
    sales_upload(project=project, rows=[row(external_id="1", sale_total=3000), row(external_id="2", unit_price=2000)])
    assert revenue(project) == Decimal("30.00")

    sales_upload(project=project, rows=[{"sale_external_id": "S1", "external_id": "2", "product_id": "P1",
                                         "quantity": 1, "unit_price": 0, "tags": ["CANCELED"]}])  # fmt: skip

    assert revenue(project) == Decimal("10.00")
    assert lines_of(custobar_sale(project, "S1"))[1] == ("2", "P1", 1, 0, 0, 0, ["CANCELED"])


def test_uploads_never_touch_stock(project):
    product = ProductFactory(project=project, name="Stocked", external_id="P1", price=10, stock=5)

    sales_upload(project=project, rows=[row(quantity=3), row("S2", sale_state="CANCELLED", quantity=2)])

    assert Stock.objects.get(product=product).on_hand == 5
    assert Stock.objects.get(product=product).reserved == 0
    assert not StockMovement.objects.exclude(reason="initial").exists()
    assert not Sale.objects.filter(stock_applied=True).exists()


# Products and customers -----------------------------------------------------------------------


def test_product_matching_order_and_creation(project, other_project):
    by_id = ProductFactory(project=project, name="By id", external_id="EXT-1", sku="SKU-X", price=1)
    by_sku = ProductFactory(project=project, name="By sku", sku="SKU-1", ean="4000000000001", price=1)
    by_ean = ProductFactory(project=project, name="By ean", ean="4000000000002", price=1)
    ProductFactory(project=other_project, name="Elsewhere", external_id="NEW-1", sku="SKU-9", price=1)
    line = {"quantity": 1, "unit_price": 1234}

    upload = sales_upload(project=project, rows=[
        row(**line, external_id="1", product_id="EXT-1", product_sku="SKU-1"),  # product_id wins
        row(**line, external_id="2", product_id=None, product_sku="SKU-1", product_ean="4000000000002"),  # sku first
        row(**line, external_id="3", product_id=None, product_sku="SKU-404", product_ean="4000000000002"),  # then ean
        row(**line, external_id="4", product_id="NEW-1", product_sku="SKU-1"),  # unknown id: created, sku taken
        row(**line, external_id="5", product_id=None, product_sku="SKU-9", product_ean="4000000000009"),  # synthetic
        row(**line, external_id="6", product_id=None, product_ean="4000000000009"),  # the product row 5 created
        row(**line, external_id="7", product_id=None, product_ean="4000000000010"),
    ])  # fmt: skip

    sale = custobar_sale(project, "S1")
    products = [line.product for line in sale.lines.order_by("position")]
    assert products[:3] == [by_id, by_sku, by_ean]
    new_id, synthetic, same, by_new_ean = products[3:]
    assert (new_id.external_id, new_id.name, new_id.sku, new_id.ean, new_id.price) == (
        "NEW-1",
        "NEW-1",
        None,
        None,
        Decimal("12.34"),
    )
    assert (synthetic.external_id, synthetic.sku, synthetic.ean) == ("sku:SKU-9", "SKU-9", "4000000000009")
    assert same == synthetic
    assert by_new_ean.external_id == "ean:4000000000010"
    assert upload.products_created == 3
    # The four products made above and the upload's three, each with its stock row (through the catalogue),
    # all at zero: the upload records no stock movement.
    assert Stock.objects.count() == 7
    assert list(Stock.objects.filter(product__in=products[3:]).values_list("on_hand", "reserved")) == [(0, 0)] * 3
    assert not StockMovement.objects.filter(product__in=products[3:]).exists()
    assert SaleLine.objects.get(external_id="4").product_name == "NEW-1"


def test_customers_are_matched_or_created_by_external_id_phone_or_email(project):
    known = Customer.objects.create(project=project, external_id="C1", name="Known")
    by_email = Customer.objects.create(project=project, name="Mail", email="m@example.com")

    sales_upload(project=project, rows=[
        row("A", sale_customer_id="C1", sale_email="other@example.com"),
        row("B", sale_customer_id=None, sale_email="m@example.com"),
        row("C", sale_customer_id=None, sale_phone_number="+3581"),
        row("D", sale_customer_id="C-new"),
    ])  # fmt: skip

    assert custobar_sale(project, "A").customer == known
    assert custobar_sale(project, "B").customer == by_email
    assert custobar_sale(project, "C").customer.phone == "+3581"
    assert custobar_sale(project, "D").customer.external_id == "C-new"
    assert Customer.objects.filter(project=project).count() == 4


# Upserts --------------------------------------------------------------------------------------


def ledger(project):
    sales = Sale.objects.filter(project=project).order_by("external_id")
    return [
        (sale.pk, sale.status, sale.total, sale.extra, sale.customer_id, sale.created_at, sale.confirmed_at,
         [(line.pk, *values) for line, values in zip(sale.lines.order_by("position"), lines_of(sale), strict=True)])
        for sale in sales
    ]  # fmt: skip


@pytest.mark.parametrize("with_row_ids", [True, False])
def test_the_same_payload_twice_leaves_the_ledger_unchanged(project, with_row_ids):
    rows = [dict(item) for item in SECOND_EXAMPLE["sales"]]
    if with_row_ids:
        rows[0]["external_id"], rows[1]["external_id"] = "1000-1", "1000-2"
    sales_upload(project=project, rows=rows)
    before = ledger(project)

    again = sales_upload(project=project, rows=rows)

    assert ledger(project) == before
    assert (again.transactions_created, again.transactions_updated, again.transactions_unchanged) == (0, 0, 1)
    assert (again.lines_created, again.lines_updated, again.lines_deleted, again.products_created) == (0, 0, 0, 0)
    assert Product.objects.count() == 2 and Customer.objects.count() == 1


def test_a_row_with_an_external_id_updates_that_row(project):
    sales_upload(project=project, rows=[row(external_id="1"), row(external_id="2", product_id="P2")])
    line_ids = list(SaleLine.objects.order_by("position").values_list("pk", flat=True))

    upload = sales_upload(project=project, rows=[
        {"sale_external_id": "S1", "external_id": "2", "product_id": "P2", "quantity": 5, "unit_price": 100},
        {"sale_external_id": "S1", "external_id": "3", "product_id": "P3", "quantity": 1, "unit_price": 100},
    ])  # fmt: skip

    assert (upload.transactions_updated, upload.lines_created, upload.lines_updated, upload.lines_deleted) == (
        1,
        1,
        1,
        0,
    )
    sale = custobar_sale(project, "S1")
    assert lines_of(sale) == [
        ("1", "P1", 1, Decimal("10.00"), 0, Decimal("10.00"), []),
        ("2", "P2", 5, Decimal("1.00"), 0, Decimal("5.00"), []),
        ("3", "P3", 1, Decimal("1.00"), 0, Decimal("1.00"), []),
    ]
    assert list(sale.lines.order_by("position").values_list("pk", flat=True))[:2] == line_ids
    assert sale.total == Decimal("16.00")


def test_a_transaction_without_row_ids_has_its_rows_replaced(project):
    rows = [dict(item) for item in SECOND_EXAMPLE["sales"]]
    sales_upload(project=project, rows=rows)

    upload = sales_upload(project=project, rows=[
        {"sale_external_id": "1000", "product_id": "SKU3429", "unit_price": 2080, "quantity": 1, "sale_total": 2080},
    ])  # fmt: skip

    assert (upload.lines_created, upload.lines_deleted, upload.transactions_updated) == (1, 2, 1)
    sale = custobar_sale(project, "1000")
    assert lines_of(sale) == [(None, "SKU3429", 1, Decimal("20.80"), 0, Decimal("20.80"), [])]
    assert sale.total == Decimal("20.80")
    assert sale.customer.external_id == "A501"  # not sent again: kept
    assert sale.extra["sale_payment_method"] == "Credit Card"


def test_a_declared_total_is_kept_until_the_rows_change(project):
    sales_upload(project=project, rows=[row(external_id="1", unit_price=1000, sale_total=1200)])

    sales_upload(project=project, rows=[{"sale_external_id": "S1", "sale_payment_method": "card"}])
    assert custobar_sale(project, "S1").total == Decimal("12.00")

    sales_upload(project=project, rows=[{"sale_external_id": "S1", "external_id": "1", "product_id": "P1",
                                         "quantity": 2, "unit_price": 1000}])  # fmt: skip
    sale = custobar_sale(project, "S1")
    assert sale.total == Decimal("20.00")
    assert "sale_total" not in sale.extra


def test_a_known_transaction_may_omit_date_and_customer(project):
    sales_upload(project=project, rows=[row()])

    sales_upload(project=project, rows=[{"sale_external_id": "S1", "external_id": "x", "product_id": "P1",
                                         "quantity": 1, "unit_price": 1}])  # fmt: skip

    assert custobar_sale(project, "S1").created_at == datetime(2017, 12, 1, 13, 11, 23, tzinfo=UTC)


# Bad input ------------------------------------------------------------------------------------

RANGE = "must be between 1970-01-01T00:00:00Z and 2200-12-31T23:59:59Z once converted to UTC."
WRONG_TYPES = [
    ("sale_external_id", {"id": 1}, "must be a string."),
    ("sale_external_id", "x" * 201, "must be at most 200 characters."),
    ("sale_date", 20171201, "must be a date or a datetime, e.g. 2017-08-28 or 2017-08-28T14:10:00Z."),
    ("sale_date", "2017-13-01", "must be a date or a datetime, e.g. 2017-08-28 or 2017-08-28T14:10:00Z."),
    ("sale_customer_id", ["C1"], "must be a string."),
    ("sale_customer_id", True, "must be a string."),
    ("sale_phone_number", 1.5, "must be a string."),
    ("sale_email", "nobody", "must be an email address."),
    ("sale_currency", "EURO", "'EURO' is not an ISO 4217 currency code."),
    ("sale_currency", 978, "must be an ISO 4217 currency code, e.g. 'EUR'."),
    ("sale_exchange_rate", 0, "must be between 0.00000001 and 100000000."),
    ("sale_exchange_rate", 1e-30, "must be between 0.00000001 and 100000000."),
    ("sale_exchange_rate", 5e-324, "must be between 0.00000001 and 100000000."),
    ("sale_exchange_rate", 1e9, "must be between 0.00000001 and 100000000."),
    ("sale_date", "9999-12-31T23:00:00-05:00", RANGE),
    ("sale_date", "0001-01-01T00:00:00+14:00", RANGE),
    ("sale_date", "1969-12-31T23:59:59Z", RANGE),
    ("sale_date", "2201-01-01", RANGE),
    ("sale_exchange_rate", "fast", "must be a number."),
    ("sale_exchange_rate", "NaN", "must be a finite number."),
    ("sale_discount", 1.5, "must be a whole number of minor units (cents): 5.00 EUR is 500."),
    ("sale_discount", "ten", "must be a number."),
    ("sale_payment_method", {"card": True}, "must be a string."),
    ("sale_shipping", True, "must be a number."),
    ("sale_shipping_in_currency", [1], "must be a number."),
    ("sale_coupon_codes", "XMAS", "must be a list of strings."),
    ("sale_coupon_codes", [1, 2], "must be a list of strings."),
    ("sale_shipping_method", [], "must be a string."),
    ("sale_shop_id", {}, "must be a string."),
    ("sale_state", "SHIPPED", "must be one of NEW, PENDING_PAYMENT, HOLDED, PROCESSING, COMPLETE, CANCELLED, CLOSED."),
    ("sale_total", 10**15, "is too large."),
    ("sale_tags", "a,b", "must be a list of strings."),
    ("product_id", 1.5, "must be a string."),
    ("quantity", "1,5", "must be a number."),
    ("quantity", 10**11, "is too large."),
    ("quantity", 1.7976931348623157e308, "is too large."),
    ("unit_price", "12.50", "must be a whole number of minor units (cents): 5.00 EUR is 500."),
    ("external_id", ["1"], "must be a string."),
    ("product_sku", {"sku": 1}, "must be a string."),
    ("product_ean", "1" * 15, "must be at most 14 characters."),
    ("discount", "Infinity", "must be a finite number."),
    ("total", False, "must be a number."),
    ("unit_price_in_currency", "x", "must be a number."),
    ("tags", [["a"]], "must be a list of strings."),
    ("sale_external_id", "S\x001", "must not contain NUL (U+0000) characters."),
    ("external_id", "1\x00", "must not contain NUL (U+0000) characters."),
    ("sale_payment_method", "card\x00", "must not contain NUL (U+0000) characters."),
    ("sale_shop_id", "\x00", "must not contain NUL (U+0000) characters."),
    ("sale_tags", ["a", "b\x00"], "must not contain NUL (U+0000) characters."),
    ("tags", ["\x00"], "must not contain NUL (U+0000) characters."),
    ("ACME__sales_person", "Ann\x00", "must not contain NUL (U+0000) characters."),
    ("ACME__notes", {"k\x00": 1}, "must not contain NUL (U+0000) characters."),
    ("ACME__notes", {"k": [1, {"x": "\x00"}]}, "must not contain NUL (U+0000) characters."),
    # What the import command's JSON files can hold (the API's parser refuses them before).
    ("ACME__score", float("inf"), "must not contain a number out of a double's range (infinity, NaN)."),
    ("ACME__notes", {"k": [float("nan")]}, "must not contain a number out of a double's range (infinity, NaN)."),
    ("ACME__notes", {"k": "x\ud800"}, "must not contain a lone UTF-16 surrogate."),
]


def test_a_zone_less_date_that_leaves_the_range_in_utc_is_refused(project):
    project.time_zone = "America/New_York"
    project.save()
    found = problems(project, [row("OK"), row(sale_date="2200-12-31T22:00:00")])
    assert found == [(1, "sale_date", RANGE)]
    assert not Sale.objects.exists()


@pytest.mark.parametrize(("name", "value", "message"), WRONG_TYPES)
def test_every_field_with_a_wrong_value_is_named_and_nothing_is_written(project, name, value, message):
    sent = row(**{name: value})

    found = problems(project, [row("OK"), sent])

    assert found == [(1, name, message)]
    assert not (Sale.objects.exists() or Product.objects.exists() or Customer.objects.exists())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"sale_external_id": None}, [(0, "sale_external_id", "Required on every row.")]),
        ({"quantity": None}, [(0, "quantity", "Required on a sale row.")]),
        ({"product_id": None}, [(0, "product_id", "Required: product_id, or product_sku or product_ean.")]),
        ({"unit_price": None},
         [(0, "unit_price", "Required (or unit_price_in_currency, or total, or the transaction's sale_total).")]),
        ({"sale_currency": "USD"}, [(0, "sale_exchange_rate", "Required with sale_currency.")]),
        ({"sale_exchange_rate": 1.1}, [(0, "sale_currency", "Required with sale_exchange_rate.")]),
        ({"unit_price": None, "unit_price_in_currency": 100},
         [(0, "unit_price_in_currency", "Needs sale_currency and sale_exchange_rate on the transaction.")]),
        ({"sale_shipping_in_currency": 100},
         [(0, "sale_shipping_in_currency", "Needs sale_currency and sale_exchange_rate on the transaction.")]),
        ({"sale_date": None}, [(0, "sale_date", "Required: transaction 'S1' is not in the ledger yet.")]),
    ],
)  # fmt: skip
def test_missing_and_paired_fields(project, fields, expected):
    assert problems(project, [row(**fields)]) == expected
    assert not Sale.objects.exists()


def test_a_row_id_twice_in_one_transaction_is_a_problem(project):
    found = problems(project, [row(external_id="1"), row(external_id="1")])

    assert found == [(1, "external_id", "Row '1' of transaction 'S1' is also row 0.")]


def test_problems_are_numbered_with_the_row_offset(project):
    with pytest.raises(UploadInvalid) as raised:
        sales_upload(project=project, rows=[row(), row(quantity="x")], row_offset=5000)

    assert raised.value.problems == [{"row": 5001, "field": "quantity", "message": "must be a number."}]


# Scale ----------------------------------------------------------------------------------------


def many_rows(count, *, prefix=""):
    """`count` rows: 3 rows per transaction, 50 products, a customer per transaction."""
    return [
        {"sale_external_id": f"{prefix}T{index // 3}", "sale_date": "2017-12-01", "sale_customer_id": f"C{index // 3}",
         "external_id": str(index % 3), "product_id": f"P{index % 50}", "quantity": 1, "unit_price": 100 + index}
        for index in range(count)
    ]  # fmt: skip


def queries(project, rows) -> int:
    with CaptureQueriesContext(connection) as captured:
        sales_upload(project=project, rows=rows)
    return len(captured)


def test_query_count_of_100_and_1000_rows_differs_only_by_batches(project):
    small_new = queries(project, many_rows(99))
    small_again = queries(project, many_rows(99))
    other = ProjectFactory()
    large_new = queries(other, many_rows(999))
    large_again = queries(other, many_rows(999))

    if connection.vendor == "postgresql":
        # Savepoint, lock, existing sales, customers (lookup, insert, lookup), products (lookup, their insert
        # and their stock rows' insert), sales and lines (one COPY each), the sale.created events' INSERT ...
        # SELECT, the upload record: the same for 99 and 999 rows.
        assert small_new == large_new <= 14
        assert small_again == large_again <= 8
    else:
        # SQLite caps the parameters of one statement, so its bulk inserts split into more batches.
        assert small_new <= 16  # two more: the events' sales and lines read back, the events' insert
        assert large_new <= 40
        assert (small_again, large_again) == (7, 7)


def test_updating_1000_rows_is_a_bounded_number_of_queries(project):
    sales_upload(project=project, rows=many_rows(999))
    changed = [{**item, "quantity": 2} for item in many_rows(999)]

    with CaptureQueriesContext(connection) as captured:
        upload = sales_upload(project=project, rows=changed)

    assert (upload.transactions_updated, upload.lines_updated) == (333, 999)
    # PostgreSQL: the 8 statements of an upload that changes nothing, then for the sales and for the lines
    # a staging table each (create, COPY, UPDATE ... FROM, drop), and the sale.updated events' insert,
    # however many rows change.
    assert len(captured) == 17 if connection.vendor == "postgresql" else len(captured) <= 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_the_same_new_transaction_make_one_sale(project):
    rows = [row(external_id=str(index), product_id=f"NEW-{index}") for index in range(3)]

    # The import command's way: each upload waits for the one running.
    def upload_waiting(index):
        return sales_upload_parsed(project=project, parsed=sale_rows_parse(project=project, rows=rows), wait=True)

    waiting = race(4, upload_waiting)

    assert all(not isinstance(result, Exception) for result in waiting), waiting
    assert sorted(result.transactions_created for result in waiting) == [0, 0, 0, 1]
    assert Sale.objects.count() == 1 and SaleLine.objects.count() == 3
    assert Product.objects.count() == 3 and Customer.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_project_run_one_at_a_time_and_the_others_are_told_at_once(project):
    rows = [row(external_id=str(index), product_id=f"NEW-{index}") for index in range(3)]

    # The API's way: an upload that finds another running is refused at once, never queued.
    results = race(4, lambda index: sales_upload(project=project, rows=rows))

    done = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, Exception)]
    assert all(isinstance(error, UploadRunning) for error in refused), refused
    assert done and sum(result.transactions_created for result in done) == 1
    assert Sale.objects.count() == 1 and SaleLine.objects.count() == 3


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [row(quantity=10**9, unit_price=10**14)],
            [(0, "total", "The row's amounts exceed 1,000,000,000,000,000 USD.")],
        ),
        (
            [row(unit_price=None, unit_price_in_currency=10**14, sale_currency="EUR", sale_exchange_rate="0.0000001")],
            [(0, "total", "The row's amounts exceed 1,000,000,000,000,000 USD.")],
        ),
        (
            [row(external_id=str(index), unit_price=10**15 - 1, quantity=60) for index in range(2)],
            [(0, "sale_total", "The transaction's total exceeds 1,000,000,000,000,000 USD.")],
        ),
    ],
)
def test_amounts_too_large_for_the_ledger_are_problems_and_nothing_is_written(project, rows, expected):
    assert problems(project, rows) == expected
    assert not (Sale.objects.exists() or Product.objects.exists() or Customer.objects.exists())


def test_no_rows_is_a_problem(project):
    assert problems(project, []) == [(None, "sales", "must contain at least one sale row.")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # The smallest rate accepted makes a large price in the sale currency too large for the ledger.
        (
            {"unit_price": None, "unit_price_in_currency": 10**14},
            (0, "total", "The row's amounts exceed 1,000,000,000,000,000 USD."),
        ),
        (
            {"sale_shipping_in_currency": 10**14},
            (0, "sale_shipping_in_currency", "Exceeds 1,000,000,000,000,000 USD."),
        ),
    ],
    ids=["unit price", "shipping"],
)
def test_an_amount_converted_past_the_ledgers_columns_is_refused_by_field(project, fields, expected):
    sent = row(sale_currency="EUR", sale_exchange_rate=0.00000001, **fields)
    assert problems(project, [{name: value for name, value in sent.items() if value is not None}]) == [expected]
    assert not Sale.objects.exists()
