"""What the database layer adds: prepared statements for the hottest reads, reading back what PostgreSQL
holds but Python cannot, and ids and times written as text by the database.

Out-of-range times: one stored row must never fail a whole read. PostgreSQL stores a `timestamptz` or a
`date` past the year 9999 or before the year 1 (9999-12-31T23:00 at -05:00 is 10000-01-01T04:00 in UTC);
psycopg then refuses to load it and every list, export or admin page that meets the row fails. Input is
refused before that can happen (`salesledger.times`); a row stored earlier loads as the nearest time Python
can still shift into any zone (9999-12-31 or 0001-01-02, UTC), and `manage.py check_ledger` reports it with
its value as stored.

A read that only writes ids and times out as text can have the database write them (`uuid_text_sql`,
`utc_text_sql`): the same text as Python's, clamped times included, without loading a UUID or a datetime.
"""

import functools
import hashlib
from datetime import UTC, datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connection, connections
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


# A statement with more parameters is planned at each execution, not prepared: its planning is small beside
# the work of that many values, and the statements a connection keeps (each with its plan, in the server's
# memory for the session's life) stay few whatever lengths of lists clients send.
PREPARED_MAX_PARAMS = 64


def raw_prepared(model, name: str, sql: str, params: list) -> list:
    """The instances `model.objects.raw(sql, params)` yields, run as the prepared statement `name` (see
    `execute_prepared`; with more than PREPARED_MAX_PARAMS parameters, an ordinary query), the statement
    planned once per connection. Built as the ORM builds a raw query's (the model's fields by column, the
    database's converters, other columns set as attributes), but with what the ORM works out from the
    columns at every query worked out once per column list: that took longer than running the query."""
    database = connections[DEFAULT_DB_ALIAS]  # `connection` itself: a proxy that costs a lookup per use
    with database.cursor() as cursor:
        if len(params) > PREPARED_MAX_PARAMS:
            cursor.execute(sql, params)
            columns = tuple(column[0] for column in cursor.description)
        else:
            execute_prepared(cursor, name, sql, params)
            columns = _prepared_columns.get(sql) or _prepared_columns.setdefault(
                sql, tuple(column[0] for column in cursor.description)
            )
        rows = cursor.fetchall()
    names, positions, converters, annotations = _raw_loading(model, columns, DEFAULT_DB_ALIAS)
    instances = []
    for row in rows:
        if converters:
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, database)
                row[position] = value
        instance = model.from_db(DEFAULT_DB_ALIAS, names, [row[position] for position in positions])
        for column, position in annotations:
            setattr(instance, column, row[position])
        instances.append(instance)
    return instances


# The column names of each prepared statement's rows, read once: its text names them, and the driver's description
# builds an object per column at every run. As few as the texts prepared.
_prepared_columns: dict[str, tuple[str, ...]] = {}


@functools.cache
def _raw_loading(model, columns: tuple[str, ...], alias: str):
    """For rows of `columns`, what Django's RawModelIterable works out: the attnames of the model's fields among
    them and their positions, each column's converters (its backend's and its field's), and the other columns
    (set as attributes). Converters are called with the connection, so one list serves every thread."""
    database = connections[alias]
    convert = database.introspection.identifier_converter
    columns = [convert(column) for column in columns]
    by_column = {convert(field.column): field for field in model._meta.fields}
    loaded = [field for field in model._meta.fields if convert(field.column) in columns]
    if model._meta.pk not in loaded:
        raise FieldDoesNotExist("Raw query must include the primary key")
    converters = []
    for position, column in enumerate(columns):
        if (field := by_column.get(column)) is not None:
            expression = field.get_col(model._meta.db_table)
            functions = database.ops.get_db_converters(expression) + expression.get_db_converters(database)
            if functions:
                converters.append((position, (functions, expression)))
    return (
        [field.attname for field in loaded],
        [columns.index(convert(field.column)) for field in loaded],
        converters,
        [(column, position) for position, column in enumerate(columns) if column not in by_column],
    )


# The statements a session prepares, each with its plan in the server's memory for the session's life: past
# this many, `execute_prepared_text` plans further texts as they come.
PREPARED_SESSION_MAX = 128
# A sale's writes bind about 12 parameters per product and 30 for the sale and its event: those of a sale of up
# to 8 products are prepared.
PREPARED_TEXT_MAX_PARAMS = 2 * PREPARED_MAX_PARAMS


def execute_prepared_text(cursor, prefix: str, sql: str, params: list, *, most: int = PREPARED_SESSION_MAX) -> None:
    """Run `sql` as `execute_prepared` does, as the statement named `prefix` and a digest of its text: for
    statements composed per change (a sale's writes, whose text varies with its numbers of lines, stock rows
    and events), which no fixed name can stand for. Their texts are few: a session prepares at most
    PREPARED_SESSION_MAX statements, at most `most` of them named `prefix` (so that a statement whose text
    a client varies cannot take the others' places), each of at most PREPARED_TEXT_MAX_PARAMS parameters;
    others run as they come."""
    name = prefix + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()
    prepared = getattr(connection, "prepared_statements", ())
    if len(params) > PREPARED_TEXT_MAX_PARAMS or (
        name not in prepared
        and (len(prepared) >= PREPARED_SESSION_MAX or sum(other.startswith(prefix) for other in prepared) >= most)
    ):
        cursor.execute(sql, params)
    else:
        execute_prepared(cursor, name, sql, params)


def in_list_shape(values: list) -> list:
    """`values` with the last repeated up to the next power of two, for an `IN (...)` list of a
    prepared statement: the lists of a statement then come in a few lengths, each one statement prepared per
    connection (its length in its name), and `x IN (a, b, b)` means `x IN (a, b)`. Scalar parameters rather
    than one array: PostgreSQL estimates `= ANY($1)` at ten rows whatever it holds, so it never settles on
    the generic plan and plans the statement at every execution."""
    size = 1 << (len(values) - 1).bit_length()
    return [*values, *values[-1:] * (size - len(values))]


UTC_TEXT = "%Y-%m-%dT%H:%M:%SZ"
# strftime writes the years before 1000 without leading zeros on some platforms (glibc), with them on others.
_YEAR_PADDED = datetime(1, 1, 1).strftime("%Y") == "0001"


def utc_text_sql(column: str, *, vendor: str) -> str:
    """SQL, for a statement run with parameters, writing the time `column` (NULL stays NULL) as
    `loaded.astimezone(UTC).strftime(UTC_TEXT)` writes what Python loads from it (2026-03-07T14:30:00Z):
    the fraction of a second cut, a year before 1000 as strftime writes it, and on PostgreSQL a time
    Python cannot hold (past 9999, BC, infinite) as the time it loads clamped to (LATEST, EARLIEST;
    `-infinity` does not end with "BC")."""
    if vendor == "postgresql":
        year = "YYYY" if _YEAR_PADDED else "FMYYYY"
        return (
            f"CASE WHEN NOT isfinite({column}) OR {column} > '9999-12-31T23:59:59.999999Z' "
            f"THEN '{LATEST.strftime(UTC_TEXT)}' "
            f"WHEN {column} < '0001-01-01T00:00:00Z' THEN '{EARLIEST.strftime(UTC_TEXT)}' "
            f"""ELSE to_char({column} AT TIME ZONE 'UTC', '{year}-MM-DD"T"HH24:MI:SS"Z"') END"""
        )
    # SQLite holds Django's naive UTC text, 2026-03-07 14:30:00.250000, within Python's years. The %
    # are doubled, as in any statement run with parameters.
    year = f"strftime('%%Y', {column})" if _YEAR_PADDED else f"ltrim(strftime('%%Y', {column}), '0')"
    return f"{year} || strftime('-%%m-%%dT%%H:%%M:%%SZ', {column})"


def uuid_text_sql(column: str, *, vendor: str) -> str:
    """SQL for the UUID `column` (NULL stays NULL) as `str(uuid)` writes it: 8-4-4-4-12 lowercase hex digits
    (SQLite holds Django's 32 digits without hyphens)."""
    if vendor == "postgresql":
        return f"{column}::text"
    parts = [f"substr({column}, {start}, {length})" for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    return " || '-' || ".join(parts)
