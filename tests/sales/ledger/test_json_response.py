"""`json_response` writes what DRF's JSONRenderer writes, byte for byte, with msgspec: text of every
character, and the numbers `json_number` makes of amounts, those Python writes with an exponent included."""

import random
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from sales.ledger.api.fields import json_number, json_response
from sales.ledger.models import Sale

EVERY_CHARACTER = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
EDGE_AMOUNTS = [
    "9999999999999999.9999", "-12345678901234567.5", "10000000000000000.5",  # past 1e16: 1e+16 in Python
    "0.00005", "0.00009999", "-0.0000001",  # under 1e-4: 5e-05
    "1000000000000000.0001", "0.0001", "12345678901.2345", "1299.99", "12500", "0", "-0.5", "1" + "0" * 30,
]  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        {"name": EVERY_CHARACTER, "lines": [None, True, False, "", {}]},
        {"separators": "\u2028 and \u2029", "quote": '"', "backslash": "\\"},
        {"amounts": [json_number(Decimal(amount)) for amount in EDGE_AMOUNTS]},
        {"total": json_number(Decimal("1e16") + Decimal("0.5")), "nested": {"": [json_number(Decimal("0.00001"))]}},
    ],
    ids=["every-character", "separators", "edge-amounts", "nested"],
)
def test_the_bytes_are_the_renderers(data):
    response = json_response(data)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render(data)


def test_random_amounts_are_the_renderers():
    rng = random.Random(7)
    amounts = [
        json_number(Decimal(rng.randrange(-(10**20), 10**20)).scaleb(-rng.choice([0, 1, 2, 4])))
        for _ in range(20_000)
    ]  # fmt: skip
    assert json_response({"amounts": amounts}, status=201).content == JSONRenderer().render({"amounts": amounts})


def test_an_object_msgspec_does_not_know_is_refused():
    with pytest.raises(TypeError, match="not Sale"):
        json_response({"sale": Sale()})


def test_an_amount_is_its_integer_when_whole_else_its_float():
    rng = random.Random(11)
    amounts = [Decimal(amount) for amount in EDGE_AMOUNTS]
    amounts += [Decimal(rng.randrange(-(10**20), 10**20)).scaleb(-rng.choice([0, 1, 2, 4])) for _ in range(20_000)]
    amounts += [Decimal("12500.0000"), Decimal("-0.0000"), Decimal("0.10"), Decimal("1E+3")]
    for amount in amounts:
        number = json_number(amount)
        if amount == amount.to_integral_value():
            assert type(number) is int and number == int(amount), amount
        else:
            assert isinstance(number, float) and float(number) == float(amount), amount
