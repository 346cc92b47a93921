"""`json_response` writes what DRF's JSONRenderer writes, byte for byte: msgspec where its text is the
same, DRF's renderer where msgspec would write a number otherwise."""

import random

import pytest
from rest_framework.renderers import JSONRenderer

from sales.ledger.api.fields import json_response

EVERY_CHARACTER = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)


@pytest.mark.parametrize(
    "data",
    [
        {"name": EVERY_CHARACTER, "total": 1299.99, "lines": [1, 2.5, None, True, False, -0.0001]},
        {"separators": "\u2028 and \u2029", "quote": '"', "backslash": "\\"},
        {"total": 1e16, "others": [1.5e16, -1e22, 1.7976931348623157e308]},  # Python: 1e+16, msgspec: 1e16
        {"total": 0.00005, "price": 1e-05},  # Python: 5e-05, msgspec: 0.00005
        {"name": "size:12e", "list": "[3e", "total": 12345678901.2345},  # text that looks like such a number
        {"big": 10**30, "small": -(10**30), "zero": 0, "empty": [], "nested": {"": {}}},
    ],
    ids=["every-character", "separators", "exponents", "small-floats", "look-alike-text", "integers"],
)
def test_the_bytes_are_the_renderers(data):
    response = json_response(data)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render(data)


def test_random_amounts_are_the_renderers():
    rng = random.Random(7)
    amounts = [round(rng.uniform(-1e15, 1e15), rng.choice([0, 1, 2, 4])) for _ in range(20_000)]
    assert json_response({"amounts": amounts}, status=201).content == JSONRenderer().render({"amounts": amounts})
