"""Many rows of a model in one PostgreSQL statement: a COPY, or an INSERT bound as one JSON document.

psycopg's client-side binding (the project's cursors) quotes every parameter, and every element of an
array parameter, in Python, and splits the statement at each placeholder: for thousands of rows that
costs more than the insert itself. COPY sends the rows with psycopg's C dumpers and no model instance
per row (`rows_insert`); where the rows come from a SELECT, one JSON text parameter is quoted at once,
and PostgreSQL's `jsonb_to_recordset` turns it back into typed rows (`json_recordset`).
"""

from contextlib import nullcontext

import msgspec
from django.db import connection
from psycopg import sql
from psycopg.types.json import set_json_dumps

BATCH_SIZE = 1000


def rows_insert(model, names: list[str], rows: list[tuple], *, binary: bool = True) -> None:
    """Insert rows given as tuples of the values of `model`'s columns (attnames) `names`: one COPY on
    PostgreSQL, else batched `bulk_create`. A refused row (a foreign key, a unique key) raises Django's
    IntegrityError and writes none of them."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=BATCH_SIZE)
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    with connection.cursor() as cursor:
        copy_rows(cursor, model._meta.db_table, [fields[name] for name in names], rows, binary=binary)


def copy_rows(cursor, table: str, columns: list, rows, *, binary: bool = True) -> None:
    """One COPY of `rows` (sequences of values, in the order of the model fields `columns`) into `table`.

    Binary is the faster format, and needs each value as the Python type of its column's binary dumper
    (an `inet` column wants an `ipaddress` object); text takes the text of any value."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(field.column) for field in columns),
        sql.SQL(" (FORMAT BINARY)" if binary else ""),
    )
    # The debug wrapper (tests, DEBUG) records the COPY like any other query, so query counts include it.
    debug_sql = getattr(cursor, "debug_sql", None)
    logged = debug_sql(statement.as_string(cursor.cursor)) if debug_sql is not None else nullcontext()
    # JSON columns (a sale's extra, a line's tags) encoded by msgspec: several times faster than json.dumps.
    set_json_dumps(msgspec.json.encode, context=cursor.cursor)
    with connection.wrap_database_errors, logged, cursor.cursor.copy(statement) as copy:
        if binary:  # "numeric(20, 4)" -> "numeric": the binary format needs each column's type.
            copy.set_types([field.db_type(connection).split("(")[0] for field in columns])
        for row in rows:
            copy.write_row(row)


def json_recordset(model, names: list[str]) -> tuple[str, str]:
    """(the columns of `model`'s fields `names` (attnames) for an INSERT, a `SELECT` of them from the
    one parameter): bind a JSON array of objects keyed by those attnames."""
    fields = [model._meta.get_field(name) for name in names]  # (get_field knows attnames too)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    record = ", ".join(f"{quote(name)} {field.db_type(connection)}" for name, field in zip(names, fields, strict=True))
    return columns, f"SELECT * FROM jsonb_to_recordset(%s::jsonb) AS row({record})"
