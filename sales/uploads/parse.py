"""Custobar-style sale rows, checked and grouped without the database: every field parsed, every
problem reported with its row and field, rows grouped into transactions by `sale_external_id`.

Pure: `sale_rows_parse` only reads the project's time zone; `sales.uploads.services` writes what it
returns. The document's money is in minor units (cents) of a currency, converted with that currency's
exponent by `salesledger.money`.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from sales.ledger.models import SaleStatus
from salesledger.errors import ServiceError
from salesledger.money import RATE_MAX, RATE_MIN, RATE_RANGE_MESSAGE, UnknownCurrency, normalize_currency, to_decimal
from salesledger.times import OutOfRange, business_time

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
LIST_FIELDS = frozenset({"sale_coupon_codes", "sale_tags", "tags"})
# Large enough for any real amount, small enough for the ledger's 20-digit columns.
MAX_MINOR_UNITS = 10**15
MAX_QUANTITY = Decimal(10**10)
# The ledger's amount columns hold 16 digits before the decimal point.
MAX_AMOUNT = Decimal(10**15)
COMPANY_FIELD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*?__\w+$")


class UploadInvalid(ServiceError):
    """The upload is refused and nothing was written; `problems` lists every problem found.

    Each problem is `{"row": index or None, "field": name or None, "message": text}`.
    """

    code = "invalid_upload"

    def __init__(self, problems: list[dict]):
        problems = sorted(problems, key=lambda problem: -1 if problem["row"] is None else problem["row"])
        count = len(problems)
        super().__init__(
            f"The upload was rejected: {count} problem{'s' if count != 1 else ''} found; nothing was written.",
            problems=problems,
        )


class _Bad(ValueError):
    """A value that does not fit its field; the message is shown to the client."""


def problem(row, field_name, message) -> dict:
    return {"row": row, "field": field_name, "message": message}


class Problems(list):
    """Problems found so far, each a `problem` dict."""

    def add(self, row, field_name, message) -> None:
        self.append(problem(row, field_name, message))


# Field parsers: each takes the value as sent (JSON, or a CSV string) and returns it parsed.
# (Type tuples built once: `isinstance(value, int | str)` would build a union on every row.)
_TEXT_TYPES = (str, int)
# PostgreSQL text and jsonb cannot store U+0000: refused as the field's problem, not a 500 at the write.
_NUL = "\x00"
_NUL_MESSAGE = "must not contain NUL (U+0000) characters."
_NUMBER_TYPES = (int, float, str, Decimal)


def _storable(text: str) -> str:
    """`text` as a column can hold it: no NUL (PostgreSQL refuses it), no lone UTF-16 surrogate (no
    encoding can write it). The API's parser refuses surrogates already; the import's files come here."""
    if _NUL in text:
        raise _Bad(_NUL_MESSAGE)
    try:
        text.encode()
    except UnicodeEncodeError:
        raise _Bad("must not contain a lone UTF-16 surrogate.") from None
    return text


def _text(max_length: int):
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, _TEXT_TYPES):
            raise _Bad("must be a string.")
        text = str(value)
        if len(text) > max_length:
            raise _Bad(f"must be at most {max_length} characters.")
        return _storable(text)

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
    if not RATE_MIN <= rate <= RATE_MAX:
        raise _Bad(RATE_RANGE_MESSAGE)
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
    for item in value:
        _storable(item)
    return list(dict.fromkeys(value))  # a set, in the order sent


def _company_value(value):
    """A PREFIX__field value is kept as sent, in any JSON shape, as long as jsonb can hold it: no NUL,
    no lone surrogate, no number past a double (1e400 reads as infinity) anywhere in it. The API's
    parser refuses the last two already; the import command's files come here unchecked."""
    # A loop, not recursion: a value nested as deep as the JSON parser allows must not overflow the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _storable(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _Bad("must not contain a number out of a double's range (infinity, NaN).")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


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
class Row:
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
class Transaction:
    """Every row of one `sale_external_id` in an upload, its transaction fields merged."""

    external_id: str
    first_row: int
    fields: dict[str, Any] = field(default_factory=dict)
    field_rows: dict[str, int] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    row_ids: dict[str, int] = field(default_factory=dict)
    # Fields sent with a bad value: already reported, so not reported missing as well.
    invalid: set[str] = field(default_factory=set)


def document_rows(document) -> list:
    """The rows of an upload body `{"sales": [row, ...]}`. Raises UploadInvalid for any other shape."""
    if not isinstance(document, dict) or "sales" not in document:
        raise UploadInvalid([problem(None, "sales", 'The body must be a JSON object {"sales": [row, ...]}.')])
    rows = document["sales"]
    if not isinstance(rows, list):
        raise UploadInvalid([problem(None, "sales", "must be a list of sale rows.")])
    return rows


@dataclass(frozen=True)
class ParsedRows:
    """Sale rows checked one by one (no database yet): their transactions and the problems found."""

    transactions: dict[str, Transaction]
    problems: list[dict]
    count: int


def sale_rows_parse(*, project, rows: list, row_offset: int = 0) -> ParsedRows:
    """Check and group `rows` without touching the database (an import parses its next batch while
    the database writes the current one). `row_offset` numbers the rows in problems."""
    transactions, problems = _parse(rows, tzinfo=project.tzinfo, row_offset=row_offset)
    if not rows:
        problems.add(None, "sales", "must contain at least one sale row.")
    return ParsedRows(transactions=transactions, problems=problems, count=len(rows))


def _parse(rows, *, tzinfo, row_offset) -> tuple[dict[str, Transaction], list[dict]]:
    problems = Problems()
    transactions: dict[str, Transaction] = {}
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
                if COMPANY_FIELD.match(name):
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
        _merge(transactions, problems, index, sale_id, sale_values, row_values, given, bad, tzinfo)
    return transactions, problems


def _merge(transactions, problems, index, sale_id, sale_values, row_values, given, bad, tzinfo) -> None:
    """Add one parsed row to its transaction: its sale fields merged (a conflict is a problem), its line kept."""
    if "sale_date" in sale_values:
        date = sale_values["sale_date"]
        try:
            # Checked in UTC, as stored: a zone-less late date west of UTC can leave the range there.
            sale_values["sale_date"] = business_time(
                timezone.make_aware(date, tzinfo) if timezone.is_naive(date) else date
            )
        except OutOfRange as error:
            del sale_values["sale_date"]
            bad.add("sale_date")
            problems.add(index, "sale_date", str(error))
    txn = transactions.get(sale_id)
    if txn is None:
        txn = transactions[sale_id] = Transaction(external_id=sale_id, first_row=index)
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


def _shown(value) -> str:
    return f"'{value.isoformat()}'" if isinstance(value, datetime) else repr(value)


def _row(index, values, given, bad, problems) -> Row | None:
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
    return Row(
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
