"""Exchange rates: the ECB reference rates shipped by migration, load_exchange_rates (our CSV, the ECB's XML
and zip, a file or a URL) and the rate-in-effect rule."""

import http.server
import io
import threading
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tracking import ecb
from tracking.models import ExchangeRate
from tracking.services import exchange_rate_on

pytestmark = pytest.mark.django_db

ECB_DAILY = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time='2026-11-27'>
      <Cube currency='USD' rate='1.25'/>
      <Cube currency='JPY' rate='187.5'/>
      <Cube currency='GBP' rate='0.875'/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""
ECB_HISTORY = ECB_DAILY.replace(b"<Cube>\n", b"<Cube>\n    <Cube time='2026-11-26'><Cube currency='USD' rate='1.6'/>"
                                             b"<Cube currency='SEK' rate='12'/></Cube>\n", 1)  # fmt: skip


def stored():
    return list(ExchangeRate.objects.order_by("currency", "effective_date").values_list(
        "currency", "rate", "effective_date"))  # fmt: skip


def load(tmp_path, content, name="rates.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = io.StringIO()
    call_command("load_exchange_rates", str(path), stdout=out)
    return out.getvalue().strip()


def test_a_fresh_database_has_the_ecb_reference_rates_of_the_bundled_package():
    latest = max(ecb.bundled_history())
    per_eur = ecb.bundled_history()[latest]
    eur = exchange_rate_on(currency="EUR", day=timezone.localdate())

    assert eur == ((1 / per_eur["USD"]).quantize(Decimal("1e-10")), latest)
    assert exchange_rate_on(currency="jpy", day=latest)[0] == (per_eur["JPY"] / per_eur["USD"]).quantize(
        Decimal("1e-10")
    )
    assert ExchangeRate.objects.filter(effective_date=latest).count() == len(per_eur)  # USD out, EUR in
    assert ExchangeRate.objects.order_by("effective_date").first().effective_date == date(2024, 1, 2)


@pytest.mark.usefixtures("no_rates")
def test_loads_our_csv_with_and_without_dates_and_a_header(tmp_path):
    message = load(tmp_path, "currency,rate,date\neur,0.92,2026-01-01\nJPY, 151.37\n\nEUR,0.9,2025-06-30\n")

    today = timezone.localdate()
    assert message == f"Loaded 3 exchange rate(s) from {tmp_path / 'rates.csv'}; 0 pending sale(s) converted."
    assert stored() == [
        ("EUR", Decimal("0.9"), date(2025, 6, 30)),
        ("EUR", Decimal("0.92"), date(2026, 1, 1)),
        ("JPY", Decimal("151.37"), today),
    ]
    assert exchange_rate_on(currency="eur", day=today) == (Decimal("0.92"), date(2026, 1, 1))
    assert exchange_rate_on(currency="eur", day=date(2025, 12, 31)) == (Decimal("0.9"), date(2025, 6, 30))
    assert exchange_rate_on(currency="eur", day=date(2025, 6, 29)) is None
    assert exchange_rate_on(currency="USD", day=today) == (Decimal(1), None)


@pytest.mark.usefixtures("no_rates")
def test_loads_the_ecb_daily_xml_as_units_per_dollar(tmp_path):
    message = load(tmp_path, ECB_DAILY, "eurofxref-daily.xml")

    assert message.startswith("Loaded 3 exchange rate(s) from ")
    assert stored() == [
        ("EUR", Decimal("0.8"), date(2026, 11, 27)),
        ("GBP", Decimal("0.7"), date(2026, 11, 27)),
        ("JPY", Decimal("150"), date(2026, 11, 27)),
    ]


@pytest.mark.usefixtures("no_rates")
def test_loads_the_ecb_history_xml_and_zip(tmp_path):
    load(tmp_path, ECB_HISTORY, "eurofxref-hist.xml")
    assert stored()[:3] == [
        ("EUR", Decimal("0.625"), date(2026, 11, 26)),
        ("EUR", Decimal("0.8"), date(2026, 11, 27)),
        ("GBP", Decimal("0.7"), date(2026, 11, 27)),
    ]
    assert ("SEK", Decimal("7.5"), date(2026, 11, 26)) in stored()

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("eurofxref-hist.csv", "Date,USD,JPY,CYP,\n2026-11-30,2,300,N/A,\n")
    load(tmp_path, archive.getvalue(), "eurofxref-hist.zip")
    assert ("JPY", Decimal("150"), date(2026, 11, 30)) in stored()
    assert not ExchangeRate.objects.filter(currency="CYP").exists()  # the ECB's history has retired codes


@pytest.mark.usefixtures("no_rates")
def test_the_bundled_history_loads_whole(tmp_path):
    out = io.StringIO()
    call_command("load_exchange_rates", "--bundled", stdout=out)

    assert ExchangeRate.objects.order_by("effective_date").first().effective_date == date(1999, 1, 4)
    assert f"exchange rate(s) from {ecb.SOURCE} in eurofxref-hist.zip" in out.getvalue()


@pytest.mark.usefixtures("no_rates")
def test_loads_from_a_url(tmp_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(ECB_DAILY)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = io.StringIO()
        call_command("load_exchange_rates", f"http://127.0.0.1:{server.server_port}/eurofxref-daily.xml", stdout=out)
    finally:
        server.shutdown()
    assert ExchangeRate.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"<Envelope/>", "no <Cube time='...'> element with rates: not an ECB eurofxref file"),
        (b"<Envelope", "not well-formed XML (unclosed token: line 1, column 0)"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "XML with a DTD is refused"),
        (ECB_DAILY.replace(b"rate='0.875'", b"rate='-1'"), "GBP: rate '-1' is not a positive number"),
        (b"PK not really", "not a readable zip file (File is not a zip file)"),
        (
            ECB_DAILY.replace(b"rate='187.5'", b"rate='250000000'"),
            "JPY of 2026-11-27: rate 200000000.0000000000 per USD must be between 0.00000001 and 100000000.",
        ),
    ],
)
def test_a_bad_ecb_file_loads_nothing(tmp_path, content, error):
    before = ExchangeRate.objects.count()
    with pytest.raises(CommandError) as raised:
        load(tmp_path, content, "eurofxref.xml")
    assert str(raised.value) == f"{tmp_path / 'eurofxref.xml'}: nothing loaded.\n{error}"
    assert ExchangeRate.objects.count() == before


@pytest.mark.usefixtures("no_rates")
def test_a_rate_for_the_same_currency_and_date_replaces_it(tmp_path):
    load(tmp_path, "EUR,0.92,2026-01-01\n")
    load(tmp_path, "EUR,0.95,2026-01-01\n")
    assert list(ExchangeRate.objects.values_list("rate", flat=True)) == [Decimal("0.95")]


@pytest.mark.usefixtures("no_rates")
def test_a_future_rate_does_not_apply_yet(tmp_path):
    today = timezone.localdate()
    load(tmp_path, f"EUR,0.92,2020-01-01\nEUR,5,{(today + timedelta(days=1)).isoformat()}\n")
    assert exchange_rate_on(currency="EUR", day=today) == (Decimal("0.92"), date(2020, 1, 1))


@pytest.mark.usefixtures("no_rates")
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


@pytest.mark.usefixtures("no_rates")
def test_a_currency_without_a_rate_has_none():
    assert exchange_rate_on(currency="sek", day=timezone.localdate()) is None
