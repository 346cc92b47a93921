"""The writes of one change in as few round trips to the database as it allows.

A service checks everything first (under its row locks) and then writes a few rows that do not read
each other: stock counters, movements, a sale, its event. `run_together` sends those INSERTs and
UPDATEs as one statement on PostgreSQL, each a data-modifying CTE of the last (one round trip, all
or nothing); SQLite has no data-modifying CTEs, so there they run one after another, in the same
transaction. The statements are plain SQL both databases read (`insert_sql` binds values as the
model's fields save them), so the only difference is how they are sent. On PostgreSQL the statement is
prepared once per connection for each text (`salesledger.db.execute_prepared_text`): planning one took
half as long as running it. A parameter of a prepared statement takes its type from its context, so one
whose context says nothing (a CASE's result) is cast.
"""

import functools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from salesledger.db import execute_prepared_text
from salesledger.errors import ServiceError

Statement = tuple[str, list]

# The table an INSERT or UPDATE writes.
_TARGET = re.compile(r'(?:INSERT INTO|UPDATE) "?(\w+)')


def insert_sql(model, rows: Sequence[dict], *, returning: str = "", where: str = "") -> Statement:
    """An INSERT of `rows` (dicts keyed by the model's attnames, all with the same keys), each value
    prepared as its field saves it (UUIDs, JSON and times differ between the databases). With `where` (an
    SQL condition; one row only), the row is inserted only when the condition holds."""
    names = tuple(rows[0])
    into, placeholders, fields = _insert_into(model, names)
    if where:
        [_] = rows
        # INSERT ... SELECT, not VALUES in a subquery: the values still take their columns' types.
        values = f"SELECT {placeholders} WHERE {where}"
    else:
        values = "VALUES " + ", ".join([f"({placeholders})"] * len(rows))
    pairs = list(zip(names, fields, strict=True))
    database = connections[DEFAULT_DB_ALIAS]  # `connection` itself: a proxy that costs a lookup per use, per value
    params = [field.get_db_prep_save(row[name], database) for row in rows for name, field in pairs]
    return (f"{into} {values} RETURNING {returning}" if returning else f"{into} {values}"), params


@functools.cache
def _insert_into(model, names: tuple[str, ...]) -> tuple[str, str, list]:
    """`INSERT INTO table (columns)` of the model's fields `names` (attnames), one row's placeholders, and the
    fields: composed once per model and names, not at every write."""
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns})", ", ".join(["%s"] * len(fields)), fields


def update_sql(model, pk, columns: dict) -> Statement:
    """An UPDATE of `columns` (attnames to values, prepared as their fields save them) of one row by primary key."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    database = connections[DEFAULT_DB_ALIAS]  # as in `insert_sql`
    params = [field.get_db_prep_save(value, database) for field, value in zip(fields, columns.values(), strict=True)]
    pk_field = model._meta.pk
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk_field.column)} = %s"
    return sql, [*params, pk_field.get_db_prep_save(pk, database)]


def run_together(statements: Sequence[Statement]) -> list[tuple]:
    """Run `statements` (INSERTs and UPDATEs that do not read each other's rows) as one change;
    returns the rows the last one returns (RETURNING), else []. On PostgreSQL each statement but the
    last is the CTE `write_<its index>`: one written for PostgreSQL alone may read what an earlier one
    returned (see `events_record_if_inserted`)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            *first, (last, last_params) = statements
            ctes = ", ".join(f"write_{index} AS ({sql})" for index, (sql, _) in enumerate(first))
            # Prepared (planning such a statement took half as long as running it), named after the table it
            # returns rows of, as prepared statements are (`events_event_write_<digest>`).
            table = _TARGET.match(last)
            execute_prepared_text(
                cursor, f"{table[1] if table else 'salesledger'}_write_", f"WITH {ctes} {last}" if first else last,
                [p for _, params in statements for p in params],
            )  # fmt: skip
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def checked_then_written() -> Iterator[None]:
    """A transaction (the caller's when there is one, without a savepoint: it costs no statement) for
    a service that locks and checks everything before its first write. A refusal (a ServiceError)
    raised by the checks leaves the caller's transaction as it was, usable; any other exception marks
    it for rollback, as `atomic` does. A refusal raised after a failed write must call
    `transaction.set_rollback(True)` first."""
    refusal = None
    with transaction.atomic(savepoint=False):
        try:
            yield
        except ServiceError as error:
            refusal = error
    if refusal is not None:
        raise refusal
