"""Exchange rates the conversion tests load themselves."""

from decimal import Decimal

import pytest

from tracking.models import ExchangeRate
from tracking.services import exchange_rates_load


@pytest.fixture
def no_rates(db):
    """An empty rate table: the reference rates the migration shipped are removed."""
    ExchangeRate.objects.all().delete()


@pytest.fixture
def rates(no_rates):
    """Only 1 USD = 0.92 EUR = 151.37 JPY, and an older EUR rate that must not apply."""
    exchange_rates_load(
        rows=[
            ("EUR", Decimal("0.8"), "2020-01-01"),
            ("EUR", Decimal("0.92"), "2026-01-01"),
            ("JPY", Decimal("151.37"), "2026-01-01"),
        ]
    )
