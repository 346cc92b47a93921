"""What the database layer adds: prepared statements for the hottest reads, and reading back what PostgreSQL
holds but Python cannot.

Out-of-range times: one stored row must never fail a whole read. PostgreSQL stores a `timestamptz` or a
`date` past the year 9999 or before the year 1 (9999-12-31T23:00 at -05:00 is 10000-01-01T04:00 in UTC);
psycopg then refuses to load it and every list, export or admin page that meets the row fails. Input is
refused before that can happen (`salesledger.times`); a row stored earlier loads as the nearest time Python
can still shift into any zone (9999-12-31 or 0001-01-02, UTC), and `manage.py check_ledger` reports it with
its value as stored.
"""

from datetime import UTC, datetime

from django.db import connection
from psycopg import DataError
from psycopg.adapt import Loader
from psycopg.pq import Format

LATEST = datetime(9999, 12, 31, tzinfo=UTC)
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)


def _clamping(loader: type[Loader], *, latest, earliest) -> type[Loader]:
    """`loader`, but a value out of Python's range loads as `latest` or `earliest`.

    It wraps rather than subclasses: psycopg's C loaders cannot be subclassed.
    """

    class ClampingLoader(Loader):
        timezone = getattr(loader, "timezone", None)  # Django compares it to its connection's zone

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.inner = loader(oid, context)

        def load(self, data):
            try:
                return self.inner.load(data)
            except DataError:
                return earliest if bytes(data).endswith(b"BC") else latest

    return ClampingLoader


def clamp_out_of_range_times(sender, connection, **kwargs):
    """`connection_created` receiver: wrap the loaders Django set up for the new connection."""
    if connection.vendor != "postgresql":
        return
    adapters = connection.connection.adapters
    for name, latest, earliest in (("timestamptz", LATEST, EARLIEST), ("date", LATEST.date(), EARLIEST.date())):
        oid = adapters.types[name].oid
        loader = adapters.get_loader(oid, Format.TEXT)
        adapters.register_loader(name, _clamping(loader, latest=latest, earliest=earliest))


def execute_prepared(cursor, name: str, sql: str, params: list) -> None:
    """Run `sql` with `params` on `cursor`: on PostgreSQL as the session's prepared statement `name`, planned
    once per connection (salesledger/postgresql); SQLite keeps its compiled statements by itself. `name`
    begins with its app's table prefix (`apikeys_...`), as the statements it stands for name their tables."""
    if hasattr(connection, "execute_prepared"):
        connection.execute_prepared(cursor, name, sql, params)
    else:
        cursor.execute(sql, params)
