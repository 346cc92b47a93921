"""The span of time a business record can carry, checked once a time is in UTC, as it is stored."""

from datetime import UTC, datetime

# Sales, POS transactions and conversions happen between these (UTC): wide enough for any ledger's
# history and plans, far inside what Python (years 1-9999) and PostgreSQL can hold in every zone.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
RANGE_MESSAGE = "must be between 1970-01-01T00:00:00Z and 2200-12-31T23:59:59Z once converted to UTC."


class OutOfRange(ValueError):
    """A time outside the business range; its message is the field's problem."""

    def __init__(self, message: str = RANGE_MESSAGE):
        super().__init__(message)


def business_time(value: datetime) -> datetime:
    """An aware `value` in UTC. Raises OutOfRange when it is outside 1970-2200 in UTC (or outside what
    Python holds: 9999-12-31T23:00:00-05:00 is in the year 10000)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise OutOfRange() from None
    if not EARLIEST <= utc <= LATEST:
        raise OutOfRange()
    return utc
