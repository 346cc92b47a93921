"""Serializer fields the sales dialects share: strict input types, money and times as the documents show."""

import datetime
from decimal import Decimal

import msgspec
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from salesledger.db import UTC_TEXT


class _ExponentFloat(float):
    """A float whose shortest text has an exponent in Python (from 1e16, under 1e-4: `1e+16`, `5e-05`), where
    msgspec writes `1e16` and `0.00005`: `json_response` writes Python's text of it."""


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an integer when whole (12500), else its shortest float (1299.99).

    Amounts have at most 20 digits with 4 decimals; up to 15 significant digits the float's text is
    the decimal's exact digits, which covers every amount a sale carries.
    """
    # The exact fraction: both `int` and `/` of two ints round as float(value) does (correctly), and it
    # costs a third of comparing the value to its integral value and converting it.
    numerator, denominator = value.as_integer_ratio()
    if denominator == 1:
        return numerator
    number = numerator / denominator
    return number if 1e-4 <= abs(number) < 1e16 else _ExponentFloat(number)


def _python_text(value):
    if isinstance(value, _ExponentFloat):
        return msgspec.Raw(float.__repr__(value).encode())
    raise TypeError(f"json_response writes dicts, lists, text, numbers and None, not {type(value).__name__}")


_encode = msgspec.json.Encoder(enc_hook=_python_text).encode


def json_response(data, status: int = 200) -> HttpResponse:
    """`data` answered as DRF's JSONRenderer writes it, byte for byte, but encoded by msgspec: a tenth of
    the CPU of `json.dumps` for a page of sales. `data` holds dicts, lists, text, None, and numbers from
    `json_number` (msgspec would write a Decimal as a string). msgspec writes text as
    `json.dumps(ensure_ascii=False)` does; the renderer's escapes of U+2028 and U+2029 are added."""
    body = _encode(data).replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return HttpResponse(body, status=status, content_type=JSONRenderer.media_type)


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.DecimalField):
    """A Decimal read from a JSON number (not a string) and written back as a JSON number."""

    def __init__(self, *, positive: bool = False, max_digits: int = 20, decimal_places: int = 4, **kwargs):
        self.positive = positive
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if self.positive and value <= 0:
            raise serializers.ValidationError("Must be greater than 0.", code="min_value")
        return value

    def to_representation(self, value):
        return json_number(Decimal(value))


class StrictCharField(serializers.CharField):
    """A string, and only a string: a number where an id is expected is a type error, not an id."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string (DRF would also read an integer as a UUID)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A whole number given as a JSON number: not a string, not a boolean, not 2.5."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, nothing that merely looks like one ("yes", 1)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def utc_text(moment: datetime.datetime) -> str:
    """A time as the documents show it, what `UTCDateTimeField` writes: 2026-03-07T14:30:00Z."""
    return moment.astimezone(datetime.UTC).strftime(UTC_TEXT)


class UTCDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC with a `Z`, to the second: 2026-03-07T14:30:00Z (what `utc_text_sql` writes in SQL)."""

    def __init__(self, **kwargs):
        super().__init__(format=UTC_TEXT, default_timezone=datetime.UTC, **kwargs)
