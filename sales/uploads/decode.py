"""The upload's fast path: msgspec decodes well-formed custobar rows into typed structs in one pass.

Anything unusual (a field of the wrong type, an unknown or company-specific field, a value outside the
ordinary ranges, a problem of any kind) makes it answer None, and the caller runs the per-field parser
of `sales.uploads.parse`, which reports every problem with its row and field. So the fast path accepts
a subset of what the slow one accepts, with the same result: the fields whose rules have subtleties
(dates, quantities, currencies, exchange rates, emails, states) still go through the slow path's own
parsers, value by value, and rows are grouped by the same `_merge`.
"""

from typing import Annotated, Any

import msgspec

from sales.uploads.parse import (
    _PARSERS,
    MAX_MINOR_UNITS,
    ROW_FIELDS,
    ParsedRows,
    Problems,
    _Bad,
    _merge,
    sale_rows_parse,
)
from salesledger.collector import collector_paused

# Text without NUL (PostgreSQL refuses it) or lone surrogates (no encoding can write them).
_PLAIN = r"^[^\x00\ud800-\udfff]*$"


def _text(max_length: int):
    return Annotated[str, msgspec.Meta(min_length=1, max_length=max_length, pattern=_PLAIN)]


# Dates in these years only; the per-field parser decides about the others (and the ranges after UTC conversion).
_ORDINARY_YEARS = range(1900, 2200)
_Money = Annotated[int, msgspec.Meta(gt=-MAX_MINOR_UNITS, lt=MAX_MINOR_UNITS)]
_Strings = list[_text(10_000)]


class SaleRow(msgspec.Struct, forbid_unknown_fields=True):
    """One custobar row as the document lists its fields; `Any` fields go through the slow path's parser."""

    sale_external_id: _text(200)
    sale_date: Any = None
    sale_customer_id: _text(100) | None = None
    sale_phone_number: _text(32) | None = None
    sale_email: Any = None
    sale_currency: Any = None
    sale_exchange_rate: Any = None
    sale_discount: _Money | None = None
    sale_payment_method: _text(200) | None = None
    sale_shipping: _Money | None = None
    sale_shipping_in_currency: _Money | None = None
    sale_coupon_codes: _Strings | None = None
    sale_shipping_method: _text(200) | None = None
    sale_shop_id: _text(200) | None = None
    sale_state: Any = None
    sale_total: _Money | None = None
    sale_tags: _Strings | None = None
    product_id: _text(200) | None = None
    quantity: Any = None
    unit_price: _Money | None = None
    external_id: _text(200) | None = None
    product_sku: _text(100) | None = None
    product_ean: _text(14) | None = None
    discount: _Money | None = None
    total: _Money | None = None
    unit_price_in_currency: _Money | None = None
    tags: _Strings | None = None


class Document(msgspec.Struct):
    sales: list[SaleRow]


_FIELDS = SaleRow.__struct_fields__[1:]
_PARSED_AGAIN = frozenset(
    name for name in _FIELDS if SaleRow.__annotations__[name] is Any
)  # the fields whose slow parser runs on each value
_LISTS = frozenset({"sale_coupon_codes", "sale_tags", "tags"})
_DOCUMENT = msgspec.json.Decoder(Document)


def sale_rows_decode(*, project, body: bytes) -> ParsedRows | None:
    """The rows of an upload body `{"sales": [...]}` checked and grouped, or None (use the slow path)."""
    with collector_paused():
        try:
            rows = _DOCUMENT.decode(body).sales
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        return _parsed(rows, tzinfo=project.tzinfo, row_offset=0)


def sale_rows_convert(*, project, rows: list, row_offset: int = 0) -> ParsedRows | None:
    """`sale_rows_decode` of rows already read (a JSON or JSON-lines import's batch). Not for CSV cells:
    msgspec's lax mode, which reads numbers from text, also reads "null" as no value, where the
    per-field parser says the value is not a number."""
    try:
        typed = msgspec.convert(rows, list[SaleRow])
    except msgspec.ValidationError:
        return None
    return _parsed(typed, tzinfo=project.tzinfo, row_offset=row_offset)


def sale_rows_read(*, project, rows: list, row_offset: int = 0, typed: bool = True) -> ParsedRows:
    """`rows` checked and grouped: by `sale_rows_convert` when they are `typed` (JSON values, not CSV
    text) and well-formed, else by the per-field parser, which reports every problem."""
    with collector_paused():
        fast = sale_rows_convert(project=project, rows=rows, row_offset=row_offset) if typed else None
        return fast or sale_rows_parse(project=project, rows=rows, row_offset=row_offset)


def _parsed(rows: list[SaleRow], *, tzinfo, row_offset: int) -> ParsedRows | None:
    if not rows:
        return None
    problems = Problems()
    transactions = {}
    for position, row in enumerate(rows):
        index = row_offset + position
        sale_values, row_values, given = {}, {}, set()
        for name in _FIELDS:
            value = getattr(row, name)
            if value is None or value == "":
                continue
            if name in _PARSED_AGAIN:
                try:
                    value = _PARSERS[name](value)
                except _Bad:
                    return None
                if name == "sale_date" and value.year not in _ORDINARY_YEARS:
                    return None
            elif name in _LISTS:
                value = list(dict.fromkeys(value))
            if name in ROW_FIELDS:
                given.add(name)
                row_values[name] = value
            else:
                sale_values[name] = value
        _merge(transactions, problems, index, row.sale_external_id, sale_values, row_values, given, set(), tzinfo)
        if problems:
            return None
    return ParsedRows(transactions=transactions, problems=[], count=len(rows))
