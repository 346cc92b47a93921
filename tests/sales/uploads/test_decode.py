"""The typed fast path (msgspec): the per-field parser's result, or None whenever the parser would have more to say."""

import json

import pytest

from bench.import_100k import generate
from sales.uploads.decode import sale_rows_convert, sale_rows_decode, sale_rows_read
from sales.uploads.parse import sale_rows_parse
from tests.sales.uploads.helpers import SECOND_EXAMPLE, UPLOAD_PATH

pytestmark = pytest.mark.django_db

ROW = {"sale_external_id": "S1", "sale_date": "2017-12-01T13:11:23", "sale_customer_id": "C1",
       "product_id": "P1", "quantity": 1.005, "unit_price": 1000}  # fmt: skip


def body(rows) -> bytes:
    return json.dumps({"sales": rows}).encode()


@pytest.mark.parametrize(
    "rows",
    [
        SECOND_EXAMPLE["sales"],
        list(generate(3_000)),
        [ROW, {**ROW, "external_id": "x", "quantity": "2.675", "discount": -250, "tags": ["a", "b", "a"]}],
        [{**ROW, "sale_currency": "usd", "sale_exchange_rate": 1.112, "unit_price_in_currency": 2080,
          "sale_state": " holded ", "sale_email": "a@example.com", "sale_tags": ["x"], "sale_total": 10}],
    ],
    ids=["second example", "3,000 generated rows", "quantities, discounts, tags", "currency, state, email"],
)  # fmt: skip
def test_well_formed_rows_give_exactly_what_the_per_field_parser_gives(project, rows):
    slow = sale_rows_parse(project=project, rows=json.loads(body(rows))["sales"])

    assert not slow.problems
    assert sale_rows_decode(project=project, body=body(rows)) == slow
    assert sale_rows_convert(project=project, rows=rows) == slow


@pytest.mark.parametrize(
    "change",
    [
        {"COMPANY__sales_person": "3"},  # company-specific fields: any name, any shape
        {"product_id": 123},  # a number where text is expected: the parser accepts it, as text
        {"product_id": "P\x00"},
        {"product_id": "P\ud800"},
        {"unit_price": 12.5},
        {"unit_price": "null"},
        {"unit_price": 10**15},
        {"quantity": True},
        {"quantity": float("inf")},
        {"sale_exchange_rate": 0},
        {"sale_date": "2017-13-01"},
        {"sale_date": "9999-12-31T23:59:59-05:00"},
        {"sale_state": "LOST"},
        {"sale_currency": "XXY"},
        {"sale_email": "nobody"},
        {"tags": "a"},
        {"external_id": ""},
        {"sale_customer_id": "C" * 101},
        {"whatever": 1},
    ],
)
def test_anything_unusual_falls_back_to_the_per_field_parser(project, change):
    rows = [ROW, {**ROW, **change}]

    assert sale_rows_convert(project=project, rows=rows) is None
    assert sale_rows_read(project=project, rows=rows) == sale_rows_parse(project=project, rows=rows)


def test_rows_the_ledger_cant_group_fall_back_too(project):
    conflicting = [ROW, {**ROW, "sale_customer_id": "C2"}]
    twice = [{**ROW, "external_id": "a"}, {**ROW, "external_id": "a"}]

    for rows in (conflicting, twice, [], [{**ROW, "quantity": None}]):
        assert sale_rows_convert(project=project, rows=rows) is None
        assert sale_rows_read(project=project, rows=rows).problems


def test_a_bad_row_in_ten_thousand_is_reported_with_every_problem_and_its_row(api_basic):
    rows = list(generate(10_000))
    rows[7_777] = {**rows[7_777], "quantity": "many", "unit_price": 1.5}
    rows[9_001] = {**rows[9_001], "sale_customer_id": None, "product_id": None}

    response = api_basic.post(UPLOAD_PATH, data=body(rows), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 7777, "field": "quantity", "message": "must be a number."},
        {"row": 7777, "field": "unit_price",
         "message": "must be a whole number of minor units (cents): 5.00 EUR is 500."},
        {"row": 9001, "field": "product_id", "message": "Required: product_id, or product_sku or product_ean."},
    ]  # fmt: skip
