"""Properties of the money helpers for every ISO 4217 currency: minor units, rounding, totals."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.money import (
    CURRENCY_CODES,
    CURRENCY_EXPONENTS,
    UnknownCurrency,
    convert,
    exponent,
    from_minor,
    normalize_currency,
    quantize,
    to_minor,
)

currencies = st.sampled_from(sorted(CURRENCY_CODES))
minor_units = st.integers(min_value=-(10**15), max_value=10**15)
amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False)
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=6, allow_nan=False)


def unit(currency) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def test_every_exponent_in_use_is_covered():
    assert set(CURRENCY_EXPONENTS.values()) == {0, 2, 3, 4}


@given(currencies, minor_units)
def test_minor_units_round_trip(currency, units):
    amount = from_minor(units, currency)
    assert amount.as_tuple().exponent == -exponent(currency)
    assert to_minor(amount, currency) == units
    assert amount == Decimal(units) * unit(currency)


@given(currencies, amounts)
def test_quantize_rounds_half_up_to_the_currency_and_is_stable(currency, amount):
    rounded = quantize(amount, currency)
    assert rounded.as_tuple().exponent == -exponent(currency)
    assert abs(rounded - amount) <= unit(currency) / 2
    assert quantize(rounded, currency) == rounded
    assert from_minor(to_minor(amount, currency), currency) == rounded


@given(currencies, st.integers(min_value=-(10**9), max_value=10**9))
def test_exact_halves_round_away_from_zero(currency, units):
    half = (Decimal(units) + Decimal("0.5")) * unit(currency)
    expected = units + 1 if half > 0 else units
    assert to_minor(half, currency) == expected
    assert to_minor(-half, currency) == -expected


@given(currencies, st.lists(st.tuples(amounts, st.integers(min_value=1, max_value=1000)), min_size=1, max_size=50))
def test_a_total_equals_the_sum_of_its_rounded_lines(currency, lines):
    line_totals = [quantize(price * quantity, currency) for price, quantity in lines]
    total = sum(line_totals, Decimal(0))
    assert quantize(total, currency) == total
    assert to_minor(total, currency) == sum(to_minor(line, currency) for line in line_totals)


@given(currencies, amounts, rates)
def test_conversion_is_rounded_in_the_target_currency(currency, amount, rate):
    converted = convert(amount, rate=rate, to_currency=currency)
    assert converted.as_tuple().exponent == -exponent(currency)
    assert abs(converted - amount / rate) <= unit(currency) / 2
    assert convert(amount, rate=1, to_currency=currency) == quantize(amount, currency)


@given(currencies)
def test_codes_are_case_insensitive(currency):
    assert normalize_currency(f" {currency.lower()} ") == currency


@pytest.mark.parametrize("code", ["", "usd1", "XXX", "EURO", None])
def test_unknown_codes_are_refused(code):
    with pytest.raises(UnknownCurrency):
        normalize_currency(code)


def test_floats_are_read_through_their_repr():
    assert to_minor(0.1 + 0.2, "USD") == 30
    assert quantize(2.675, "USD") == Decimal("2.68")  # binary 2.67499999... would round down
