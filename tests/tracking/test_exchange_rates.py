"""load_exchange_rates FILE and the latest-rate rule."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tracking.models import ExchangeRate
from tracking.services import MissingExchangeRate, exchange_rate_latest

pytestmark = pytest.mark.django_db


def load(tmp_path, text):
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    call_command("load_exchange_rates", str(path))


def test_loads_rates_with_and_without_dates_and_a_header(tmp_path):
    load(tmp_path, "currency,rate,date\neur,0.92,2026-01-01\nJPY, 151.37\n\nEUR,0.9,2025-06-30\n")

    today = timezone.localdate()
    assert list(ExchangeRate.objects.order_by("currency", "effective_date").values_list(
        "currency", "rate", "effective_date")) == [
        ("EUR", Decimal("0.9"), date(2025, 6, 30)),
        ("EUR", Decimal("0.92"), date(2026, 1, 1)),
        ("JPY", Decimal("151.37"), today),
    ]  # fmt: skip
    assert exchange_rate_latest(currency="eur") == Decimal("0.92")
    assert exchange_rate_latest(currency="USD") == Decimal(1)


def test_a_rate_for_the_same_currency_and_date_replaces_it(tmp_path):
    load(tmp_path, "EUR,0.92,2026-01-01\n")
    load(tmp_path, "EUR,0.95,2026-01-01\n")
    assert list(ExchangeRate.objects.values_list("rate", flat=True)) == [Decimal("0.95")]


def test_a_future_rate_does_not_apply_yet(tmp_path):
    tomorrow = timezone.localdate() + timedelta(days=1)
    load(tmp_path, f"EUR,0.92,2020-01-01\nEUR,5,{tomorrow.isoformat()}\n")
    assert exchange_rate_latest(currency="EUR") == Decimal("0.92")


def test_bad_lines_are_named_by_number_and_nothing_is_loaded(tmp_path):
    text = "\n".join([
        "EUR,0.92", "XYZ,1", "GBP,-1", "SEK,abc", "NOK,10,2026-13-01", "DKK", "CHF,0.00000000001", "JPY,150",
        "ISK,1000000000", "HUF,0.00000001234",
    ])  # fmt: skip
    with pytest.raises(CommandError) as raised:
        load(tmp_path, text)

    assert str(raised.value).split("\n")[1:] == [
        "line 2: 'XYZ' is not an ISO 4217 currency code.",
        "line 3: rate '-1' is not a positive number",
        "line 4: rate 'abc' is not a positive number",
        "line 5: date '2026-13-01' is not a YYYY-MM-DD date (month must be in 1..12)",
        "line 6: expected currency,rate[,date], got 1 columns",
        "line 7: rate '0.00000000001' must be between 0.00000001 and 100000000.",
        "line 9: rate '1000000000' must be between 0.00000001 and 100000000.",
        "line 10: rate '0.00000001234' has more than 10 decimals or is too big",
    ]
    assert ExchangeRate.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*nope.csv: No such file or directory."):
        call_command("load_exchange_rates", str(tmp_path / "nope.csv"))


def test_no_rate_for_a_currency_is_missing_exchange_rate():
    with pytest.raises(MissingExchangeRate) as raised:
        exchange_rate_latest(currency="sek")
    assert raised.value.status_code == 422
    assert raised.value.data == {"currency": "SEK"}
