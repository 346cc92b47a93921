"""Money arithmetic shared by every app: ISO 4217 currencies, minor units, one rounding rule."""

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

# Active ISO 4217 codes and their minor-unit exponent (number of decimals).
_EXPONENT_BY_EXCEPTION = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0,
    "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0,
    "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0,
    "XOF": 0, "XPF": 0,
}  # fmt: skip
_TWO_DECIMAL_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK
LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK
NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG
YER ZAR ZMW ZWG ZWL
"""
CURRENCY_EXPONENTS: dict[str, int] = {code: 2 for code in _TWO_DECIMAL_CODES.split()}
CURRENCY_EXPONENTS.update(_EXPONENT_BY_EXCEPTION)
CURRENCY_CODES = frozenset(CURRENCY_EXPONENTS)

# Exchange rates every dialect accepts, in units of one currency per unit of another: wide enough for
# any two currencies in use (one KWD buys millions of IRR), narrow enough that converting an amount
# the dialects accept stays far inside Decimal's precision (a rate of 1e-30 made 1 cent 1e28).
RATE_MIN = Decimal("0.00000001")
RATE_MAX = Decimal("100000000")
RATE_RANGE_MESSAGE = f"must be between {RATE_MIN:f} and {RATE_MAX:f}."
# Rounding works on amounts far past any column, so an amount too large is refused by the caller's
# check (naming the field) instead of failing here with InvalidOperation.
_ROUNDING = Context(prec=80, rounding=ROUND_HALF_UP)


# Each currency's minor unit as a Decimal (USD 0.01, JPY 1): a page quantizes every amount it shows.
_QUANTA = {code: Decimal(1).scaleb(-places) for code, places in CURRENCY_EXPONENTS.items()}


class UnknownCurrency(ValueError):
    """A code that is not an active ISO 4217 currency."""

    def __init__(self, code):
        self.code = code
        super().__init__(f"'{code}' is not an ISO 4217 currency code.")


def normalize_currency(code) -> str:
    """Return the upper-case ISO 4217 code, or raise UnknownCurrency."""
    normalized = str(code).strip().upper() if code is not None else ""
    if normalized not in CURRENCY_CODES:
        raise UnknownCurrency(code)
    return normalized


def exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    return CURRENCY_EXPONENTS[normalize_currency(currency)]


def quantize(amount, currency: str) -> Decimal:
    """Round an amount half-up to the currency's precision: the one rounding rule."""
    quantum = _QUANTA.get(currency) if isinstance(currency, str) else None
    return to_decimal(amount).quantize(quantum or _QUANTA[normalize_currency(currency)], context=_ROUNDING)


def from_minor(units, currency: str) -> Decimal:
    """Minor units (cents) to a Decimal amount: 1999 USD -> 19.99, 1437 JPY -> 1437."""
    return quantize(to_decimal(units).scaleb(-exponent(currency)), currency)


def to_minor(amount, currency: str) -> int:
    """A Decimal amount to whole minor units, half-up: 19.995 USD -> 2000."""
    return int(quantize(amount, currency).scaleb(exponent(currency)))


def to_decimal(value) -> Decimal:
    """Decimal from int, str or Decimal; floats go through their repr so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise InvalidOperation("a boolean is not an amount")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def convert(amount, *, rate, to_currency: str) -> Decimal:
    """Divide an amount by an exchange rate (units of the source per target unit), rounded."""
    return quantize(to_decimal(amount) / to_decimal(rate), to_currency)
