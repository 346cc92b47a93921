"""Custobar-style uploads of sale rows: every row checked first, then whole transactions upserted in batches.

Rows with the same `sale_external_id` form one ledger sale (channel custobar). The document's money
is in minor units (cents) of a currency and is converted with that currency's exponent by
`salesledger.money`. The ledger keeps custobar sales in the project's currency (the document's
"default currency"); only the `*_in_currency` fields are in `sale_currency`, converted with
`amount / sale_exchange_rate`. Inventory stock is never touched: an upload describes sales
already made elsewhere.
"""

import re
import uuid
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from psycopg import sql

from inventory.models import Product
from sales.models import Sale, SaleChannel, SaleLine, SaleStatus
from sales.services import TRANSITIONS
from sales.upload_models import Upload
from salesledger.errors import Conflict, ServiceError
from salesledger.money import UnknownCurrency, convert, from_minor, normalize_currency, quantize, to_decimal
from tracking.services import customer_identity, customers_get_or_create

# The document's seven states, plus "CANCELED": its own best-practice section spells it that way.
STATE_STATUS = {
    "NEW": SaleStatus.PENDING,
    "PENDING_PAYMENT": SaleStatus.PENDING,
    "HOLDED": SaleStatus.PENDING,
    "PROCESSING": SaleStatus.CONFIRMED,
    "COMPLETE": SaleStatus.CONFIRMED,
    "CANCELLED": SaleStatus.CANCELLED,
    "CANCELED": SaleStatus.CANCELLED,
    "CLOSED": SaleStatus.CANCELLED,
}
DEFAULT_STATE = "COMPLETE"
BATCH_SIZE = 1000
LIST_FIELDS = frozenset({"sale_coupon_codes", "sale_tags", "tags"})
# Large enough for any real amount, small enough for the ledger's 20-digit columns.
MAX_MINOR_UNITS = 10**15
MAX_QUANTITY = Decimal(10**10)
# The ledger's amount columns hold 16 digits before the decimal point.
MAX_AMOUNT = Decimal(10**15)
_COMPANY_FIELD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*?__\w+$")
# pg_advisory_xact_lock's first key: the namespace of custobar upload locks (any constant int4).
_LOCK_NAMESPACE = 0x0C57


class UploadInvalid(ServiceError):
    """The upload is refused and nothing was written; `problems` lists every problem found.

    Each problem is `{"row": index or None, "field": name or None, "message": text}`.
    """

    code = "invalid_upload"

    def __init__(self, problems: list[dict]):
        self.problems = sorted(problems, key=lambda problem: -1 if problem["row"] is None else problem["row"])
        count = len(self.problems)
        super().__init__(
            f"The upload was rejected: {count} problem{'s' if count != 1 else ''} found; nothing was written.",
            errors=self.problems,
        )


class _Bad(ValueError):
    """A value that does not fit its field; the message is shown to the client."""


def _problem(row, field_name, message) -> dict:
    return {"row": row, "field": field_name, "message": message}


class _Problems(list):
    """Problems found so far, each a `_problem` dict."""

    def add(self, row, field_name, message) -> None:
        self.append(_problem(row, field_name, message))


# Field parsers: each takes the value as sent (JSON, or a CSV string) and returns it parsed.
# (Type tuples built once: `isinstance(value, int | str)` would build a union on every row.)
_TEXT_TYPES = (str, int)
# PostgreSQL text and jsonb cannot store U+0000: refused as the field's problem, not a 500 at the write.
_NUL = "\x00"
_NUL_MESSAGE = "must not contain NUL (U+0000) characters."
_NUMBER_TYPES = (int, float, str, Decimal)


def _text(max_length: int):
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, _TEXT_TYPES):
            raise _Bad("must be a string.")
        text = str(value)
        if len(text) > max_length:
            raise _Bad(f"must be at most {max_length} characters.")
        if _NUL in text:
            raise _Bad(_NUL_MESSAGE)
        return text

    return parse


def _number(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        raise _Bad("must be a number.")
    try:
        number = to_decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise _Bad("must be a number.") from None
    if not number.is_finite():
        raise _Bad("must be a finite number.")
    return number


def _money(value) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise _Bad("must be a whole number of minor units (cents): 5.00 EUR is 500.")
    if abs(number) >= MAX_MINOR_UNITS:
        raise _Bad("is too large.")
    return int(number)


def _quantity(value) -> Decimal:
    number = _number(value)
    # Checked before rounding: quantizing 1e308 to cents needs more digits than Decimal's context has.
    if abs(number) >= MAX_QUANTITY:
        raise _Bad("is too large.")
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rate(value) -> Decimal:
    rate = _number(value)
    if rate <= 0:
        raise _Bad("must be greater than 0.")
    return rate


def _currency(value) -> str:
    if not isinstance(value, str):
        raise _Bad("must be an ISO 4217 currency code, e.g. 'EUR'.")
    try:
        return normalize_currency(value)
    except UnknownCurrency as error:
        raise _Bad(str(error)) from None


def _strings(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Bad("must be a list of strings.")
    if any(_NUL in item for item in value):
        raise _Bad(_NUL_MESSAGE)
    return list(dict.fromkeys(value))  # a set, in the order sent


def _company_value(value):
    """A PREFIX__field value is kept as sent, in any JSON shape, but jsonb can't hold a NUL anywhere in it."""
    if _holds_nul(value):
        raise _Bad(_NUL_MESSAGE)
    return value


def _holds_nul(value) -> bool:
    # A loop, not recursion: a value nested as deep as the JSON parser allows must not overflow the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _state(value) -> str:
    if not isinstance(value, str) or value.strip().upper() not in STATE_STATUS:
        raise _Bad(f"must be one of {', '.join(name for name in STATE_STATUS if name != 'CANCELED')}.")
    return value.strip().upper()


def _email(value) -> str:
    email = _text(254)(value)
    try:
        validate_email(email)
    except ValidationError:
        raise _Bad("must be an email address.") from None
    return email


def _date(value) -> datetime:
    """A datetime, or a date (midnight); a naive one gets the project's zone later."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = parse_datetime(text)
            if parsed is None:
                day = parse_date(text)
                parsed = datetime.combine(day, time()) if day is not None else None
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    raise _Bad("must be a date or a datetime, e.g. 2017-08-28 or 2017-08-28T14:10:00Z.")


SALE_FIELDS = {
    "sale_date": _date,
    "sale_customer_id": _text(100),
    "sale_phone_number": _text(32),
    "sale_email": _email,
    "sale_currency": _currency,
    "sale_exchange_rate": _rate,
    "sale_discount": _money,
    "sale_payment_method": _text(200),
    "sale_shipping": _money,
    "sale_shipping_in_currency": _money,
    "sale_coupon_codes": _strings,
    "sale_shipping_method": _text(200),
    "sale_shop_id": _text(200),
    "sale_state": _state,
    "sale_total": _money,
    "sale_tags": _strings,
}
ROW_FIELDS = {
    "product_id": _text(200),
    "quantity": _quantity,
    "unit_price": _money,
    "external_id": _text(200),
    "product_sku": _text(100),
    "product_ean": _text(14),
    "discount": _money,
    "total": _money,
    "unit_price_in_currency": _money,
    "tags": _strings,
}
_PARSERS = {**SALE_FIELDS, **ROW_FIELDS}
_SALE_ID = _text(200)
# Transaction fields without a ledger column: kept in `Sale.extra` under their own names.
EXTRA_FIELDS = (
    "sale_currency",
    "sale_exchange_rate",
    "sale_payment_method",
    "sale_shipping_in_currency",
    "sale_coupon_codes",
    "sale_shipping_method",
    "sale_shop_id",
    "sale_tags",
    "sale_total",
)
CUSTOMER_FIELDS = {"sale_customer_id": "external_id", "sale_phone_number": "phone", "sale_email": "email"}


@dataclass(slots=True)
class _Row:
    """One sale row (a line) as sent, parsed."""

    row: int
    external_id: str | None
    product_id: str | None
    sku: str | None
    ean: str | None
    quantity: Decimal
    unit_price: int | None
    unit_price_in_currency: int | None
    discount: int
    total: int | None
    tags: list[str]


@dataclass(slots=True)
class _Transaction:
    """Every row of one `sale_external_id` in an upload, its transaction fields merged."""

    external_id: str
    first_row: int
    fields: dict[str, Any] = field(default_factory=dict)
    field_rows: dict[str, int] = field(default_factory=dict)
    rows: list[_Row] = field(default_factory=list)
    row_ids: dict[str, int] = field(default_factory=dict)
    # Fields sent with a bad value: already reported, so not reported missing as well.
    invalid: set[str] = field(default_factory=set)


def document_rows(document) -> list:
    """The rows of an upload body `{"sales": [row, ...]}`. Raises UploadInvalid for any other shape."""
    if not isinstance(document, dict) or "sales" not in document:
        raise UploadInvalid([_problem(None, "sales", 'The body must be a JSON object {"sales": [row, ...]}.')])
    rows = document["sales"]
    if not isinstance(rows, list):
        raise UploadInvalid([_problem(None, "sales", "must be a list of sale rows.")])
    return rows


@dataclass(frozen=True)
class ParsedRows:
    """Sale rows checked one by one (no database yet): their transactions and the problems found."""

    transactions: dict[str, _Transaction]
    problems: list[dict]
    count: int


def sale_rows_parse(*, project, rows: list, row_offset: int = 0) -> ParsedRows:
    """Check and group `rows` without touching the database (an import parses its next batch while
    the database writes the current one). `row_offset` numbers the rows in problems."""
    transactions, problems = _parse(rows, tzinfo=project.tzinfo, row_offset=row_offset)
    if not rows:
        problems.add(None, "sales", "must contain at least one sale row.")
    return ParsedRows(transactions=transactions, problems=problems, count=len(rows))


def sales_upload(*, project, rows: list, api_key=None, user=None, row_offset: int = 0) -> Upload:
    """Upsert the custobar sales that `rows` describe, in one transaction; returns the Upload record.

    Every row is checked before anything is written. Rows are grouped by `sale_external_id` into
    transactions; a transaction's `sale_*` fields may come on any of its rows. Products are matched
    by `product_id` (a product's external id), else by `product_sku` then `product_ean`, and created
    when unmatched; customers are matched or created through tracking. A row with an `external_id`
    updates that row of its sale; rows without one replace the sale's rows that have none; uploading
    the same rows again changes nothing. `row_offset` numbers the rows in problems (an import's batch).
    The queries are batched: their number does not grow with the number of rows, only with batches.

    Raises UploadInvalid (every problem, with its row index and field) and writes nothing when any row
    is invalid; Conflict when a concurrent request created one of the same products first (retry).
    """
    parsed = sale_rows_parse(project=project, rows=rows, row_offset=row_offset)
    return sales_upload_parsed(project=project, parsed=parsed, api_key=api_key, user=user)


def sales_upload_parsed(*, project, parsed: ParsedRows, api_key=None, user=None) -> Upload:
    """`sales_upload` of rows already parsed by `sale_rows_parse` for the same project; raises the same."""
    problems = _Problems(parsed.problems)
    try:
        with transaction.atomic():
            _lock_uploads(project)
            existing = _existing_sales(project, parsed.transactions)
            problems += _check(parsed.transactions, existing)
            if problems:
                raise UploadInvalid(problems)
            return _write(
                project=project, transactions=parsed.transactions, existing=existing, api_key=api_key, user=user,
                row_count=parsed.count,
            )  # fmt: skip
    except IntegrityError as error:
        raise Conflict(
            "Another request wrote the same products or sales at the same time; nothing was written: retry."
        ) from error


# Checking -------------------------------------------------------------------------------------


def _parse(rows, *, tzinfo, row_offset) -> tuple[dict[str, _Transaction], list[dict]]:
    problems = _Problems()
    transactions: dict[str, _Transaction] = {}
    for position, raw in enumerate(rows):
        index = row_offset + position
        if not isinstance(raw, dict):
            problems.add(index, None, "A sale row must be a JSON object.")
            continue
        sale_values, row_values, given, bad = {}, {}, set(), set()
        for name, value in raw.items():
            if value is None or value == "":
                continue  # Not given: integrations send null (and CSV files empty cells) for unset fields.
            parser = _PARSERS.get(name)
            if parser is None:
                if _COMPANY_FIELD.match(name):
                    try:
                        sale_values[name] = _company_value(value)
                    except _Bad as error:
                        bad.add(name)
                        problems.add(index, name, str(error))
                elif name != "sale_external_id":
                    bad.add(name)
                    problems.add(index, name, "Unknown field; company-specific fields are named PREFIX__field.")
                continue
            is_row_field = name in ROW_FIELDS
            if is_row_field:
                given.add(name)
            try:
                (row_values if is_row_field else sale_values)[name] = parser(value)
            except _Bad as error:
                bad.add(name)
                problems.add(index, name, str(error))
        sale_id = raw.get("sale_external_id")
        if sale_id is None or sale_id == "":
            problems.add(index, "sale_external_id", "Required on every row.")
            continue
        try:
            sale_id = _SALE_ID(sale_id)
        except _Bad as error:
            problems.add(index, "sale_external_id", str(error))
            continue
        if "sale_date" in sale_values and timezone.is_naive(sale_values["sale_date"]):
            sale_values["sale_date"] = timezone.make_aware(sale_values["sale_date"], tzinfo)
        txn = transactions.get(sale_id)
        if txn is None:
            txn = transactions[sale_id] = _Transaction(external_id=sale_id, first_row=index)
        txn.invalid |= bad
        for name, value in sale_values.items():
            if name in txn.fields and txn.fields[name] != value:
                problems.add(
                    index,
                    name,
                    f"Conflicts with row {txn.field_rows[name]} of transaction '{sale_id}', "
                    f"which says {_shown(txn.fields[name])}.",
                )
            else:
                txn.fields.setdefault(name, value)
                txn.field_rows.setdefault(name, index)
        if given:
            row = _row(index, row_values, given, bad, problems)
            if row is not None:
                if row.external_id is not None and row.external_id in txn.row_ids:
                    first = txn.row_ids[row.external_id]
                    problems.add(
                        index, "external_id", f"Row '{row.external_id}' of transaction '{sale_id}' is also row {first}."
                    )
                elif row.external_id is not None:
                    txn.row_ids[row.external_id] = index
                txn.rows.append(row)
    return transactions, problems


def _shown(value) -> str:
    return f"'{value.isoformat()}'" if isinstance(value, datetime) else repr(value)


def _row(index, values, given, bad, problems) -> _Row | None:
    """The line of a row that has row-level fields; None (with problems added) when it is incomplete."""
    ok = not (given & bad)
    if "quantity" not in given:
        problems.add(index, "quantity", "Required on a sale row.")
        ok = False
    if not given & {"product_id", "product_sku", "product_ean"}:
        problems.add(index, "product_id", "Required: product_id, or product_sku or product_ean.")
        ok = False
    if not ok:
        return None
    return _Row(
        row=index,
        external_id=values.get("external_id"),
        product_id=values.get("product_id"),
        sku=values.get("product_sku"),
        ean=values.get("product_ean"),
        quantity=values["quantity"],
        unit_price=values.get("unit_price"),
        unit_price_in_currency=values.get("unit_price_in_currency"),
        # The document: "both the positive and negative value is calculated towards a discount".
        discount=abs(values.get("discount", 0)),
        total=values.get("total"),
        tags=values.get("tags", []),
    )


def _lock_uploads(project) -> None:
    """Uploads of one project run one after the other (PostgreSQL), so two uploads of a new
    transaction cannot both create it; SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, project.pk % 2**31])


def _existing_sales(project, transactions) -> dict[str, Sale]:
    if not transactions:
        return {}
    sales = Sale.objects.filter(project=project, channel=SaleChannel.CUSTOBAR, external_id__in=list(transactions))
    return {sale.external_id: sale for sale in sales}


def _check(transactions: dict[str, _Transaction], existing: dict[str, Sale]) -> list[dict]:
    """Problems that need the whole transaction, or what the ledger already knows of it."""
    problems = _Problems()
    for sale_id, txn in transactions.items():
        fields, sale = txn.fields, existing.get(sale_id)
        sent = fields.keys() | txn.invalid
        known = sale.extra if sale is not None else {}
        has_currency = "sale_currency" in sent or known.get("sale_currency") is not None
        has_rate = "sale_exchange_rate" in sent or known.get("sale_exchange_rate") is not None
        if "sale_currency" in fields and not has_rate:
            problems.add(txn.field_rows["sale_currency"], "sale_exchange_rate", "Required with sale_currency.")
        if "sale_exchange_rate" in fields and not has_currency:
            problems.add(txn.field_rows["sale_exchange_rate"], "sale_currency", "Required with sale_exchange_rate.")
        in_currency = "Needs sale_currency and sale_exchange_rate on the transaction."
        if "sale_shipping_in_currency" in fields and not has_currency:
            problems.add(txn.field_rows["sale_shipping_in_currency"], "sale_shipping_in_currency", in_currency)
        for row in txn.rows:
            if row.unit_price is None and row.unit_price_in_currency is not None and not has_currency:
                problems.add(row.row, "unit_price_in_currency", in_currency)
            if (row.unit_price, row.unit_price_in_currency, row.total) == (None, None, None) and (
                "sale_total" not in sent
            ):
                problems.add(
                    row.row,
                    "unit_price",
                    "Required (or unit_price_in_currency, or total, or the transaction's sale_total).",
                )
        if sale is None:
            if "sale_date" not in sent:
                problems.add(txn.first_row, "sale_date", f"Required: transaction '{sale_id}' is not in the ledger yet.")
            if not sent & CUSTOMER_FIELDS.keys():
                problems.add(
                    txn.first_row,
                    "sale_customer_id",
                    f"Transaction '{sale_id}' is not in the ledger yet: identify its customer with "
                    "sale_customer_id, sale_phone_number or sale_email.",
                )
        elif "sale_state" in fields:
            target = STATE_STATUS[fields["sale_state"]]
            if target != sale.status and (sale.status, target) not in TRANSITIONS:
                problems.add(
                    txn.field_rows["sale_state"],
                    "sale_state",
                    f"Transaction '{sale_id}' is {sale.status} ({sale.original_state or DEFAULT_STATE}) "
                    f"and cannot become {target} ({fields['sale_state']}).",
                )
    return problems


# Writing --------------------------------------------------------------------------------------

SALE_UPDATE_FIELDS = [
    "status",
    "original_state",
    "subtotal",
    "discount",
    "shipping",
    "total",
    "customer",
    "extra",
    "created_at",
    "confirmed_at",
    "cancelled_at",
]
LINE_UPDATE_FIELDS = ["product", "product_name", "quantity", "unit_price", "discount", "line_total", "tags"]


@dataclass(slots=True)
class ProductWanted:
    """A product a sale row names: its `product_id` (external id), sku, ean, and the price to create it with."""

    product_id: str | None
    sku: str | None
    ean: str | None
    price: Decimal


def synthetic_external_id(*, sku: str | None, ean: str | None) -> str:
    """The external id of a product created from a row without `product_id`: built from its sku, else its ean."""
    return f"sku:{sku}" if sku else f"ean:{ean}"


def products_get_or_create(*, project, wanted: list[ProductWanted]) -> tuple[list[Product], int]:
    """The product of each `wanted` row, in order, and how many were created; one lookup and one insert.

    A `product_id` matches a product's external id only; without it the sku, then the ean, then the
    synthetic external id match. Unmatched products are created with the row's details: a `product_id`,
    else the synthetic id (`sku:...`/`ean:...`), as external id and as name; the sku and ean unless
    another product has them. Rows later in `wanted` see products created for earlier ones. No stock
    is created or changed. Raises IntegrityError when a concurrent request inserted the same product.
    """
    external_ids, skus, eans = set(), set(), set()
    for item in wanted:
        external_ids.add(item.product_id or synthetic_external_id(sku=item.sku, ean=item.ean))
        if item.sku:
            skus.add(item.sku)
        if item.ean:
            eans.add(item.ean)
    by_external, by_sku, by_ean = {}, {}, {}
    found = Product.objects.filter(project=project).filter(
        Q(external_id__in=external_ids) | Q(sku__in=skus) | Q(ean__in=eans)
    )
    for product in found.only("id", "name", "sku", "ean", "external_id"):
        for index, key in ((by_external, product.external_id), (by_sku, product.sku), (by_ean, product.ean)):
            if key:
                index[key] = product
    created, products = [], []
    for item in wanted:
        if item.product_id:
            product = by_external.get(item.product_id)
        else:
            synthetic = synthetic_external_id(sku=item.sku, ean=item.ean)
            product = by_sku.get(item.sku) or by_ean.get(item.ean) or by_external.get(synthetic)
        if product is None:
            external_id = item.product_id or synthetic
            product = Product(
                project=project,
                name=external_id,
                external_id=external_id,
                sku=item.sku if item.sku and item.sku not in by_sku else None,
                ean=item.ean if item.ean and item.ean not in by_ean else None,
                price=max(item.price, Decimal(0)),
            )
            for index, key in ((by_external, product.external_id), (by_sku, product.sku), (by_ean, product.ean)):
                if key:
                    index[key] = product
            created.append(product)
        products.append(product)
    Product.objects.bulk_create(created, batch_size=BATCH_SIZE)
    return products, len(created)


@dataclass(slots=True)
class _Counts:
    transactions_created: int = 0
    transactions_updated: int = 0
    transactions_unchanged: int = 0
    lines_created: int = 0
    lines_updated: int = 0
    lines_deleted: int = 0


def _write(*, project, transactions, existing, api_key, user, row_count) -> Upload:
    currency = project.currency
    minor_unit = from_minor(1, currency)
    now = timezone.now()
    prices = {}
    wanted = []
    too_large = _Problems()
    for sale_id, txn in transactions.items():
        sale_currency, rate = _conversion(txn, existing.get(sale_id))
        for row in txn.rows:
            amounts = _amounts(row, currency=currency, minor_unit=minor_unit, sale_currency=sale_currency, rate=rate)
            prices[row.row] = amounts
            if any(abs(amount) >= MAX_AMOUNT for amount in amounts):
                too_large.add(row.row, "total", f"The row's amounts exceed {MAX_AMOUNT:,} {currency}.")
            wanted.append(ProductWanted(product_id=row.product_id, sku=row.sku, ean=row.ean, price=amounts[0]))
    if too_large:
        raise UploadInvalid(too_large)
    customers = _customers(project, transactions)
    products, products_created = products_get_or_create(project=project, wanted=wanted) if wanted else ([], 0)
    product_of = iter(products)
    lines_of = _lines_by_sale(existing.values())
    new_sale = {
        **_defaults(Sale),
        "project_id": project.pk,
        "channel": SaleChannel.CUSTOBAR,
        "currency": currency,
        "user_id": user.pk if user is not None else None,
        "api_key_id": api_key.pk if api_key is not None else None,
    }
    new_line = _defaults(SaleLine)

    counts = _Counts()
    new_sales, changed_sales, new_lines, changed_lines, deleted_lines = [], [], [], [], []
    for sale_id, txn in transactions.items():
        sale = existing.get(sale_id)
        sale_pk = sale.pk if sale is not None else uuid.uuid4()
        desired = [(row, next(product_of), *prices[row.row]) for row in txn.rows]
        subtotal, created, updated, deleted = _merge_lines(
            lines_of.get(sale_pk, []), desired, {**new_line, "sale_id": sale_pk}
        )
        lines_changed = bool(created or updated or deleted)
        values = _sale_values(
            txn, sale, currency=currency, customers=customers, subtotal=subtotal, lines_changed=lines_changed, now=now
        )
        if max(abs(values["subtotal"]), abs(values["total"])) >= MAX_AMOUNT:
            too_large.add(txn.first_row, "sale_total", f"The transaction's total exceeds {MAX_AMOUNT:,} {currency}.")
        if sale is None:
            new_sales.append({**new_sale, "id": sale_pk, "external_id": sale_id, **values})
            counts.transactions_created += 1
        elif lines_changed or any(getattr(sale, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(sale, name, value)
            changed_sales.append(sale)
            counts.transactions_updated += 1
        else:
            counts.transactions_unchanged += 1
        new_lines += created
        changed_lines += updated
        deleted_lines += deleted
    if too_large:
        raise UploadInvalid(too_large)  # Raised inside the upload's transaction: nothing stays written.
    counts.lines_created, counts.lines_updated, counts.lines_deleted = (
        len(new_lines),
        len(changed_lines),
        len(deleted_lines),
    )

    _insert(Sale, new_sales)
    if changed_sales:
        Sale.objects.bulk_update(changed_sales, SALE_UPDATE_FIELDS, batch_size=BATCH_SIZE)
    for start in range(0, len(deleted_lines), BATCH_SIZE * 10):
        SaleLine.objects.filter(pk__in=[line.pk for line in deleted_lines[start : start + BATCH_SIZE * 10]]).delete()
    _insert(SaleLine, new_lines)
    if changed_lines:
        SaleLine.objects.bulk_update(changed_lines, LINE_UPDATE_FIELDS, batch_size=BATCH_SIZE)
    return Upload.objects.create(
        project=project,
        user=user,
        api_key=api_key,
        created_at=now,
        rows=row_count,
        products_created=products_created,
        **{name: getattr(counts, name) for name in _Counts.__slots__},
    )


def _defaults(model) -> dict:
    """The column values a new row of `model` starts with (its auto primary key left to the database)."""
    return {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not isinstance(field, models.AutoField)
    }


def _insert(model, rows: list[dict]) -> None:
    """Insert rows given as {column attname: value}: one binary COPY on PostgreSQL (several times faster
    than INSERT for large uploads, with no model instance per row), else batched `bulk_create`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    columns = list(rows[0])
    values_of = itemgetter(*columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor:
        # The debug wrapper (tests, DEBUG) records the COPY like any other query, so query counts include it.
        debug_sql = getattr(cursor, "debug_sql", None)
        logged = debug_sql(statement.as_string(cursor.cursor)) if debug_sql is not None else nullcontext()
        with logged, cursor.cursor.copy(statement) as copy:
            # "numeric(20, 4)" -> "numeric": the binary format needs each column's type.
            copy.set_types([fields[name].db_type(connection).split("(")[0] for name in columns])
            for row in rows:
                copy.write_row(values_of(row))


def _customers(project, transactions) -> dict[str, Any]:
    """The customer of each transaction that identifies one, by sale external id (one batched call)."""
    identities = {}
    for sale_id, txn in transactions.items():
        identity = {key: txn.fields[name] for name, key in CUSTOMER_FIELDS.items() if name in txn.fields}
        if identity:
            identities[sale_id] = identity
    if not identities:
        return {}
    found = customers_get_or_create(project=project, identities=list(identities.values()))
    return {sale_id: found[customer_identity(identity)] for sale_id, identity in identities.items()}


def _conversion(txn: _Transaction, sale: Sale | None) -> tuple[str | None, Decimal | None]:
    """The transaction's sale currency and exchange rate: sent now, or known from an earlier upload."""
    known = sale.extra if sale is not None else {}
    rate = txn.fields.get("sale_exchange_rate")
    if rate is None and known.get("sale_exchange_rate") is not None:
        rate = Decimal(known["sale_exchange_rate"])
    return txn.fields.get("sale_currency", known.get("sale_currency")), rate


def _amounts(row: _Row, *, currency, minor_unit, sale_currency, rate) -> tuple[Decimal, Decimal, Decimal]:
    """(unit price, discount, row total) in the project's currency, defaults as the document says.

    `minor_unit` is `from_minor(1, currency)`: whole minor units times it are exact amounts, and only
    the computed total needs rounding.
    """
    if row.unit_price is not None:
        unit_price = row.unit_price * minor_unit
    elif row.unit_price_in_currency is not None:
        unit_price = convert(from_minor(row.unit_price_in_currency, sale_currency), rate=rate, to_currency=currency)
    elif row.total is not None and row.quantity:
        unit_price = quantize(row.total * minor_unit / row.quantity, currency)
    else:
        unit_price = Decimal(0)  # Priced by the transaction's sale_total only, as the document allows.
    discount = row.discount * minor_unit
    if row.total is not None:
        total = row.total * minor_unit
    else:
        total = quantize(unit_price * row.quantity - discount, currency)
    return unit_price, discount, total


def _lines_by_sale(sales) -> dict:
    sale_ids = [sale.pk for sale in sales]
    lines = defaultdict(list)
    if sale_ids:
        for line in SaleLine.objects.filter(sale_id__in=sale_ids).order_by("sale_id", "position", "id"):
            lines[line.sale_id].append(line)
    return lines


def _line_values(product, row: _Row, unit_price, discount, total) -> dict:
    return {
        "product_id": product.pk,
        "product_name": product.name,
        "quantity": row.quantity,
        "unit_price": unit_price,
        "discount": discount,
        "line_total": total,
        "tags": row.tags,
    }


def _differs(line: SaleLine, values: dict) -> bool:
    return any(getattr(line, name) != value for name, value in values.items())


def _merge_lines(old_lines: list[SaleLine], desired: list, new: dict) -> tuple[Decimal, list[dict], list, list]:
    """The sale's subtotal after the upload, the lines to create (`new` columns updated), to update and to delete.

    A row with an external id updates the line with that id (or adds it); the rows without one
    replace the lines without one, unless they are the same as before (a replayed upload).
    """
    by_id = {line.external_id: line for line in old_lines if line.external_id is not None}
    old_plain = [line for line in old_lines if line.external_id is None]
    plain = [_line_values(product, row, *amounts) for row, product, *amounts in desired if row.external_id is None]
    position = max((line.position for line in old_lines), default=-1) + 1
    created, updated = [], []
    totals = {}
    for row, product, *amounts in desired:
        if row.external_id is None:
            continue
        values = _line_values(product, row, *amounts)
        line = by_id.get(row.external_id)
        if line is None:
            created.append({**new, **values, "external_id": row.external_id, "position": position})
            position += 1
        elif _differs(line, values):
            for name, value in values.items():
                setattr(line, name, value)
            updated.append(line)
        totals[row.external_id] = values["line_total"]
    subtotal = sum((line.line_total for key, line in by_id.items() if key not in totals), Decimal(0))
    subtotal += sum(totals.values(), Decimal(0))
    deleted = []
    if plain and (len(plain) != len(old_plain) or any(map(_differs, old_plain, plain))):
        deleted = old_plain
        for values in plain:
            created.append({**new, **values, "position": position})
            position += 1
        subtotal += sum((values["line_total"] for values in plain), Decimal(0))
    else:
        subtotal += sum((line.line_total for line in old_plain), Decimal(0))
    return subtotal, created, updated, deleted


def _sale_values(txn, sale, *, currency, customers, subtotal, lines_changed, now) -> dict:
    """The sale's columns after the upload: what this upload sends, else what the ledger has."""
    fields = txn.fields
    known = dict(sale.extra) if sale is not None else {}
    known_customer = sale.customer_id if sale is not None else None
    extra = {**known, **{name: _json(fields[name]) for name in EXTRA_FIELDS if name in fields}}
    extra.update((name, value) for name, value in fields.items() if _COMPANY_FIELD.match(name))
    if "sale_total" not in fields and lines_changed:
        # A sale_total sent earlier described the earlier rows: the total follows the rows again.
        extra.pop("sale_total", None)
    sale_currency = extra.get("sale_currency")
    discount = _column(fields, "sale_discount", sale, "discount", currency)
    if "sale_shipping" in fields or "sale_shipping_in_currency" not in fields:
        shipping = _column(fields, "sale_shipping", sale, "shipping", currency)
    else:
        shipping = convert(
            from_minor(fields["sale_shipping_in_currency"], sale_currency),
            rate=Decimal(extra["sale_exchange_rate"]),
            to_currency=currency,
        )
    declared = extra.get("sale_total")
    total = from_minor(declared, currency) if declared is not None else quantize(subtotal - discount, currency)
    state = fields.get("sale_state", sale.original_state if sale is not None else "")
    status = STATE_STATUS[state or DEFAULT_STATE] if "sale_state" in fields or sale is None else sale.status
    values = {
        "status": status,
        "original_state": state,
        "subtotal": subtotal,
        "discount": discount,
        "shipping": shipping,
        "total": total,
        "customer_id": customers[txn.external_id].pk if txn.external_id in customers else known_customer,
        "extra": extra,
        "created_at": fields.get("sale_date", sale.created_at if sale is not None else None),
        "confirmed_at": sale.confirmed_at if sale is not None else None,
        "cancelled_at": sale.cancelled_at if sale is not None else None,
    }
    if sale is None or status != sale.status:
        if status == SaleStatus.CONFIRMED:
            values["confirmed_at"] = now
        elif status == SaleStatus.CANCELLED:
            values["cancelled_at"] = now
    return values


def _column(fields, name, sale, column, currency) -> Decimal:
    if name in fields:
        return from_minor(fields[name], currency)
    return getattr(sale, column) if sale is not None else Decimal(0)


def _json(value):
    return str(value) if isinstance(value, Decimal) else value
