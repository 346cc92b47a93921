"""load_exchange_rates FILE: store exchange rates (units per 1 USD) from a `currency,rate[,date]` CSV."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tracking.services import InvalidExchangeRates, exchange_rates_from_csv, exchange_rates_load


class Command(BaseCommand):
    help = (
        "Load exchange rates from a CSV of currency,rate[,date] lines (rate = units of the currency per 1 USD; "
        "no date means today; a header line is allowed). A rate for an existing currency and date replaces it. "
        "A file with any bad line loads nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, encoding="utf-8", newline="") as lines:
                rows = exchange_rates_from_csv(lines=lines, today=timezone.localdate())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text.") from error
        except InvalidExchangeRates as error:
            raise CommandError("\n".join([f"{path}: nothing loaded.", *error.data["errors"]])) from error
        count = exchange_rates_load(rows=rows)
        self.stdout.write(self.style.SUCCESS(f"Loaded {count} exchange rate(s) from {path}."))
